"""Didomi's ``didomi_token`` cookie: base64 of a JSON object.

``{"user_id":"…","created":"…","updated":"…","version":2,
"purposes":{"enabled":[…],"disabled":[…]},"vendors":{"enabled":[…],"disabled":[…]},
"purposes_li":{…},"vendors_li":{…},"ac":"…"}``. Purposes and vendors are the site's own
Didomi IDs (IAB TCF purposes travel in the TCF string, not here), so the ones that mean
sale or targeting are configured. Without configured IDs, a token that disables
something and enables nothing records "refuse all". Didomi's newer binary ``didomi_dcs``
cookie is not read. Sources: docs/cmp.md (Didomi).
"""

from __future__ import annotations

from typing import Any

from optout_mw.signals import Signal, SignalKind, Verdict

from ._decode import base64_json, too_long

COOKIE = "didomi_token"

_KIND = SignalKind.DIDOMI


def parse_didomi(value: str, purposes: tuple[str, ...], vendors: tuple[str, ...]) -> Signal:
    """What ``didomi_token`` says about the configured purposes and vendors; never raises."""
    if too_long(value):
        return Signal(_KIND, Verdict.INVALID, "Didomi token too long")
    record = base64_json(value)
    if record is None:
        return Signal(_KIND, Verdict.INVALID, "Didomi token malformed")
    lists: dict[str, tuple[list[str], list[str]]] = {}
    for section in ("purposes", "vendors", "purposes_li", "vendors_li"):
        read = _section(record.get(section))
        if read is None:
            return Signal(_KIND, Verdict.INVALID, f"Didomi token: {section} malformed")
        lists[section] = read
    configured = {"purposes": purposes, "purposes_li": purposes,
                  "vendors": vendors, "vendors_li": vendors}
    consented: list[str] = []
    for section, (enabled, disabled) in lists.items():
        for name in configured[section]:
            if name in disabled:
                return Signal(_KIND, Verdict.OPT_OUT, f"Didomi {section} {name} disabled")
            if name in enabled:
                consented.append(name)
    if consented:
        return Signal(_KIND, Verdict.NO_OPT_OUT,
                      f"Didomi {','.join(dict.fromkeys(consented))} enabled")
    enabled_any = any(lists[s][0] for s in ("purposes", "vendors"))
    disabled_any = any(lists[s][1] for s in ("purposes", "vendors"))
    if disabled_any and not enabled_any:
        return Signal(_KIND, Verdict.OPT_OUT, "Didomi: every purpose and vendor refused")
    if enabled_any and not disabled_any:
        return Signal(_KIND, Verdict.NO_OPT_OUT, "Didomi: every purpose and vendor accepted")
    if not enabled_any:
        return Signal(_KIND, Verdict.NOT_APPLICABLE, "Didomi token records no choice")
    return Signal(_KIND, Verdict.NOT_APPLICABLE,
                  "Didomi: a partial choice, and no configured purpose or vendor in it")


def _section(value: Any) -> tuple[list[str], list[str]] | None:
    if value is None:
        return [], []
    if not isinstance(value, dict):
        return None
    enabled = value.get("enabled", [])
    disabled = value.get("disabled", [])
    if not isinstance(enabled, list) or not isinstance(disabled, list):
        return None
    if not all(isinstance(item, str) for item in (*enabled, *disabled)):
        return None
    return enabled, disabled
