"""Cookiebot's ``CookieConsent`` cookie.

The value is a JavaScript object literal, percent-encoded:
``{stamp:'…',necessary:true,preferences:false,statistics:false,marketing:false,
method:'explicit',ver:1,utc:1705162226478,region:'us-06'}``. ``-1`` means the visitor is in a
region where Cookiebot asks for no consent. ``marketing`` is the category of advertising
and cross-site tracking. Sources: docs/cmp.md (Cookiebot).
"""

from __future__ import annotations

import re

from optout_mw.signals import Signal, SignalKind, Verdict

from ._decode import percent_decode, too_long

COOKIE = "CookieConsent"

_KIND = SignalKind.COOKIEBOT
# Quoted values (stamp, iab2, gacm, region) may hold anything but a quote; they are blanked
# before the keys are read so nothing inside them can look like a key.
_QUOTED = re.compile(r"'[^']*'")
_MARKETING = re.compile(r"(?:^|,)\s*marketing\s*:\s*([^,]*?)\s*(?=,|$)")
_METHOD = re.compile(r"(?:^|,)\s*method\s*:\s*'(implied|explicit)'")


def parse_cookiebot(value: str) -> Signal:
    """What ``CookieConsent`` says about marketing; never raises."""
    if too_long(value):
        return Signal(_KIND, Verdict.INVALID, "Cookiebot cookie too long")
    # Cookiebot writes the braces raw but percent-encodes quotes and commas (%27, %2C).
    text = percent_decode(value.strip(), until=()).strip()
    if text == "-1":
        return Signal(_KIND, Verdict.NOT_APPLICABLE,
                      "Cookiebot: no consent asked in the visitor's region (-1)")
    if len(text) < 2 or text[0] != "{" or text[-1] != "}":
        return Signal(_KIND, Verdict.INVALID, "Cookiebot cookie malformed")
    body = text[1:-1]
    method = _METHOD.search(body.replace("+", " "))
    # Outside quotes a '+' can only be a form-encoded space.
    plain = _QUOTED.sub("''", body).replace("+", " ")
    if plain.count("'") % 2:
        return Signal(_KIND, Verdict.INVALID, "Cookiebot cookie malformed")
    flags = [m.group(1) for m in _MARKETING.finditer(plain)]
    if not flags:
        return Signal(_KIND, Verdict.INVALID, "Cookiebot cookie has no marketing flag")
    how = f" ({method.group(1)})" if method else ""
    if "false" in flags:
        return Signal(_KIND, Verdict.OPT_OUT, f"Cookiebot marketing refused{how}")
    if all(flag == "true" for flag in flags):
        return Signal(_KIND, Verdict.NO_OPT_OUT, f"Cookiebot marketing consented{how}")
    return Signal(_KIND, Verdict.INVALID, "Cookiebot marketing flag malformed")
