"""The opt-out surface's HTML, rendered from template files.

The page template (``templates/optout_page.html``, or the site's own
``optout_page_template``) lays out every page; its ``$…_html`` variables are filled from the
small part files under ``templates/parts/``. No markup is written in Python: code only
chooses which parts to render and with what text. Text is HTML-escaped on its way into a
template; only a part rendered from a template file (:class:`Html`) is inserted as is.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from html import escape
from importlib import resources
from pathlib import Path
from typing import Final

from optout_mw.config import OptOutConfig
from optout_mw.decision import Decision
from optout_mw.errors import ConfigError
from optout_mw.signals import SignalKind, Verdict

from ._http import EndpointRequest, EndpointResponse, json_response, wants_json

#: Every ``$variable`` a page template may use (see docs/endpoints.md).
TEMPLATE_VARIABLES: Final = frozenset({
    "lang", "title", "heading", "page_kind", "main_html", "status_html", "about_html",
    "gpc_html", "optout_html", "optin_html", "status_text", "opted_out", "gpc",
    "signals_text", "opted_out_at", "page_path", "next", "message", "token",
})

PAGE_TITLE: Final = "Do Not Sell or Share My Personal Information"

_SIGNAL_TEXT: Final = {
    SignalKind.GPC: "your browser's Global Privacy Control (GPC) signal",
    SignalKind.SITE_CHOICE: "the choice you saved on this site",
    SignalKind.US_PRIVACY: "the IAB US Privacy string stored in your browser",
    SignalKind.GPP: "the IAB Global Privacy Platform (GPP) string stored in your browser",
}

_ERROR_TITLES: Final = {
    400: "Request not understood", 403: "Request refused", 404: "Not found",
    405: "Method not allowed", 413: "Request too large", 415: "Unsupported request format",
    500: "Something went wrong",
}

# The built-in page needs nothing but its own inline style; a site's own template may load
# its stylesheets. Neither may be framed: a framed button could be clickjacked.
_BUILTIN_CSP: Final = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                       "frame-ancestors 'none'; base-uri 'none'")
_CUSTOM_CSP: Final = "form-action 'self'; frame-ancestors 'none'"


class Html(str):
    """Markup rendered from a template file: inserted into another template as is. Any
    other value is text and is escaped."""

    __slots__ = ()


_NOTHING: Final = Html("")


def fill(template: string.Template, values: Mapping[str, str]) -> Html:
    """``template`` with ``values``: :class:`Html` as is, every other value HTML-escaped
    (safe in element content and in quoted attributes)."""
    return Html(template.substitute(
        {name: value if isinstance(value, Html) else escape(value)
         for name, value in values.items()}
    ))


@dataclass(frozen=True, slots=True)
class _Parts:
    """The part templates, one field per file of ``templates/parts/``."""

    about: string.Template
    back_link: string.Template
    because_signals: string.Template
    because_unreadable: string.Template
    confirm: string.Template
    confirm_gpc_note: string.Template
    confirm_other_signals: string.Template
    error: string.Template
    gpc: string.Template
    next_field: string.Template
    note_invalid_choice: string.Template
    note_opt_in: string.Template
    note_opt_in_overridden: string.Template
    optin: string.Template
    optin_gpc_note: string.Template
    optin_since: string.Template
    optout: string.Template
    optout_already: string.Template
    redirect: string.Template
    result: string.Template
    status: string.Template
    status_not_opted_out: string.Template
    status_opted_out: string.Template

    @classmethod
    def load(cls) -> _Parts:
        folder = resources.files("optout_mw").joinpath("templates/parts")
        return cls(**{
            field.name: string.Template(
                folder.joinpath(field.name + ".html").read_text(encoding="utf-8")
                .removesuffix("\n")
            )
            for field in fields(cls)
        })


#: The part files under ``templates/parts/`` (without ``.html``), all read at start-up.
PART_NAMES: Final = tuple(field.name for field in fields(_Parts))


def describe_signals(kinds: Iterable[SignalKind]) -> str:
    """The signals ``kinds`` in words, e.g. "your browser's Global Privacy Control (GPC)
    signal and the choice you saved on this site"."""
    texts = [_SIGNAL_TEXT[kind] for kind in dict.fromkeys(kinds) if kind in _SIGNAL_TEXT]
    if len(texts) <= 1:
        return "".join(texts)
    return ", ".join(texts[:-1]) + " and " + texts[-1]


