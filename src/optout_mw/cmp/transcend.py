"""Transcend's consent cookie (``tcm`` by default): JSON, plain or percent-encoded.

``{"purposes":{"SaleOfInfo":false,"Advertising":"Auto","Analytics":true,…},
"timestamp":"…","confirmed":true,"prompted":true,"updated":true}``. ``true``/``false``
are a choice; ``"Auto"`` leaves the purpose to its regime's default. The same record is
what Transcend keeps in localStorage (``tcmConsent``). Sources: docs/cmp.md (Transcend).
"""

from __future__ import annotations

from optout_mw.signals import Signal, SignalKind, Verdict

from ._decode import json_cookie, too_long

_KIND = SignalKind.TRANSCEND


def parse_transcend(value: str, purposes: tuple[str, ...]) -> Signal:
    """What the Transcend cookie says about sale and advertising; never raises."""
    if too_long(value):
        return Signal(_KIND, Verdict.INVALID, "Transcend cookie too long")
    record = json_cookie(value)
    given = record.get("purposes") if record is not None else None
    if not isinstance(given, dict):
        return Signal(_KIND, Verdict.INVALID, "Transcend cookie malformed")
    allowed: list[str] = []
    for purpose in purposes:
        if purpose not in given:
            continue
        flag = given[purpose]
        if flag is False:
            return Signal(_KIND, Verdict.OPT_OUT, f"Transcend purpose {purpose} refused")
        if flag is True:
            allowed.append(purpose)
        elif flag != "Auto":
            return Signal(_KIND, Verdict.INVALID, f"Transcend purpose {purpose} malformed")
    if allowed:
        return Signal(_KIND, Verdict.NO_OPT_OUT,
                      f"Transcend purpose {','.join(allowed)} allowed")
    return Signal(_KIND, Verdict.NOT_APPLICABLE,
                  f"Transcend cookie decides none of {','.join(purposes)}")
