"""Fides' ``fides_consent`` cookie: percent-encoded JSON.

``{"consent":{"data_sales_and_sharing":false,…},"identity":{…},
"fides_meta":{"version":"0.9.0","consentMethod":"reject",…},"tcf_consent":{…},
"fides_string":"<TC string>,<AC string>,<GPP string>"}``. ``consent`` maps the site's
privacy-notice keys to the choice; ``consentMethod`` records how it was made (``gpc`` when
Fides applied Global Privacy Control, ``reject`` for "reject all"); the GPP part of
``fides_string`` is read with optout-mw's GPP decoder. Sources: docs/cmp.md (Fides).
"""

from __future__ import annotations

from typing import Any

from optout_mw.gpp import GppOutcome, gpp_verdict
from optout_mw.signals import Signal, SignalKind, Verdict

from ._decode import json_cookie, too_long

COOKIE = "fides_consent"

_KIND = SignalKind.FIDES
_OPT_OUT_METHODS = {"gpc": "Global Privacy Control applied", "reject": "every notice rejected"}


def parse_fides(value: str, notices: tuple[str, ...], prefixes: tuple[str, ...]) -> Signal:
    """What ``fides_consent`` says about sale, sharing and targeted ads; never raises."""
    if too_long(value):
        return Signal(_KIND, Verdict.INVALID, "Fides cookie too long")
    record = json_cookie(value)
    if record is None:
        return Signal(_KIND, Verdict.INVALID, "Fides cookie malformed")
    consent = record.get("consent", {})
    meta = record.get("fides_meta", {})
    if not isinstance(consent, dict) or not isinstance(meta, dict):
        return Signal(_KIND, Verdict.INVALID, "Fides cookie malformed")
    method = meta.get("consentMethod")
    if isinstance(method, str) and method in _OPT_OUT_METHODS:
        return Signal(_KIND, Verdict.OPT_OUT, f"Fides: {_OPT_OUT_METHODS[method]}")
    allowed: list[str] = []
    for key, flag in consent.items():
        if key not in notices and not key.startswith(prefixes):
            continue
        if flag is False:
            return Signal(_KIND, Verdict.OPT_OUT, f"Fides notice {key} refused")
        if flag is not True:
            return Signal(_KIND, Verdict.INVALID, f"Fides notice {key} malformed")
        allowed.append(key)
    gpp = _gpp_part(record.get("fides_string"))
    if gpp is not None:
        verdict = gpp_verdict(gpp, None)
        if verdict.outcome is GppOutcome.OPTED_OUT:
            return Signal(_KIND, Verdict.OPT_OUT, f"Fides GPP: {verdict.reason}")
        if verdict.outcome is GppOutcome.UNKNOWN and not allowed:
            return Signal(_KIND, Verdict.INVALID, f"Fides GPP: {verdict.reason}")
        if verdict.outcome is GppOutcome.NOT_OPTED_OUT and not allowed:
            return Signal(_KIND, Verdict.NO_OPT_OUT, f"Fides GPP: {verdict.reason}")
    if allowed:
        return Signal(_KIND, Verdict.NO_OPT_OUT, f"Fides notice {','.join(allowed)} accepted")
    return Signal(_KIND, Verdict.NOT_APPLICABLE, "Fides cookie holds no sale or targeting notice")


def _gpp_part(fides_string: Any) -> str | None:
    # fides_string is "TC,AC,GPP"; any part may be empty.
    if not isinstance(fides_string, str):
        return None
    parts = fides_string.split(",")
    if len(parts) >= 3 and parts[2].startswith("DB"):
        return parts[2]
    return None
