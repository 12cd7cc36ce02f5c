"""Consent defaults and vendors' restricted modes, for opted-out visitors, as inline JS.

:func:`consent_mode_script` returns the text of one part of the page's injected inline
script (plain ES5, no tag, no network access). It must run before any tag does, which is
why it is injected before the first script of the page: a tag that reads consent before a
default is set is the ordering race client-side consent tools keep reporting. It sets:

- Google consent mode: ``gtag('consent','default',{ad_storage:'denied',
  ad_user_data:'denied',ad_personalization:'denied'})``; ``analytics_storage`` only when
  configured (a sale/share opt-out is not a blanket opt-out); ``wait_for_update`` only when
  a consent tool is declared asynchronous; never ``region``, never ``granted``. Then
  ``ads_data_redaction``, ``restricted_data_processing``, ``allow_google_signals: false``
  and ``allow_ad_personalization_signals: false``, and a ``dataLayer`` event naming the
  decision, for tag-manager triggers.
- Meta: Limited Data Use (``fbq('dataProcessingOptions',['LDU'],0,0)``) and
  ``fbq('consent','revoke')``, queued ahead of the site's own pixel commands.
- Microsoft UET: ``uetq.push('consent','default',{ad_storage:'denied'})``.
- TikTok: ``ttq.holdConsent()``.

Sources are cited in docs/cmp.md ("Consent Mode and restricted modes").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Final

from .errors import ConfigError, describe_type

__all__ = ["ConsentModeSettings", "consent_mode_script"]

#: The dataLayer event pushed for an opted-out visitor.
DEFAULT_EVENT: Final = "optout_mw_opt_out"
#: Longest ``wait_for_update`` accepted (ms); Google's examples use 500.
MAX_WAIT_MS: Final = 10_000

_EVENT_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentModeSettings:
    """Which defaults and restricted modes the injected part sets."""

    enabled: bool = True
    google: bool = True
    #: Also deny ``analytics_storage`` (off: analytics is not sale or sharing by itself).
    google_analytics_storage: bool = False
    meta: bool = True
    microsoft: bool = True
    tiktok: bool = True
    #: The ``dataLayer`` event; ``None`` pushes none.
    event: str | None = DEFAULT_EVENT
    #: Set only when the site's consent tool loads asynchronously and will send an update.
    wait_for_update_ms: int | None = None

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        for item in fields(self):
            value: object = getattr(self, item.name)
            key = f"consent_mode_{item.name}" if item.name != "enabled" else "consent_mode"
            if item.name == "event":
                if value is not None and (not isinstance(value, str)
                                          or not _EVENT_NAME.fullmatch(value)):
                    problems.append((key, "must be an event name (letters, digits, _.:-), "
                                          "at most 64 characters"))
            elif item.name == "wait_for_update_ms":
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, int)
                    or not 0 < value <= MAX_WAIT_MS
                ):
                    problems.append((key, f"must be a number of milliseconds, 1 to {MAX_WAIT_MS}"))
            elif not isinstance(value, bool):
                problems.append((key, f"must be a boolean, not {describe_type(value)}"))
        if problems:
            raise ConfigError(problems)

    @property
    def active(self) -> bool:
        return self.enabled and (self.google or self.meta or self.microsoft or self.tiktok
                                 or self.event is not None)


def _js(value: object) -> str:
    # JSON is valid ES5; '<' never appears raw, so the text cannot close its script element.
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


# Google: gtag.js only acts on Arguments objects, so commands go through a function that
# pushes its own arguments, as Google's snippet does.
_GOOGLE_HEAD = (
    "var d=w.dataLayer=w.dataLayer||[];"
    "function g(){d.push(arguments);}"
    "if(typeof w.gtag!=='function'){w.gtag=g;}"
)
_GOOGLE_SETS = (
    "g('set','ads_data_redaction',true);"
    "g('set','restricted_data_processing',true);"
    "g('set','allow_google_signals',false);"
    "g('set','allow_ad_personalization_signals',false);"
)
# Meta's base code returns early when window.fbq exists, so defining a stub would keep the
# real fbevents.js from ever loading. Instead an accessor waits for the base code's own
# queue and puts the commands at its front, before the site's fbq('init'): fbevents.js
# then runs them first. If the pixel is already there, they are called directly.
_META = (
    "(function(){var c=[['dataProcessingOptions',['LDU'],0,0],['consent','revoke']],"
    "held,due=true;"
    "function run(q){due=false;for(var i=0;i!==c.length;i+=1){q.apply(w,c[i]);}}"
    "if(typeof w.fbq==='function'){run(w.fbq);return;}"
    "try{Object.defineProperty(w,'fbq',{configurable:true,enumerable:true,"
    "get:function(){if(due&&typeof held==='function'&&held.queue){run(held);}return held;},"
    "set:function(v){held=v;}});}catch(e){}})();"
)
# UET and TikTok's base codes adopt an existing queue (w.uetq||[], w.ttq||[]).
_MICROSOFT = "var u=w.uetq=w.uetq||[];u.push('consent','default',{ad_storage:'denied'});"
_TIKTOK = (
    "var t=w.ttq=w.ttq||[];"
    "if(typeof t.holdConsent==='function'){t.holdConsent();}else{t.push(['holdConsent']);}"
)


@lru_cache(maxsize=32)
def consent_mode_script(settings: ConsentModeSettings) -> str:
    """The inline JavaScript for ``settings`` (text only; the caller wraps it in the one
    injected ``<script>``, with the CSP nonce or hash). Empty when nothing is enabled.
    The same settings always give the same text, so its CSP hash is computed once."""
    if not settings.active:
        return ""
    parts = ["(function(w){"]
    if settings.google or settings.event is not None:
        parts.append(_GOOGLE_HEAD)
    if settings.google:
        defaults: dict[str, object] = {
            "ad_storage": "denied",
            "ad_user_data": "denied",
            "ad_personalization": "denied",
        }
        if settings.google_analytics_storage:
            defaults["analytics_storage"] = "denied"
        if settings.wait_for_update_ms is not None:
            defaults["wait_for_update"] = settings.wait_for_update_ms
        parts.append(f"g('consent','default',{_js(defaults)});")
        parts.append(_GOOGLE_SETS)
    if settings.event is not None:
        event = {"event": settings.event, "optout_mw": {"sale_permitted": False}}
        parts.append(f"d.push({_js(event)});")
    if settings.microsoft:
        parts.append(_MICROSOFT)
    if settings.tiktok:
        parts.append(_TIKTOK)
    if settings.meta:
        parts.append(_META)
    parts.append("})(window);")
    return "".join(parts)
