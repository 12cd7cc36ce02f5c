"""HTTP for the opt-out surface, sans-IO: the request and response the adapters exchange,
form and JSON bodies, the ``next`` redirect check, content negotiation and the cross-site
check. Nothing here knows what a page says or what a choice does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, unquote

from optout_mw.request import RequestView

if TYPE_CHECKING:  # the event type is defined by the flows, which import this module
    from .choices import ChoiceEvent

#: At most this many fields in a form or query; more is refused rather than parsed.
MAX_FIELDS: Final = 16
_MAX_NEXT: Final = 2048
# Characters of an RFC 3986 path-absolute reference with query and fragment. Excludes
# backslash, whitespace, control and non-ASCII characters outright.
_NEXT_CHARS: Final = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/%?#]*")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
_PORT: Final = re.compile(r":[0-9]{1,5}")
_CROSS_SITE: Final = "the request was sent from another site"


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

    @classmethod
    def from_view(cls, view: RequestView, body: bytes, body_too_large: bool) -> EndpointRequest:
        """The request as the adapters' view sees it, with the body they read."""
        headers: dict[str, str] = {}
        for name, value in view.headers():
            if name in headers:
                headers[name] += ("; " if name == "cookie" else ", ") + value
            else:
                headers[name] = value
        return cls(method=view.method.upper(), path=view.path, query=view.query,
                   headers=headers, body=body, body_too_large=body_too_large,
                   scheme=view.scheme)


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


class BadRequest(Exception):
    """A client error, answered with ``status`` and a message the visitor can read."""

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


def media_type(headers: Mapping[str, str]) -> tuple[str, str | None]:
    """The request body's lower-case media type and charset (``None`` when not given)."""
    raw = headers.get("content-type", "")
    media, *params = raw.split(";")
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.strip().lower(), charset


def wants_json(request: EndpointRequest) -> bool:
    """Whether to answer in JSON: a JSON body, or an ``Accept`` preferring JSON."""
    return (media_type(request.headers)[0] == "application/json"
            or prefers_json(request.headers.get("accept")))


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
        return _CROSS_SITE
    origin = headers.get("origin")
    if origin is None:
        return None
    scheme, sep, netloc = origin.strip().partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        return _CROSS_SITE
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
    return _CROSS_SITE


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` UTF-8 body; a field sent twice with two
    values is refused rather than guessed.

    :raises BadRequest: on anything else.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(400, "The form data is not valid UTF-8.") from None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict",
                          max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise BadRequest(400, "The form data contains invalid percent-encoding.") from None
    except ValueError:
        raise BadRequest(400, "The form has too many fields.") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form and form[key] != value:
            raise BadRequest(400, f"The form field {key!r} was sent twice.")
        form[key] = value
    return form


def parse_json_body(body: bytes, fields: tuple[str, ...]) -> dict[str, str]:
    """The string ``fields`` of a JSON object body; other members are ignored.

    :raises BadRequest: when the body is not a JSON object or a field is not a string.
    """
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest(400, "The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise BadRequest(400, "The JSON request body must be an object.")
    form: dict[str, str] = {}
    for key in fields:
        value = payload.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadRequest(400, f"The JSON field {key!r} must be a string.")
        form[key] = value
    return form


def query_next(query: str) -> str | None:
    """The validated ``next`` parameter of a query string, else ``None``."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict",
                          max_num_fields=MAX_FIELDS)
    except ValueError:  # includes UnicodeDecodeError
        return None
    for key, value in pairs:
        if key == "next":
            return safe_next(value)
    return None


def json_response(status: int, document: Mapping[str, Any],
                  vary: tuple[str, ...] = ()) -> EndpointResponse:
    """A JSON response, compact and key-sorted, never cached or sniffed."""
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