def _capitalized(text: str, fallback: str) -> str:
    return text[:1].upper() + text[1:] if text else fallback


def _date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def load_page_template(path: str | None) -> string.Template:
    """The page template: the built-in one, or the site's file checked for what it uses.

    :raises ConfigError: naming ``optout_page_template`` when the file cannot be read, has a
        stray ``$`` or uses a variable that does not exist.
    """
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


class Pages:
    """Renders the surface's pages for one configuration. The template files are read once,
    here.

    :raises ConfigError: when ``config.optout_page_template`` cannot be used.
    """

    __slots__ = ("_csp", "_page", "_parts", "_vary", "config")

    def __init__(self, config: OptOutConfig) -> None:
        self.config = config
        self._page = load_page_template(config.optout_page_template)
        self._parts = _Parts.load()
        self._csp = _BUILTIN_CSP if config.optout_page_template is None else _CUSTOM_CSP
        self._vary = ", ".join(config.vary) or "Cookie"

    # --- the pages ------------------------------------------------------------------------

    def choices(self, decision: Decision, next_path: str | None, *,
                offer_opt_in: bool) -> EndpointResponse:
        """The "Do Not Sell or Share" page: the current state, what opting out means, the
        GPC statement, the opt-out form and, when ``offer_opt_in``, the opt-back-in form."""
        parts = self._parts
        next_html = self._next_field(next_path)
        stored = decision.stored_choice
        status_html = fill(parts.status, {"box_html": self._status_box(decision)})
        about_html = fill(parts.about, {})
        gpc_html = fill(parts.gpc, {})
        optout_html = _NOTHING
        if not (stored is not None and stored.opted_out):
            already = fill(parts.optout_already, {}) if decision.opted_out else _NOTHING
            optout_html = fill(parts.optout, {
                "already_html": already, "page_path": self.config.optout_page_path,
                "next_html": next_html,
            })
        optin_html = _NOTHING
        if offer_opt_in:
            since = _NOTHING
            if decision.opted_out_at is not None:
                since = fill(parts.optin_since, {"made": _date(decision.opted_out_at)})
            optin_html = fill(parts.optin, {
                "since_html": since,
                "gpc_note_html": fill(parts.optin_gpc_note, {}) if decision.gpc else _NOTHING,
                "page_path": self.config.optout_page_path, "next_html": next_html,
            })
        values = self._base_values("choices", PAGE_TITLE, decision, next_path)
        values.update(
            status_html=status_html, about_html=about_html, gpc_html=gpc_html,
            optout_html=optout_html, optin_html=optin_html,
            main_html=Html(status_html + optout_html + about_html + gpc_html + optin_html),
        )
        return self._render(200, values)

    def confirm(self, decision: Decision, next_path: str | None, *, token: str,
                minutes: int) -> EndpointResponse:
        """The opt-in confirmation page, carrying the signed ``token``."""
        parts = self._parts
        notes = fill(parts.confirm_gpc_note, {}) if decision.gpc else _NOTHING
        # Strings the site does not write itself keep saying "opt out" after a confirmation.
        config = self.config
        others = [kind for kind in decision.opted_out_by
                  if (kind is SignalKind.US_PRIVACY and not config.write_us_privacy)
                  or (kind is SignalKind.GPP and not config.write_gpp)]
        if others:
            notes = Html(notes + fill(parts.confirm_other_signals, {
                "sources": _capitalized(describe_signals(others), ""),
            }))
        main = fill(parts.confirm, {
            "notes_html": notes, "page_path": config.optout_page_path, "token": token,
            "next_html": self._next_field(next_path), "minutes": str(minutes),
        })
        values = self._base_values("confirm", "Confirm: allow sale or sharing", decision,
                                   next_path)
        values.update(main_html=main, token=token)
        return self._render(200, values)

    def result(self, decision: Decision, message: str, location: str) -> EndpointResponse:
        """What happened to a choice that could not be saved (``200``, no redirect, so the
        visitor reads it)."""
        values = self._base_values("result", "Your choice could not be saved", decision, None)
        values.update(message=message, main_html=fill(self._parts.result, {
            "message": message, "location": location,
        }))
        return self._render(200, values)

    def error(self, status: int, message: str, decision: Decision | None, *,
              allow: str | None = None) -> EndpointResponse:
        """An error page with ``message`` and a link back to the choices page."""
        parts = self._parts
        title = _ERROR_TITLES.get(status, "Request refused")
        page = self.config.optout_page_path
        back = fill(parts.back_link, {"page_path": page}) if page else _NOTHING
        values = self._base_values("error", title, decision, None)
        values.update(message=message,
                      main_html=fill(parts.error, {"message": message, "back_html": back}))
        return self._render(status, values, allow=allow)

    def error_for(self, request: EndpointRequest, status: int, message: str,
                  decision: Decision | None, *, allow: str | None = None,
                  as_json: bool = False) -> EndpointResponse:
        """An error answer in what the client asked for: JSON ``{"ok": false, "error": …}``
        (``as_json``, a JSON body or an ``Accept`` preferring JSON) or :meth:`error`."""
        if as_json or wants_json(request):
            response = json_response(status, {"ok": False, "error": message})
            if allow is not None:
                response.headers.append(("Allow", allow))
            return response
        return self.error(status, message, decision, allow=allow)

    def redirect(self, location: str, message: str) -> EndpointResponse:
        """``303 See Other`` to ``location``, with a short page for clients that stop."""
        body = fill(self._parts.redirect, {
            "title": "Saved", "message": message, "location": location,
        }).encode("utf-8")
        return EndpointResponse(303, [
            ("Location", location),
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ], body)

    # --- pieces ---------------------------------------------------------------------------

    def _status_box(self, decision: Decision) -> Html:
        # 11 CCR §7025(c)(6): display whether the opt-out is being honoured.
        parts = self._parts
        sources = describe_signals(decision.opted_out_by)
        stored = decision.stored_choice
        notes: list[str] = []
        if stored is not None and not stored.opted_out:
            made = _date(datetime.fromtimestamp(stored.made_at, UTC))
            if decision.opted_out:
                notes.append(fill(parts.note_opt_in_overridden, {
                    "made": made, "sources": _capitalized(sources, "A privacy signal"),
                }))
            else:
                notes.append(fill(parts.note_opt_in, {"made": made}))
        if any(s.kind is SignalKind.SITE_CHOICE and s.verdict is Verdict.INVALID
               for s in decision.signals):
            notes.append(fill(parts.note_invalid_choice, {}))
        notes_html = Html("".join(notes))
        if not decision.opted_out:
            return fill(parts.status_not_opted_out, {"notes_html": notes_html})
        because = (fill(parts.because_signals, {"sources": sources}) if sources
                   else fill(parts.because_unreadable, {}))
        return fill(parts.status_opted_out, {
            "status_text": decision.status_text or "", "because_html": because,
            "notes_html": notes_html,
        })

    def _next_field(self, next_path: str | None) -> Html:
        if not next_path:
            return _NOTHING
        return fill(self._parts.next_field, {"next": next_path})

    def _base_values(self, kind: str, title: str, decision: Decision | None,
                     next_path: str | None) -> dict[str, str]:
        opted_out = decision is not None and decision.opted_out
        return {
            "lang": "en",
            "title": title,
            "heading": title,
            "page_kind": kind,
            "main_html": _NOTHING,
            "status_html": _NOTHING,
            "about_html": _NOTHING,
            "gpc_html": _NOTHING,
            "optout_html": _NOTHING,
            "optin_html": _NOTHING,
            "status_text": (decision.status_text or "") if decision else "",
            "opted_out": "true" if opted_out else "false",
            "gpc": "true" if decision is not None and decision.gpc else "false",
            "signals_text": describe_signals(decision.opted_out_by) if decision else "",
            "opted_out_at": (
                _date(decision.opted_out_at) if decision and decision.opted_out_at else ""
            ),
            "page_path": self.config.optout_page_path,
            "next": next_path or "",
            "message": "",
            "token": "",
        }

    def _render(self, status: int, values: Mapping[str, str], *,
                allow: str | None = None) -> EndpointResponse:
        body = fill(self._page, values).encode("utf-8")
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            # Never framed: a framed confirmation button could be clickjacked into an opt-in.
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "same-origin"),
            ("Content-Security-Policy", self._csp),
            ("Vary", self._vary),
        ]
        if allow is not None:
            headers.append(("Allow", allow))
        return EndpointResponse(status, headers, body)
