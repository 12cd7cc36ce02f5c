"""Ketch's ``_ketch_consent_v1_`` cookie: base64 of a JSON object, percent-encoded.

``{"analytics":{"status":"granted","canonicalPurposes":["analytics"]},
"behavioral_advertising":{"status":"denied","canonicalPurposes":["behavioral_advertising"]},
…}``: one entry per purpose code of the site, each mapped to Ketch's canonical purposes.
A purpose counts when its code is configured or it maps to a configured canonical
purpose (``behavioral_advertising`` by default). Sources: docs/cmp.md (Ketch).
"""

from __future__ import annotations

from optout_mw.signals import Signal, SignalKind, Verdict

from ._decode import base64_json, too_long

COOKIE = "_ketch_consent_v1_"

_KIND = SignalKind.KETCH


def parse_ketch(value: str, purposes: tuple[str, ...], canonical: tuple[str, ...]) -> Signal:
    """What ``_ketch_consent_v1_`` says about targeting purposes; never raises."""
    if too_long(value):
        return Signal(_KIND, Verdict.INVALID, "Ketch cookie too long")
    record = base64_json(value)
    if record is None:
        return Signal(_KIND, Verdict.INVALID, "Ketch cookie malformed")
    granted: list[str] = []
    for code, entry in record.items():
        if not isinstance(entry, dict):
            return Signal(_KIND, Verdict.INVALID, "Ketch cookie: a purpose is malformed")
        mapped = entry.get("canonicalPurposes", [])
        if not isinstance(mapped, list):
            return Signal(_KIND, Verdict.INVALID, "Ketch cookie: a purpose is malformed")
        if code not in purposes and not any(item in canonical for item in mapped):
            continue
        status = entry.get("status")
        if status == "denied":
            return Signal(_KIND, Verdict.OPT_OUT, f"Ketch purpose {code} denied")
        if status != "granted":
            return Signal(_KIND, Verdict.INVALID, f"Ketch purpose {code} malformed")
        granted.append(code)
    if granted:
        return Signal(_KIND, Verdict.NO_OPT_OUT, f"Ketch purpose {','.join(granted)} granted")
    return Signal(_KIND, Verdict.NOT_APPLICABLE, "Ketch cookie holds no targeting purpose")
