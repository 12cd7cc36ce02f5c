"""OneTrust's ``OptanonConsent`` cookie.

The value is form-encoded (``isGpcEnabled=0&datestamp=…&groups=C0001%3A1%2CC0004%3A0``).
``groups`` lists each category as ``ID:1`` (consented) or ``ID:0`` (refused);
``isGpcEnabled=1`` records that OneTrust saw Global Privacy Control in the browser.
``OptanonAlertBoxClosed`` holds when the visitor closed the banner: without it the groups
are the banner's defaults, not a choice. Sources: docs/cmp.md (OneTrust).
"""

from __future__ import annotations

from optout_mw.signals import Signal, SignalKind, Verdict

from ._decode import form_pairs, percent_decode, too_long

COOKIE = "OptanonConsent"
ALERT_COOKIE = "OptanonAlertBoxClosed"

_KIND = SignalKind.ONETRUST


def parse_onetrust(
    value: str, categories: tuple[str, ...], alert_box_closed: str | None = None
) -> Signal:
    """What ``OptanonConsent`` says about sale and targeting; never raises."""
    if too_long(value):
        return Signal(_KIND, Verdict.INVALID, "OneTrust cookie too long")
    # A value encoded once more than OneTrust writes it has no raw '=' between its pairs.
    text = percent_decode(value.strip(), until=("=",))
    pairs = form_pairs(text)
    if not pairs:
        return Signal(_KIND, Verdict.INVALID, "OneTrust cookie malformed")
    gpc = [v for k, v in pairs if k == "isGpcEnabled"]
    groups = [v for k, v in pairs if k == "groups"]
    if "1" in gpc:
        return Signal(_KIND, Verdict.OPT_OUT, "OneTrust recorded Global Privacy Control "
                                              "(isGpcEnabled=1)")
    if not groups:
        if gpc:
            return Signal(_KIND, Verdict.NOT_APPLICABLE, "OneTrust cookie holds no groups")
        return Signal(_KIND, Verdict.INVALID, "OneTrust cookie has neither groups nor "
                                              "isGpcEnabled")
    consented: list[str] = []
    for raw in groups:
        entries = percent_decode(raw, until=(":",)).split(",")
        for position, entry in enumerate(entries):
            group, sep, flag = entry.strip().partition(":")
            if not sep:
                if position == len(entries) - 1 and entry.strip():
                    # A cookie cut short loses its last entry's flag; what it hid is unknown.
                    return Signal(_KIND, Verdict.INVALID, "OneTrust groups truncated")
                continue
            if group not in categories:
                continue
            if flag == "0":
                return Signal(_KIND, Verdict.OPT_OUT,
                              f"OneTrust category {group} refused{_context(alert_box_closed)}")
            if flag != "1":
                return Signal(_KIND, Verdict.INVALID, f"OneTrust category {group} malformed")
            consented.append(group)
    if consented:
        return Signal(_KIND, Verdict.NO_OPT_OUT,
                      f"OneTrust categories {','.join(dict.fromkeys(consented))} consented"
                      f"{_context(alert_box_closed)}")
    return Signal(_KIND, Verdict.NOT_APPLICABLE,
                  f"OneTrust groups hold none of {','.join(categories)}")


def _context(alert_box_closed: str | None) -> str:
    # The banner's defaults are the site's, not the visitor's (OneTrust writes groups
    # before any interaction); say which one the signal reflects.
    return " by the visitor" if alert_box_closed else " (banner defaults, not yet closed)"
