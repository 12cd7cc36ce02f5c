"""iubenda's preference cookies, ``_iub_cs-<cookie policy id>``.

The main cookie is percent-encoded JSON: ``{"timestamp":"…","version":"1.75.1",
"purposes":{"1":true,"4":true,"5":false},"id":50053366,…}`` (granular consent by purpose
number; 5 is "Targeting & Advertising"), or ``{"consent":true,…}`` when the banner asks for
one consent for everything. The US cookie ``_iub_cs-<id>-uspr`` holds ``{"s":true,
"sh":true,"adv":true}``: sale, sharing and targeted advertising, ``false`` once refused.
iubenda's US Privacy string is written to ``usprivacy``, which optout-mw already reads.
Sources: docs/cmp.md (iubenda).
"""

from __future__ import annotations

from typing import Any

from optout_mw.signals import Signal, SignalKind, Verdict

from ._decode import json_cookie, too_long

PREFIX = "_iub_cs-"
US_SUFFIX = "-uspr"

_KIND = SignalKind.IUBENDA


def is_iubenda_cookie(name: str) -> bool:
    """``_iub_cs-<digits>`` and its ``-uspr`` companion (iubenda's other suffixes, such as
    ``-granular``, hold no consent)."""
    if not name.startswith(PREFIX):
        return False
    rest = name[len(PREFIX):]
    if rest.endswith(US_SUFFIX):
        rest = rest[: -len(US_SUFFIX)]
    return rest.isascii() and rest.isdigit()


def parse_iubenda(name: str, value: str, purposes: tuple[str, ...],
                  us_keys: tuple[str, ...]) -> Signal:
    """What one ``_iub_cs-*`` cookie says about targeting and sale; never raises."""
    if too_long(value):
        return Signal(_KIND, Verdict.INVALID, "iubenda cookie too long")
    record = json_cookie(value)
    if record is None:
        return Signal(_KIND, Verdict.INVALID, "iubenda cookie malformed")
    if name.endswith(US_SUFFIX):
        return _us_preferences(record, us_keys)
    return _consent(record, purposes)


def _consent(record: dict[str, Any], purposes: tuple[str, ...]) -> Signal:
    given = record.get("purposes")
    if isinstance(given, dict):
        seen = [(p, given[p]) for p in purposes if p in given]
        if any(flag is False for _, flag in seen):
            refused = next(p for p, flag in seen if flag is False)
            return Signal(_KIND, Verdict.OPT_OUT, f"iubenda purpose {refused} refused")
        if any(not isinstance(flag, bool) for _, flag in seen):
            return Signal(_KIND, Verdict.INVALID, "iubenda purposes malformed")
        if seen:
            return Signal(_KIND, Verdict.NO_OPT_OUT,
                          f"iubenda purpose {','.join(p for p, _ in seen)} consented")
        return Signal(_KIND, Verdict.NOT_APPLICABLE,
                      f"iubenda purposes hold none of {','.join(purposes)}")
    if given is not None:
        return Signal(_KIND, Verdict.INVALID, "iubenda purposes malformed")
    consent = record.get("consent")
    if consent is False:
        return Signal(_KIND, Verdict.OPT_OUT, "iubenda consent refused")
    if consent is True:
        return Signal(_KIND, Verdict.NO_OPT_OUT, "iubenda consent given")
    if consent is not None:
        return Signal(_KIND, Verdict.INVALID, "iubenda consent malformed")
    return Signal(_KIND, Verdict.NOT_APPLICABLE, "iubenda cookie records no consent")


def _us_preferences(record: dict[str, Any], keys: tuple[str, ...]) -> Signal:
    seen = [(key, record[key]) for key in keys if key in record]
    refused = [key for key, flag in seen if flag is False]
    if refused:
        return Signal(_KIND, Verdict.OPT_OUT,
                      f"iubenda US preferences refuse {','.join(refused)}")
    if any(not isinstance(flag, bool) for _, flag in seen):
        return Signal(_KIND, Verdict.INVALID, "iubenda US preferences malformed")
    if seen:
        return Signal(_KIND, Verdict.NO_OPT_OUT,
                      f"iubenda US preferences allow {','.join(k for k, _ in seen)}")
    return Signal(_KIND, Verdict.NOT_APPLICABLE,
                  f"iubenda US preferences hold none of {','.join(keys)}")
