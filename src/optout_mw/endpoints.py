"""The opt-out surface, sans-IO: request in, response out.

Serves the "Do Not Sell or Share My Personal Information" page and its POST handlers
(opt out; opt back in with a two-step, CSRF-protected confirmation), ``/.well-known/gpc.json``
and a JSON status endpoint; writes the choice back for ad tech (``usprivacy`` and GPP
cookies); builds the ``__uspapi``/``__gpp`` stub. The adapters translate to and from
WSGI/ASGI and call :class:`Surface`; nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, unquote

from itsdangerous import BadData, URLSafeSerializer

from .config import OptOutConfig
from .cookies import ChoiceCookieCodec, CookieReader, StoredChoice, build_set_cookie
from .decision import Decider, Decision
from .errors import ConfigError
from .signals import SignalKind, Verdict
from .stubs import StubBuilder, inline_script_permission, load_gpp_encoder, script_tag

logger = logging.getLogger("optout_mw")

#: The GPC support resource (W3C GPC §"The gpc.json well-known resource", RFC 8615).
GPC_JSON_PATH: Final = "/.well-known/gpc.json"
#: Salt separating opt-in confirmation tokens from every other use of the secret keys.
OPT_IN_SALT: Final = "optout_mw.opt-in-confirm"
#: Lifetime of an opt-in confirmation token, in seconds.
OPT_IN_TOKEN_MAX_AGE: Final = 600
#: A stored choice signed longer ago than this is re-signed on the next HTML response.
REFRESH_AFTER: Final = 24 * 3600
#: Suffix of the short-lived cookie binding an opt-in confirmation to one browser.
CONFIRM_COOKIE_SUFFIX: Final = "_confirm"

_ACTIONS: Final = frozenset({"opt-out", "opt-in", "opt-in-confirm"})
_MAX_FIELDS: Final = 16
_MAX_NEXT: Final = 2048
# Characters of an RFC 3986 path-absolute reference with query and fragment. Excludes
# backslash, whitespace, control and non-ASCII characters outright.
_NEXT_CHARS: Final = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/%?#]*")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")

_PORT: Final = re.compile(r":[0-9]{1,5}")

_PAGE_TITLE: Final = "Do Not Sell or Share My Personal Information"

#: Every ``$variable`` a page template may use (see docs/endpoints.md).
TEMPLATE_VARIABLES: Final = frozenset({
    "lang", "title", "heading", "page_kind", "main_html", "status_html", "about_html",
    "gpc_html", "optout_html", "optin_html", "status_text", "opted_out", "gpc",
    "signals_text", "opted_out_at", "page_path", "next", "message", "token",
})

_SIGNAL_TEXT: Final = {
    SignalKind.GPC: "your browser's Global Privacy Control (GPC) signal",
    SignalKind.SITE_CHOICE: "the choice you saved on this site",
    SignalKind.US_PRIVACY: "the IAB US Privacy string stored in your browser",
    SignalKind.GPP: "the IAB Global Privacy Platform (GPP) string stored in your browser",
}


@dataclass(frozen=True, slots=True)
class EndpointRequest:
    """One request to the opt-out surface, as the adapters hand it over."""

    #: Upper-case method.
    method: str
    path: str
    #: Raw query string, e.g. ``"next=%2Fshop"``.
    query: str
    #: Lower-case names; repeated fields joined with ``", "`` (``Cookie`` with ``"; "``).
    headers: Mapping[str, str]
    #: At most ``config.max_form_bytes`` bytes.
    body: bytes
    #: The client sent more than ``config.max_form_bytes`` bytes.
    body_too_large: bool
    #: ``"http"`` or ``"https"``.
    scheme: str


@dataclass(slots=True)
class EndpointResponse:
    """A complete response. ``headers`` always include ``Content-Type``,
    ``Content-Length`` and ``Cache-Control: no-store``; for ``HEAD`` the body is empty
    and ``Content-Length`` is that of the ``GET`` body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    #: The choice this response recorded, if any (for counters).
    event: ChoiceEvent | None = None

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive)."""
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name`` (e.g. all ``Set-Cookie`` values)."""
        lowered = name.lower()
        return [v for k, v in self.headers if k.lower() == lowered]


