"""The choices made on the opt-out page: opting out, and opting back in in two steps
(consumer-initiated, confirmed with a signed token bound to the browser, refused
cross-site). Each choice made is a :class:`ChoiceEvent` for the records.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from itsdangerous import BadData, URLSafeSerializer

from optout_mw.config import OptOutConfig
from optout_mw.cookies import CookieReader, build_set_cookie
from optout_mw.decision import Decider, Decision
from optout_mw.signals import SignalKind
from optout_mw.writeback import CookieWrite, WriteBack

from ._http import (
    BadRequest,
    EndpointRequest,
    EndpointResponse,
    cross_site_reason,
    json_response,
    media_type,
    parse_form,
    parse_json_body,
    query_next,
    safe_next,
    wants_json,
)
from .pages import Pages, describe_signals

logger = logging.getLogger("optout_mw")

#: Salt separating opt-in confirmation tokens from every other use of the secret keys.
OPT_IN_SALT: Final = "optout_mw.opt-in-confirm"
#: Lifetime of an opt-in confirmation token, in seconds.
OPT_IN_TOKEN_MAX_AGE: Final = 600
#: Suffix of the short-lived cookie binding an opt-in confirmation to one browser.
CONFIRM_COOKIE_SUFFIX: Final = "_confirm"

SAVED_MESSAGE: Final = "Your choice was saved."

_ACTIONS: Final = frozenset({"opt-out", "opt-in", "opt-in-confirm"})
_JSON_FIELDS: Final = ("action", "next", "token")


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


class ChoiceFlows:
    """The POST handlers of the opt-out page, for one configuration. Stateless per request.

    :param decider: decides what the next request will see once the cookies set apply.
    :param writeback: builds every cookie a choice sets.
    :param pages: renders the HTML answers.
    """

    __slots__ = ("_confirm_cookie", "_decider", "_pages", "_reader", "_signer", "_stores",
                 "_writeback", "config")

    def __init__(self, config: OptOutConfig, *, decider: Decider, writeback: WriteBack,
                 pages: Pages) -> None:
        self.config = config
        self._decider = decider
        self._writeback = writeback
        self._pages = pages
        self._signer = (
            URLSafeSerializer(list(config.secret_keys), salt=OPT_IN_SALT)
            if config.secret_keys and writeback.codec is not None
            else None
        )
        self._confirm_cookie = config.choice_cookie_name + CONFIRM_COOKIE_SUFFIX
        self._reader = CookieReader([config.choice_cookie_name, self._confirm_cookie])
        # Which signal each cookie the site may write is read back as.
        self._stores = {
            config.choice_cookie_name: SignalKind.SITE_CHOICE,
            config.us_privacy_cookie: SignalKind.US_PRIVACY,
            config.gpp_cookie: SignalKind.GPP,
        }

    def can_opt_in(self, decision: Decision) -> bool:
        """Whether the page offers this visitor to opt back in (docs/endpoints.md, "Who is
        offered to opt back in"): only where confirming would undo an opt-out the site
        itself holds. That is the choice stored on this site, or, while GPC is off, a
        ``usprivacy``/GPP opt-out in a cookie the site writes (and so can reset). While GPC
        is on, a site-written string is most likely the site's own write-back of GPC, which
        an opt-in could neither reset nor override."""
        if self._signer is None:
            return False
        kinds = decision.opted_out_by
        if SignalKind.SITE_CHOICE in kinds:
            return True
        if SignalKind.GPC in kinds:
            return False
        config = self.config
        return (config.write_us_privacy and SignalKind.US_PRIVACY in kinds) or (
            config.write_gpp and SignalKind.GPP in kinds
        )

    def post(self, request: EndpointRequest, decision: Decision, now: float) -> EndpointResponse:
        """A ``POST`` to the page: ``action`` is ``opt-out``, ``opt-in`` or
        ``opt-in-confirm``, from a form or a JSON body."""
        pages = self._pages
        if request.body_too_large:
            return pages.error_for(request, 413, "The form data is too large.", decision)
        media, charset = media_type(request.headers)
        is_json = media == "application/json"
        try:
            if charset not in (None, "utf-8", "us-ascii"):
                raise BadRequest(415, "Send the form as UTF-8.")
            if is_json:
                form = parse_json_body(request.body, _JSON_FIELDS)
            elif media in ("", "application/x-www-form-urlencoded"):
                form = parse_form(request.body)
            else:
                raise BadRequest(
                    415, "Send the form as application/x-www-form-urlencoded or JSON."
                )
            action = form.get("action")
            if action is None or action == "":
                raise BadRequest(400, "The form has no action: expected opt-out, opt-in or "
                                 "opt-in-confirm.")
            if action not in _ACTIONS:
                raise BadRequest(400, "Unknown action: expected opt-out, opt-in or "
                                 "opt-in-confirm.")
        except BadRequest as error:
            return pages.error_for(request, error.status, error.message, decision)
        next_path = safe_next(form.get("next")) or query_next(request.query)
        method: Literal["form", "json"] = "json" if is_json else "form"
        if action == "opt-out":
            return self._opt_out(request, decision, now, next_path, method)
        refusal = cross_site_reason(request.headers)
        if refusal is not None:
            return pages.error_for(
                request, 403, f"Opting back in was refused: {refusal}. Only you can opt back "
                "in, from this site's own page.", decision)
        if self._signer is None:
            return pages.error_for(request, 403, "Opting back in is not available on this "
                                   "site.", decision)
        if action == "opt-in":
            return self._opt_in_step(request, decision, now, next_path)
        return self._opt_in_confirm(request, decision, now, next_path, form.get("token"),
                                    method)

    # --- opting out -----------------------------------------------------------------------

    def _opt_out(self, request: EndpointRequest, decision: Decision, now: float,
                 next_path: str | None, method: Literal["form", "json"]) -> EndpointResponse:
        # Opting out needs no token: a forged request can only lower risk (11 CCR §7026: no
        # more than what is needed to process the request).
        writes = self._writeback.opt_out(gpc=decision.gpc, now=now)
        event = self._record("opt-out", method, request.path, decision, now)
        saved = self._saved(request, writes, now)
        message = SAVED_MESSAGE if saved else self._unsaved_message(decision, writes)
        location = next_path or self.config.optout_page_path
        if wants_json(request):
            projected = self._project(request, writes, now, gpc=True)
            response = json_response(200, {
                "ok": True, "choice": "opt-out", "saved": saved, "message": message,
                "decision": projected.to_json(),
            })
        elif saved:
            response = self._pages.redirect(location, message)
        else:
            # No redirect: the page the visitor would land on could not tell them.
            response = self._pages.result(decision, message, location)
        response.headers.extend(("Set-Cookie", write.header) for write in writes)
        response.event = event
        return response

    def _saved(self, request: EndpointRequest, writes: list[CookieWrite], now: float) -> bool:
        """Whether a cookie just written will say "opt out" on the visitor's next request,
        as this site reads it (a string it writes but does not read back saves nothing)."""
        written = {self._stores[write.name] for write in writes if write.name in self._stores}
        if not written:
            return False
        after = self._project(request, writes, now, gpc=False)
        return any(kind in written for kind in after.opted_out_by)

    def _unsaved_message(self, decision: Decision, writes: list[CookieWrite]) -> str:
        message = ("Your choice could not be saved: this site is not set up to record it, so "
                   "it applied to this request only.")
        passed = [kind for kind in (SignalKind.US_PRIVACY, SignalKind.GPP)
                  if any(self._stores.get(write.name) is kind for write in writes)]
        if passed:
            message += (f" We also stored it in {describe_signals(passed)} for advertising "
                        "partners to read, but this site does not read it back.")
        if decision.gpc:
            message += (" Your browser's Global Privacy Control signal keeps you opted out "
                        "on every visit while it is on.")
        else:
            message += (" To stay opted out on every visit, turn on Global Privacy Control in "
                        "your browser.")
        return message

    # --- opting back in -------------------------------------------------------------------

    def _opt_in_step(self, request: EndpointRequest, decision: Decision, now: float,
                     next_path: str | None) -> EndpointResponse:
        assert self._signer is not None  # checked by post()
        found = self._reader.read(request.headers.get("cookie", ""))
        nonce = secrets.token_urlsafe(18)
        binding = _digest(found.get(self.config.choice_cookie_name, []), nonce)
        token = self._signer.dumps({"b": binding, "t": int(now)})
        # A per-browser random nonce in a short-lived cookie makes the token useless to any
        # other visitor, including one with no stored choice (double-submit pattern).
        confirm_cookie = build_set_cookie(
            self._confirm_cookie, nonce, max_age=OPT_IN_TOKEN_MAX_AGE,
            path=self.config.optout_page_path, secure=self.config.cookie_secure,
            http_only=True, same_site="Strict",
        )
        if wants_json(request):
            message = ("If you confirm, we may sell your personal information or share it for "
                       "cross-context behavioural advertising.")
            if decision.gpc:
                message += (" Your browser is sending a Global Privacy Control signal; while "
                            "it is on we keep honouring it, so your confirmation takes effect "
                            "only when Global Privacy Control is off.")
            response = json_response(200, {
                "ok": True,
                "confirm": {"action": "opt-in-confirm", "token": token,
                            "expires_in": OPT_IN_TOKEN_MAX_AGE, "message": message},
            })
        else:
            response = self._pages.confirm(decision, next_path, token=token,
                                           minutes=OPT_IN_TOKEN_MAX_AGE // 60)
        response.headers.append(("Set-Cookie", confirm_cookie))
        return response

    def _binding(self, request: EndpointRequest) -> tuple[str, str | None]:
        """The visitor's binding digest and its confirmation nonce (``None`` if absent)."""
        found = self._reader.read(request.headers.get("cookie", ""))
        choice_values = found.get(self.config.choice_cookie_name, [])
        nonces = found.get(self._confirm_cookie, [])
        nonce = nonces[0] if nonces else None
        return _digest(choice_values, nonce or ""), nonce

    def _check_token(self, token: str | None, binding: str, now: float) -> str | None:
        assert self._signer is not None  # checked by post()
        if not token:
            return "the confirmation is missing"
        if len(token) > 1024:
            return "the confirmation is not valid"
        try:
            payload = self._signer.loads(token)
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
        binding, nonce = self._binding(request)
        problem = self._check_token(token, binding, now)
        if problem is not None and nonce is None and token:
            problem = "the confirmation cookie is missing (are cookies blocked?)"
        if problem is not None:
            return self._pages.error_for(
                request, 403, f"Opting back in was refused: {problem}. Nothing was changed; "
                "to opt back in, start again from this site's privacy choices page.", decision)
        writes = self._writeback.opt_in(gpc=decision.gpc, now=now)
        writes.append(self._writeback.delete(self._confirm_cookie,
                                             path=self.config.optout_page_path, http_only=True))
        event = self._record("opt-in", method, request.path, decision, now)
        if wants_json(request):
            projected = self._project(request, writes, now, gpc=True)
            response = json_response(200, {
                "ok": True, "choice": "opt-in", "saved": True, "message": SAVED_MESSAGE,
                "decision": projected.to_json(),
            })
        else:
            response = self._pages.redirect(next_path or self.config.optout_page_path,
                                            SAVED_MESSAGE)
        response.headers.extend(("Set-Cookie", write.header) for write in writes)
        response.event = event
        return response

    # --- shared ---------------------------------------------------------------------------

    def _project(self, request: EndpointRequest, writes: Iterable[CookieWrite], now: float, *,
                 gpc: bool) -> Decision:
        """The decision as the next request will see it, once the cookies set replace the
        ones sent (``gpc``: with the request's own ``Sec-GPC``, else without it)."""
        written = {write.name: write.value for write in writes}
        kept = [
            chunk for chunk in request.headers.get("cookie", "").split(";")
            if chunk.partition("=")[0].strip() not in written
        ]
        kept.extend(f"{name}={value}" for name, value in written.items() if value)
        sent = request.headers.get("sec-gpc") if gpc else None
        return self._decider.decide(() if sent is None else (sent,), ";".join(kept), now)

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


def _digest(choice_values: list[str], nonce: str) -> str:
    material = "\x00".join([*choice_values, "", nonce]).encode("utf-8", "surrogatepass")
    return hashlib.sha256(material).hexdigest()[:32]