@dataclass(frozen=True, slots=True)
class ChoiceEvent:
    """One choice made on the opt-out surface, for the records California requires a
    business to keep for 24 months (11 CCR §7101): when, what, how. No IP address, no
    cookie value, nothing that identifies the visitor beyond what the site links itself."""

    #: When the request was made and answered (the answer is immediate), UTC.
    time: datetime
    #: The nature of the request.
    kind: Literal["opt-out", "opt-in"]
    #: The manner in which it was made: the HTML form or a JSON request.
    method: Literal["form", "json"]
    #: The path the request was sent to.
    path: str
    #: Kinds of the signals saying "opt out" on the request when the choice was made
    #: (e.g. ``("gpc",)``: an opt-in made while GPC is on does not override GPC).
    signals: tuple[str, ...]

    def log_fields(self) -> dict[str, object]:
        """The ``extra=`` fields of the log line (prefixed to avoid ``LogRecord`` clashes)."""
        return {
            "optout_event": "choice",
            "optout_choice": self.kind,
            "optout_method": self.method,
            "optout_path": self.path,
            "optout_signals": list(self.signals),
            "optout_time": self.time.isoformat(),
        }


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def safe_next(value: object) -> str | None:
    """``value`` if it is a same-site path to redirect to after a choice, else ``None``.

    Only a path-absolute reference starting with exactly one ``/`` is accepted: no scheme,
    no authority (``//host``, ``/\\host``), no backslash, whitespace or control character,
    and the same holds after percent-decoding (up to three levels), so ``/%2F%2Fevil.test``
    and ``/%09/evil.test`` (browsers drop tabs) are refused. Never an open redirect.
    """
    if not isinstance(value, str) or not value or len(value) > _MAX_NEXT:
        return None
    if not _NEXT_CHARS.fullmatch(value):
        return None
    candidate = value
    for _ in range(3):
        if candidate[1:2] in ("/", "\\") or _CONTROL.search(candidate):
            return None
        decoded = unquote(candidate, errors="replace")
        if decoded == candidate:
            break
        candidate = decoded
    else:
        # Still changing after three decodings: refuse rather than guess.
        return None
    if not candidate.startswith("/") or candidate[1:2] in ("/", "\\"):
        return None
    return value


def prefers_json(accept: str | None) -> bool:
    """Whether an ``Accept`` header ranks ``application/json`` above ``text/html``
    (RFC 9110 §12.5.1: the most specific matching range gives each type its weight)."""
    if not accept:
        return False
    best: dict[str, tuple[int, float]] = {}
    for item in accept.split(",")[:64]:
        media, *params = item.split(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params:
            key, _, raw = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(raw.strip())
                except ValueError:
                    quality = -1.0
        if not 0.0 <= quality <= 1.0:
            continue
        for target in ("application/json", "text/html"):
            kind = target.split("/")[0]
            if media == target:
                specificity = 2
            elif media == kind + "/*":
                specificity = 1
            elif media == "*/*":
                specificity = 0
            else:
                continue
            current = best.get(target)
            if current is None or specificity > current[0]:
                best[target] = (specificity, quality)
    json_q = best.get("application/json", (0, 0.0))[1]
    html_q = best.get("text/html", (0, 0.0))[1]
    return json_q > html_q


def _host_port(netloc: str, default_port: int) -> tuple[str, int] | None:
    netloc = netloc.strip().lower()
    if not netloc or any(c in netloc for c in "/\\@?# \t"):
        return None
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            return None
        host, rest = netloc[: end + 1], netloc[end + 1 :]
    else:
        host, sep, port_text = netloc.rpartition(":")
        if not sep:
            host, port_text = netloc, ""
        rest = sep + port_text
    if not rest:
        return host, default_port
    if not _PORT.fullmatch(rest):
        return None
    return host, int(rest[1:])


def cross_site_reason(headers: Mapping[str, str]) -> str | None:
    """Why a request must be treated as coming from another site, or ``None``.

    ``Sec-Fetch-Site`` must be ``same-origin`` or ``none`` (a sibling subdomain,
    ``same-site``, is refused too); an ``Origin`` header must name this host (``Host`` or
    the first ``X-Forwarded-Host``; browsers never let pages forge either on a cross-site
    request). An absent header is no evidence either way; the signed token still applies.
    """
    site = headers.get("sec-fetch-site")
    if site is not None and site.strip().lower() not in ("same-origin", "none"):
        return "the request was sent from another site"
    origin = headers.get("origin")
    if origin is None:
        return None
    origin = origin.strip()
    scheme, sep, netloc = origin.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        return "the request was sent from another site"
    default = 443 if scheme == "https" else 80
    origin_host = _host_port(netloc, default)
    candidates = [headers.get("host", "")]
    forwarded = headers.get("x-forwarded-host")
    if forwarded:
        candidates.append(forwarded.split(",")[0])
    for candidate in candidates:
        # A Host without a port stands for the Origin scheme's default port, so a site
        # behind a TLS-terminating proxy (Host "example.com", Origin "https://example.com")
        # passes while "https://example.com:8443" does not.
        if origin_host is not None and _host_port(candidate, default) == origin_host:
            return None
    return "the request was sent from another site"


def _parse_form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadRequest(400, "The form data is not valid UTF-8.") from None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict",
                          max_num_fields=_MAX_FIELDS)
    except UnicodeDecodeError:
        raise _BadRequest(400, "The form data contains invalid percent-encoding.") from None
    except ValueError:
        raise _BadRequest(400, "The form has too many fields.") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form and form[key] != value:
            raise _BadRequest(400, f"The form field {key!r} was sent twice.")
        form[key] = value
    return form


def _parse_json_body(body: bytes) -> dict[str, str]:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _BadRequest(400, "The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise _BadRequest(400, "The JSON request body must be an object.")
    form: dict[str, str] = {}
    for key in ("action", "next", "token"):
        value = payload.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _BadRequest(400, f"The JSON field {key!r} must be a string.")
        form[key] = value
    return form


def _query_next(query: str) -> str | None:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict",
                          max_num_fields=_MAX_FIELDS)
    except ValueError:  # includes UnicodeDecodeError
        return None
    for key, value in pairs:
        if key == "next":
            return safe_next(value)
    return None


def _media_type(headers: Mapping[str, str]) -> tuple[str, str | None]:
    raw = headers.get("content-type", "")
    media, *params = raw.split(";")
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.strip().lower(), charset


def _describe(kinds: Iterable[SignalKind]) -> str:
    texts = [_SIGNAL_TEXT[kind] for kind in dict.fromkeys(kinds) if kind in _SIGNAL_TEXT]
    if len(texts) <= 1:
        return "".join(texts)
    return ", ".join(texts[:-1]) + " and " + texts[-1]


def _capitalized(text: str, fallback: str) -> str:
    return text[:1].upper() + text[1:] if text else fallback


def _date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


class Surface:
    """The opt-out surface for one configuration. Stateless per request; build once.

    :raises ConfigError: when ``config.optout_page_template`` cannot be read or uses an
        unknown ``$variable``, or ``write_gpp`` is on and the GPP codec is missing.
    """

    __slots__ = (
        "_builtin_template", "_codec", "_confirm_cookie", "_decider", "_gpp_cache",
        "_gpp_encoder", "_paths", "_reader", "_stubs", "_template", "_token_signer",
        "_usp_in", "_usp_out", "config", "paths",
    )

    def __init__(self, config: OptOutConfig) -> None:
        self.config = config
        paths: dict[str, str] = {}
        if config.serve_gpc_json:
            paths[GPC_JSON_PATH] = "gpc"
        if config.status_path:
            paths[config.status_path] = "status"
        if config.optout_page_path:
            paths[config.optout_page_path] = "page"
        self._paths = paths
        #: The enabled endpoint paths, mapped to what each serves.
        self.paths: Mapping[str, str] = paths
        self._codec = (
            ChoiceCookieCodec(config.secret_keys, max_age=config.choice_cookie_max_age)
            if config.secret_keys and config.read_site_cookie
            else None
        )
        self._token_signer = (
            URLSafeSerializer(list(config.secret_keys), salt=OPT_IN_SALT)
            if config.secret_keys
            else None
        )
        self._decider = Decider(config)
        self._confirm_cookie = config.choice_cookie_name + CONFIRM_COOKIE_SUFFIX
        self._reader = CookieReader([config.choice_cookie_name, self._confirm_cookie])
        self._usp_out = "1" + config.us_privacy_notice + "Y" + config.us_privacy_lspa
        self._usp_in = "1" + config.us_privacy_notice + "N" + config.us_privacy_lspa
        self._gpp_encoder: Callable[[bool], tuple[str, str]] | None = (
            load_gpp_encoder() if config.write_gpp else None
        )
        self._gpp_cache: dict[bool, tuple[str, str]] = {}
        self._stubs = StubBuilder(config, self._gpp_encoder)
        self._builtin_template = config.optout_page_template is None
        self._template = _load_template(config.optout_page_template)
        if config.optout_page_path and self._codec is None and not (
            config.write_us_privacy or config.write_gpp
        ):
            logger.warning(
                "optout_mw: the opt-out page cannot record choices: turn on read_site_cookie "
                "(with secret_keys), write_us_privacy or write_gpp"
            )

    # --- routing ------------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        """Whether ``path`` is one of the enabled endpoints (one dict lookup)."""
        return path in self._paths

    def wants_body(self, method: str, path: str) -> bool:
        """Whether the adapter should read the request body (POST to the page only)."""
        return method == "POST" and self._paths.get(path) == "page"

    def handle(self, request: EndpointRequest, decision: Decision, now: float) -> EndpointResponse:
        """Answer one request to an enabled endpoint. Never raises for client input."""
        try:
            response = self._route(request, decision, now)
        except Exception:
            logger.exception("optout_mw: the opt-out surface failed on %s", request.path)
            response = self._error(request, 500, "Something went wrong on our side. "
                                   "Please try again.", None)
        if request.method == "HEAD":
            response.body = b""
        return response

    def _route(self, request: EndpointRequest, decision: Decision, now: float) -> EndpointResponse:
        kind = self._paths.get(request.path)
        if kind is None:
            return self._error(request, 404, "Not found.", None)
        if kind == "page":
            if request.method in ("GET", "HEAD"):
                return self._page(request, decision, now)
            if request.method == "POST":
                return self._post(request, decision, now)
            return self._error(request, 405, "This page accepts GET and POST requests only.",
                               None, allow="GET, HEAD, POST")
        if request.method not in ("GET", "HEAD"):
            return self._error(request, 405, "This resource accepts GET requests only.", None,
                               allow="GET, HEAD", as_json=True)
        if kind == "gpc":
            # W3C GPC: "gpc": true states the site abides by GPC; lastUpdate is a full-date.
            document: dict[str, Any] = {"gpc": True}
            if self.config.gpc_json_last_update is not None:
                document["lastUpdate"] = self.config.gpc_json_last_update
            return _json_response(200, document)
        return _json_response(200, decision.to_json(), vary=self.config.vary)

    # --- cookies ------------------------------------------------------------------------

    def _choice_cookie(self, choice: StoredChoice) -> str | None:
        if self._codec is None:
            return None
        return build_set_cookie(
            self.config.choice_cookie_name, self._codec.dumps(choice),
            max_age=self.config.choice_cookie_max_age, secure=self.config.cookie_secure,
            http_only=True, same_site="Lax",
        )

    def _script_cookie(self, name: str, value: str) -> str:
        # Not HttpOnly: CMPs and vendor scripts read these (USP API.md: "usprivacy" is where
        # "the API library can read it and write to it").
        return build_set_cookie(
            name, value, max_age=self.config.choice_cookie_max_age,
            secure=self.config.cookie_secure, http_only=False, same_site="Lax",
        )

    def _delete_cookie(self, name: str, *, path: str = "/", http_only: bool = False) -> str:
        return build_set_cookie(name, "", max_age=0, path=path,
                                secure=self.config.cookie_secure, http_only=http_only)

    def _gpp(self, gpc: bool) -> tuple[str, str]:
        found = self._gpp_cache.get(gpc)
        if found is None:
            assert self._gpp_encoder is not None
            found = self._gpp_cache[gpc] = self._gpp_encoder(gpc)
        return found

    def _gpp_cookies(self, gpc: bool) -> list[str]:
        gpp, sid = self._gpp(gpc)
        return [self._script_cookie(self.config.gpp_cookie, gpp),
                self._script_cookie(self.config.gpp_sid_cookie, sid)]

    def response_cookies(self, decision: Decision, now: float) -> list[str]:
        """``Set-Cookie`` values for an ordinary HTML response of the application.

        * Write-back: a visitor opted out by GPC or by the choice stored on this site gets
          the ``usprivacy`` opt-out (``write_us_privacy``) and the GPP opt-out cookies
          (``write_gpp``) unless the request's own cookies already say opted out, so
          downstream vendors that read them see the opt-out too (GPC explainer §5.3).
        * Refresh: a stored choice signed more than a day ago is re-signed (same choice,
          same ``made_at``), so an active visitor's choice never silently lapses.

        Not for responses from :meth:`handle`, which carry their own cookies.
        """
        if not decision.signals:
            return []
        cookies: list[str] = []
        config = self.config
        if not decision.sale_permitted and (config.write_us_privacy or config.write_gpp):
            kinds = decision.opted_out_by
            if SignalKind.GPC in kinds or SignalKind.SITE_CHOICE in kinds:
                if config.write_us_privacy and SignalKind.US_PRIVACY not in kinds:
                    cookies.append(self._script_cookie(config.us_privacy_cookie, self._usp_out))
                if config.write_gpp and SignalKind.GPP not in kinds:
                    cookies.extend(self._gpp_cookies(decision.gpc))
        stored = decision.stored_choice
        if stored is not None and now - stored.signed_at > REFRESH_AFTER:
            refreshed = self._choice_cookie(StoredChoice(stored.opted_out, stored.made_at))
            if refreshed is not None:
                cookies.append(refreshed)
        return cookies

    # --- stubs --------------------------------------------------------------------------

    def stub_script(self, decision: Decision, csp: str | None) -> bytes | None:
        """The inline ``<script>`` defining ``__uspapi`` (and ``__gpp`` with ``write_gpp``)
        for an opted-out visitor, or ``None`` (stubs off, visitor not opted out, or the
        page's ``Content-Security-Policy`` would block it: no nonce, no matching hash from
        :meth:`stub_hash`, no ``'unsafe-inline'``)."""
        if not self.config.inject_stubs or decision.sale_permitted:
            return None
        variant = self._stubs.variant(decision.gpc)
        allowed, nonce = inline_script_permission(csp, variant.source)
        if not allowed:
            logger.debug("optout_mw: stub not injected: the page's CSP blocks inline scripts")
            return None
        return script_tag(variant.text, nonce)

    def stub_hash(self) -> str:
        """The CSP source(s) allowing the stub, e.g. ``"'sha256-…'"``, to add to
        ``script-src`` of a site whose CSP uses neither nonces nor ``'unsafe-inline'``.
        With ``write_gpp`` there are two variants (the GPP string records GPC) and two
        space-separated sources."""
        return " ".join(self._stubs.sources())

    # --- the page -----------------------------------------------------------------------

    def _page(self, request: EndpointRequest, decision: Decision, now: float) -> EndpointResponse:
        next_path = _query_next(request.query)
        values = self._choices_values(decision, next_path)
        response = self._html(200, values)
        response.headers.extend(("Set-Cookie", c) for c in self.response_cookies(decision, now))
        return response

    def _can_opt_in(self, decision: Decision) -> bool:
        kinds = decision.opted_out_by
        return self._codec is not None and self._token_signer is not None and (
            SignalKind.SITE_CHOICE in kinds
            or (self.config.write_us_privacy and SignalKind.US_PRIVACY in kinds)
            or (self.config.write_gpp and SignalKind.GPP in kinds)
        )

    def _choices_values(self, decision: Decision, next_path: str | None) -> dict[str, str]:
        page = escape(self.config.optout_page_path)
        next_field = _next_field(next_path)
        kinds = decision.opted_out_by
        sources = _describe(kinds)
        stored = decision.stored_choice
        invalid_choice = any(
            s.kind is SignalKind.SITE_CHOICE and s.verdict is Verdict.INVALID
            for s in decision.signals
        )
        # §7025(c)(6): display whether the opt-out is being honoured.
        if decision.opted_out:
            because = (
                f"We are honouring your opt-out because of {escape(sources)}."
                if sources
                else "We could not read a privacy signal your browser sent, so we treat it "
                "as an opt-out to be safe."
            )
            status = (
                '<div class="status opted-out">'
                f'<p class="status-text">{escape(decision.status_text or "")}</p>'
                f"<p>{because} We do not sell or share your personal information, and we do "
                "not use it for cross-context behavioural (targeted) advertising.</p>"
            )
        else:
            status = (
                '<div class="status not-opted-out">'
                '<p class="status-text">You have not opted out</p>'
                "<p>We have not received an opt-out from this browser.</p>"
            )
        if stored is not None and not stored.opted_out:
            made = _date(datetime.fromtimestamp(stored.made_at, UTC))
            if decision.opted_out:
                status += (
                    f'<p class="note">On <time datetime="{made}">{made}</time> you chose on '
                    "this site to allow the sale or sharing of your personal information. "
                    f"{escape(_capitalized(sources, 'A privacy signal'))} still says to opt "
                    "out, and we honour it: an opt-out wins.</p>"
                )
            else:
                status += (
                    f'<p>On <time datetime="{made}">{made}</time> you chose on this site to '
                    "allow the sale or sharing of your personal information.</p>"
                )
        if invalid_choice:
            status += (
                "<p>We could not read a choice saved earlier on this site (it may have "
                "expired or been changed), so we ignore it.</p>"
            )
        status += "</div>"
        status_html = (
            '<section aria-labelledby="status-heading">'
            '<h2 id="status-heading">Your current choice</h2>' + status + "</section>"
        )
        about_html = (
            '<section aria-labelledby="about-heading">'
            '<h2 id="about-heading">What opting out means</h2>'
            "<p>When you opt out, we stop selling your personal information and stop sharing "
            "it for cross-context behavioural advertising (ads targeted at you based on your "
            "activity on other sites and apps).</p>"
            "<p>Opting out does not delete information we already hold, and it does not stop "
            "uses the law still allows, such as providing the service you asked for. "
            "Deletion is a separate request; see our privacy policy.</p>"
            "<p>Your choice applies to this browser. If you use other browsers or devices, "
            "make the choice there too.</p>"
            "</section>"
        )
        gpc_html = (
            '<section aria-labelledby="gpc-heading">'
            '<h2 id="gpc-heading">Global Privacy Control</h2>'
            "<p>This site honours the Global Privacy Control (GPC) signal as a valid request "
            "to opt out of the sale and sharing of personal information. If your browser "
            "sends it, you are opted out automatically and need to do nothing here.</p>"
            "</section>"
        )
        optout_html = ""
        if not (stored is not None and stored.opted_out):
            extra = (
                "<p>You are already opted out. You can also save the choice on this site, so "
                "it stays in effect even when the signal above is not sent.</p>"
                if decision.opted_out
                else ""
            )
            optout_html = (
                '<section aria-labelledby="optout-heading">'
                '<h2 id="optout-heading">Opt out of sale and sharing</h2>' + extra
                + f'<form method="post" action="{page}" aria-labelledby="optout-heading">'
                '<input type="hidden" name="action" value="opt-out">' + next_field
                + '<button type="submit">Do not sell or share my personal information</button>'
                "</form></section>"
            )
        optin_html = ""
        if self._can_opt_in(decision):
            since = ""
            if decision.opted_out_at is not None:
                made = _date(decision.opted_out_at)
                since = f' You opted out on <time datetime="{made}">{made}</time>.'
            gpc_note = ""
            if decision.gpc:
                gpc_note = (
                    '<p class="note">Your browser is sending a Global Privacy Control signal. '
                    "While it is on, we keep honouring it, even if you opt back in here. To "
                    "allow the sale or sharing of your personal information, turn Global "
                    "Privacy Control off in your browser as well.</p>"
                )
            optin_html = (
                '<section aria-labelledby="optin-heading">'
                '<h2 id="optin-heading">Changed your mind?</h2>'
                f"<p>You can allow the sale or sharing of your personal information again."
                f"{since} We will ask you to confirm.</p>" + gpc_note
                + f'<form method="post" action="{page}" aria-labelledby="optin-heading">'
                '<input type="hidden" name="action" value="opt-in">' + next_field
                + '<button type="submit" class="secondary">Allow sale or sharing again'
                "</button></form></section>"
            )
        values = self._base_values("choices", _PAGE_TITLE, decision, next_path)
        values.update(
            status_html=status_html, about_html=about_html, gpc_html=gpc_html,
            optout_html=optout_html, optin_html=optin_html,
            main_html=status_html + optout_html + about_html + gpc_html + optin_html,
        )
        return values

    def _base_values(
        self, kind: str, title: str, decision: Decision | None, next_path: str | None
    ) -> dict[str, str]:
        opted_out = decision is not None and decision.opted_out
        return {
            "lang": "en",
            "title": escape(title),
            "heading": escape(title),
            "page_kind": kind,
            "main_html": "",
            "status_html": "",
            "about_html": "",
            "gpc_html": "",
            "optout_html": "",
            "optin_html": "",
            "status_text": escape(decision.status_text or "") if decision else "",
            "opted_out": "true" if opted_out else "false",
            "gpc": "true" if decision is not None and decision.gpc else "false",
            "signals_text": escape(_describe(decision.opted_out_by)) if decision else "",
            "opted_out_at": (
                _date(decision.opted_out_at) if decision and decision.opted_out_at else ""
            ),
            "page_path": escape(self.config.optout_page_path),
            "next": escape(next_path or ""),
            "message": "",
            "token": "",
        }

    def _html(self, status: int, values: Mapping[str, str], *,
              allow: str | None = None) -> EndpointResponse:
        body = self._template.substitute(values).encode("utf-8")
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            # Never framed: a framed confirmation button could be clickjacked into an opt-in.
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "same-origin"),
            ("Content-Security-Policy", self._page_csp()),
            ("Vary", ", ".join(self.config.vary) or "Cookie"),
        ]
        if allow is not None:
            headers.append(("Allow", allow))
        return EndpointResponse(status, headers, body)

    def _page_csp(self) -> str:
        if self._builtin_template:
            # The built-in page needs nothing but its own inline style.
            return ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                    "frame-ancestors 'none'; base-uri 'none'")
        return "form-action 'self'; frame-ancestors 'none'"

    def _error(self, request: EndpointRequest, status: int, message: str,
               decision: Decision | None, *, allow: str | None = None,
               as_json: bool = False) -> EndpointResponse:
        if as_json or _wants_json(request):
            response = _json_response(status, {"ok": False, "error": message})
            if allow is not None:
                response.headers.append(("Allow", allow))
            return response
        titles = {400: "Request not understood", 403: "Request refused", 404: "Not found",
                  405: "Method not allowed", 413: "Request too large",
                  415: "Unsupported request format", 500: "Something went wrong"}
        title = titles.get(status, "Request refused")
        values = self._base_values("error", title, decision, None)
        page = escape(self.config.optout_page_path)
        back = f'<p><a href="{page}">Back to your privacy choices</a></p>' if page else ""
        values.update(
            message=escape(message),
            main_html=f'<p role="alert">{escape(message)}</p>' + back,
        )
        return self._html(status, values, allow=allow)

    # --- POST ---------------------------------------------------------------------------

    def _post(self, request: EndpointRequest, decision: Decision, now: float) -> EndpointResponse:
        if request.body_too_large:
            return self._error(request, 413, "The form data is too large.", decision)
        media, charset = _media_type(request.headers)
        is_json = media == "application/json"
        try:
            if charset not in (None, "utf-8", "us-ascii"):
                raise _BadRequest(415, "Send the form as UTF-8.")
            if is_json:
                form = _parse_json_body(request.body)
            elif media in ("", "application/x-www-form-urlencoded"):
                form = _parse_form(request.body)
            else:
                raise _BadRequest(
                    415, "Send the form as application/x-www-form-urlencoded or JSON."
                )
            action = form.get("action")
            if action is None or action == "":
                raise _BadRequest(400, "The form has no action: expected opt-out, opt-in or "
                                  "opt-in-confirm.")
            if action not in _ACTIONS:
                raise _BadRequest(400, "Unknown action: expected opt-out, opt-in or "
                                  "opt-in-confirm.")
        except _BadRequest as error:
            return self._error(request, error.status, error.message, decision)
        next_path = safe_next(form.get("next")) or _query_next(request.query)
        method: Literal["form", "json"] = "json" if is_json else "form"
        if action == "opt-out":
            return self._opt_out(request, decision, now, next_path, method)
        refusal = cross_site_reason(request.headers)
        if refusal is not None:
            return self._error(
                request, 403, f"Opting back in was refused: {refusal}. Only you can opt back "
                "in, from this site's own page.", decision)
        if self._codec is None or self._token_signer is None:
            return self._error(request, 403, "Opting back in is not available on this site.",
                               decision)
        if action == "opt-in":
            return self._opt_in_step(request, decision, now, next_path)
        return self._opt_in_confirm(request, decision, now, next_path, form.get("token"),
                                    method)

    def _opt_out(self, request: EndpointRequest, decision: Decision, now: float,
                 next_path: str | None, method: Literal["form", "json"]) -> EndpointResponse:
        # Opting out needs no token: a forged request can only lower risk (§7026: no more
        # than what is needed to process the request).
        config = self.config
        set_cookies: dict[str, str | None] = {}
        headers: list[str] = []
        choice = self._choice_cookie(StoredChoice(opted_out=True, made_at=int(now)))
        if choice is not None:
            headers.append(choice)
            set_cookies[config.choice_cookie_name] = _cookie_value(choice)
        if config.write_us_privacy:
            headers.append(self._script_cookie(config.us_privacy_cookie, self._usp_out))
            set_cookies[config.us_privacy_cookie] = self._usp_out
        if config.write_gpp:
            headers.extend(self._gpp_cookies(decision.gpc))
            gpp, sid = self._gpp(decision.gpc)
            set_cookies[config.gpp_cookie] = gpp
            set_cookies[config.gpp_sid_cookie] = sid
        event = self._record("opt-out", method, request.path, decision, now)
        response = self._done(request, decision, now, next_path, headers, set_cookies, "opt-out")
        response.event = event
        return response

    def _binding(self, request: EndpointRequest) -> tuple[str, str | None]:
        """The visitor's binding digest and its confirmation nonce (``None`` if absent)."""
        found = self._reader.read(request.headers.get("cookie", ""))
        choice_values = found.get(self.config.choice_cookie_name, [])
        nonces = found.get(self._confirm_cookie, [])
        nonce = nonces[0] if nonces else None
        return _digest(choice_values, nonce or ""), nonce

    def _opt_in_step(self, request: EndpointRequest, decision: Decision, now: float,
                     next_path: str | None) -> EndpointResponse:
        assert self._token_signer is not None
        found = self._reader.read(request.headers.get("cookie", ""))
        nonce = secrets.token_urlsafe(18)
        binding = _digest(found.get(self.config.choice_cookie_name, []), nonce)
        token = self._token_signer.dumps({"b": binding, "t": int(now)})
        # A per-browser random nonce in a short-lived cookie makes the token useless to any
        # other visitor, including one with no stored choice (double-submit pattern).
        confirm_cookie = build_set_cookie(
            self._confirm_cookie, nonce, max_age=OPT_IN_TOKEN_MAX_AGE,
            path=self.config.optout_page_path, secure=self.config.cookie_secure,
            http_only=True, same_site="Strict",
        )
        message = (
            "If you confirm, we may sell your personal information or share it for "
            "cross-context behavioural advertising."
        )
        if decision.gpc:
            message += (" Your browser is sending a Global Privacy Control signal; while it "
                        "is on we keep honouring it, so your confirmation takes effect only "
                        "when Global Privacy Control is off.")
        if _wants_json(request):
            response = _json_response(200, {
                "ok": True,
                "confirm": {"action": "opt-in-confirm", "token": token,
                            "expires_in": OPT_IN_TOKEN_MAX_AGE, "message": message},
            })
        else:
            response = self._html(200, self._confirm_values(decision, next_path, token))
        response.headers.append(("Set-Cookie", confirm_cookie))
        return response

    def _confirm_values(self, decision: Decision, next_path: str | None,
                        token: str) -> dict[str, str]:
        page = escape(self.config.optout_page_path)
        gpc_note = ""
        if decision.gpc:
            gpc_note = (
                '<p class="note"><strong>Your browser is sending a Global Privacy Control '
                "signal.</strong> While it is on, we keep honouring it: confirming here "
                "saves your choice on this site, but it takes effect only when you turn "
                "Global Privacy Control off.</p>"
            )
        others = [k for k in decision.opted_out_by
                  if k in (SignalKind.US_PRIVACY, SignalKind.GPP) and not (
                      (k is SignalKind.US_PRIVACY and self.config.write_us_privacy)
                      or (k is SignalKind.GPP and self.config.write_gpp))]
        if others:
            gpc_note += (
                f'<p class="note">{escape(_capitalized(_describe(others), ""))} also says '
                "to opt out, and we keep honouring it until it changes.</p>"
            )
        main = (
            '<p>You asked to allow the sale or sharing of your personal information again. '
            "If you confirm:</p><ul>"
            "<li>we may sell your personal information, or share it for cross-context "
            "behavioural advertising;</li>"
            "<li>advertising and analytics partners on this site may receive information "
            "about your visits;</li>"
            "<li>you can opt out again at any time on this page.</li></ul>" + gpc_note
            + f'<form method="post" action="{page}" aria-labelledby="confirm-button">'
            '<input type="hidden" name="action" value="opt-in-confirm">'
            f'<input type="hidden" name="token" value="{escape(token)}">'
            + _next_field(next_path)
            + '<button type="submit" id="confirm-button" class="secondary">Yes, allow sale '
            "or sharing</button></form>"
            f'<p><a href="{page}">No, keep my opt-out</a></p>'
            f"<p>This confirmation expires in {OPT_IN_TOKEN_MAX_AGE // 60} minutes.</p>"
        )
        values = self._base_values("confirm", "Confirm: allow sale or sharing", decision,
                                   next_path)
        values.update(main_html=main, token=escape(token))
        return values

    def _check_token(self, token: str | None, binding: str, now: float) -> str | None:
        assert self._token_signer is not None
        if not token:
            return "the confirmation is missing"
        if len(token) > 1024:
            return "the confirmation is not valid"
        try:
            payload = self._token_signer.loads(token)
        except BadData:
            return "the confirmation is not valid"
        if not isinstance(payload, dict):
            return "the confirmation is not valid"
        issued, bound = payload.get("t"), payload.get("b")
        if not isinstance(issued, int) or isinstance(issued, bool) or not isinstance(bound, str):
            return "the confirmation is not valid"
        if issued > now + 60:
            return "the confirmation is not valid"
        if now - issued > OPT_IN_TOKEN_MAX_AGE:
            return "the confirmation has expired"
        if not hmac.compare_digest(bound, binding):
            return "the confirmation was issued to another browser or your choice changed"
        return None

    def _opt_in_confirm(self, request: EndpointRequest, decision: Decision, now: float,
                        next_path: str | None, token: str | None,
                        method: Literal["form", "json"]) -> EndpointResponse:
        config = self.config
        binding, nonce = self._binding(request)
        problem = self._check_token(token, binding, now)
        if problem is not None and nonce is None and token:
            problem = "the confirmation cookie is missing (are cookies blocked?)"
        if problem is not None:
            return self._error(request, 403, f"Opting back in was refused: {problem}. Nothing "
                               "was changed; to opt back in, start again from this site's "
                               "privacy choices page.", decision)
        headers: list[str] = []
        set_cookies: dict[str, str | None] = {}
        choice = self._choice_cookie(StoredChoice(opted_out=False, made_at=int(now)))
        assert choice is not None
        headers.append(choice)
        set_cookies[config.choice_cookie_name] = _cookie_value(choice)
        # While GPC is on the decision keeps honouring it; writing "not opted out" for
        # vendors would contradict what the site actually does (§7025(c)(1)).
        if not decision.gpc:
            if config.write_us_privacy:
                headers.append(self._script_cookie(config.us_privacy_cookie, self._usp_in))
                set_cookies[config.us_privacy_cookie] = self._usp_in
            if config.write_gpp:
                headers.append(self._delete_cookie(config.gpp_cookie))
                headers.append(self._delete_cookie(config.gpp_sid_cookie))
                set_cookies[config.gpp_cookie] = None
                set_cookies[config.gpp_sid_cookie] = None
        headers.append(self._delete_cookie(self._confirm_cookie,
                                           path=config.optout_page_path, http_only=True))
        event = self._record("opt-in", method, request.path, decision, now)
        response = self._done(request, decision, now, next_path, headers, set_cookies, "opt-in")
        response.event = event
        return response

    def _done(self, request: EndpointRequest, decision: Decision, now: float,
              next_path: str | None, cookies: list[str], set_values: Mapping[str, str | None],
              choice: str) -> EndpointResponse:
        if _wants_json(request):
            projected = self._project(request, set_values, now)
            response = _json_response(
                200, {"ok": True, "choice": choice, "decision": projected.to_json()}
            )
        else:
            location = next_path or self.config.optout_page_path
            body = (f'<!DOCTYPE html><html lang="en"><title>Saved</title>'
                    f'<p>Your choice was saved. <a href="{escape(location)}">Continue</a></p>'
                    ).encode()
            response = EndpointResponse(303, [
                ("Location", location),
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ], body)
        response.headers.extend(("Set-Cookie", cookie) for cookie in cookies)
        return response

    def _project(self, request: EndpointRequest, set_values: Mapping[str, str | None],
                 now: float) -> Decision:
        """The decision as the next request will see it, once the cookies set replace the
        ones sent."""
        kept = [
            chunk for chunk in request.headers.get("cookie", "").split(";")
            if chunk.partition("=")[0].strip() not in set_values
        ]
        kept.extend(f"{name}={value}" for name, value in set_values.items() if value)
        gpc = request.headers.get("sec-gpc")
        return self._decider.decide(() if gpc is None else (gpc,), ";".join(kept), now)

    def _record(self, kind: Literal["opt-out", "opt-in"], method: Literal["form", "json"],
                path: str, decision: Decision, now: float) -> ChoiceEvent:
        event = ChoiceEvent(
            time=datetime.fromtimestamp(now, UTC), kind=kind, method=method, path=path,
            signals=tuple(str(k) for k in decision.opted_out_by),
        )
        logger.info("optout_mw: %s recorded (%s)", kind, method, extra=event.log_fields())
        hook = self.config.on_choice
        if hook is not None:
            try:
                hook(event)
            except Exception:
                # A failing records hook must never undo or block the visitor's choice.
                logger.exception("optout_mw: the on_choice hook raised")
        return event


def _wants_json(request: EndpointRequest) -> bool:
    return (_media_type(request.headers)[0] == "application/json"
            or prefers_json(request.headers.get("accept")))


def _json_response(status: int, document: Mapping[str, Any],
                   vary: tuple[str, ...] = ()) -> EndpointResponse:
    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode("ascii")
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    if vary:
        headers.append(("Vary", ", ".join(vary)))
    return EndpointResponse(status, headers, body)


def _next_field(next_path: str | None) -> str:
    if not next_path:
        return ""
    return f'<input type="hidden" name="next" value="{escape(next_path)}">'


def _digest(choice_values: list[str], nonce: str) -> str:
    material = "\x00".join([*choice_values, "", nonce]).encode("utf-8", "surrogatepass")
    return hashlib.sha256(material).hexdigest()[:32]


def _cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].partition("=")[2]


def _load_template(path: str | None) -> string.Template:
    if path is None:
        text = resources.files("optout_mw").joinpath("templates/optout_page.html").read_text(
            encoding="utf-8"
        )
        return string.Template(text)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError([("optout_page_template", f"cannot read {path!r}: {error}")]) from None
    template = string.Template(text)
    if not template.is_valid():
        raise ConfigError([("optout_page_template", f"{path!r} has a '$' that is not a "
                            "variable; write '$$' for a literal dollar sign")])
    unknown = sorted(set(template.get_identifiers()) - TEMPLATE_VARIABLES)
    if unknown:
        raise ConfigError([("optout_page_template", f"{path!r} uses unknown variable(s): "
                            + ", ".join("$" + name for name in unknown))])
    return template
