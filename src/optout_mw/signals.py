"""Total parsers for the opt-out signals. None of them raises, whatever the input.

Each returns a :class:`Signal` (or ``None`` when the signal is absent) whose ``reason`` says
why it was read the way it was. Sources: W3C GPC §"The Sec-GPC header field"; IAB US Privacy
String v1; IAB GPP (see SIGNALS.md in the project's design notes and docs/signals.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import overload


class SignalKind(StrEnum):
    #: The ``Sec-GPC`` request header.
    GPC = "gpc"
    #: The site's own signed choice cookie.
    SITE_CHOICE = "site_choice"
    #: The IAB US Privacy string (``usprivacy`` cookie).
    US_PRIVACY = "us_privacy"
    #: The IAB Global Privacy Platform string.
    GPP = "gpp"
    # Consent tools' own first-party cookies, each read only when enabled by name in
    # ``cmp_cookies`` (see optout_mw.cmp and docs/cmp.md).
    #: OneTrust's ``OptanonConsent`` cookie.
    ONETRUST = "onetrust"
    #: Cookiebot's ``CookieConsent`` cookie.
    COOKIEBOT = "cookiebot"
    #: iubenda's ``_iub_cs-*`` preference cookies.
    IUBENDA = "iubenda"
    #: Didomi's ``didomi_token`` cookie.
    DIDOMI = "didomi"
    #: Ketch's ``_ketch_consent_v1_`` cookie.
    KETCH = "ketch"
    #: Transcend's consent cookie (``tcm``).
    TRANSCEND = "transcend"
    #: Fides' ``fides_consent`` cookie.
    FIDES = "fides"
    #: A site's own cookie rule (``acme_optout=1``).
    COOKIE_RULE = "cookie_rule"


class Verdict(StrEnum):
    #: The signal says: do not sell or share.
    OPT_OUT = "opt_out"
    #: The signal says the visitor did not opt out (or opted back in).
    NO_OPT_OUT = "no_opt_out"
    #: Present, but says the rules do not apply (``1---``) or carries no preference.
    NOT_APPLICABLE = "not_applicable"
    #: Present but malformed or unverifiable; never grants consent.
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Signal:
    """One signal seen on a request. ``reason`` never contains secrets or whole cookies."""

    kind: SignalKind
    verdict: Verdict
    reason: str

    @property
    def opted_out(self) -> bool:
        return self.verdict is Verdict.OPT_OUT


def parse_gpc(values: Iterable[str]) -> Signal | None:
    """The GPC signal from every ``Sec-GPC`` field value of a request.

    Only a member exactly equal to ``1`` counts; WSGI joins repeated fields into ``"0, 1"``,
    so values are split on commas and optional whitespace (RFC 9110 OWS) trimmed. Any other
    value is processed "as if that header had not been specified" (W3C GPC), reported as
    ``NOT_APPLICABLE`` so it can never tip a decision, even in strict mode.
    """
    seen = False
    for value in values:
        seen = True
        if value == "1":
            return GPC_ON
        for member in value.split(","):
            if member.strip(" \t") == "1":
                return GPC_ON
    if not seen:
        return None
    return GPC_IGNORED


#: The two GPC outcomes, shared (signals are immutable).
GPC_ON = Signal(SignalKind.GPC, Verdict.OPT_OUT, "Sec-GPC: 1")
GPC_IGNORED = Signal(
    SignalKind.GPC, Verdict.NOT_APPLICABLE, "Sec-GPC ignored: its value is not exactly '1'"
)

#: IAB US Privacy String v1: the version ``1``, then Notice, OptOutSale and LspaCovered,
#: each ``Y``, ``N`` or ``-``. The only grammar optout-mw reads the string with (the
#: middleware and ``optout-mw decode`` alike).
_US_PRIVACY = re.compile(r"1[YN-][YN-][YN-]")

#: The IAB names of the four characters, in order.
US_PRIVACY_FIELDS = ("Version", "Notice", "OptOutSale", "LspaCovered")


def us_privacy_fields(value: str) -> dict[str, str] | None:
    """The four characters of a well-formed US Privacy string by their IAB names, or
    ``None`` when :func:`parse_us_privacy` reads the string as malformed."""
    if _US_PRIVACY.fullmatch(value) is None:
        return None
    return dict(zip(US_PRIVACY_FIELDS, value, strict=True))


@overload
def parse_us_privacy(value: str) -> Signal: ...
@overload
def parse_us_privacy(value: None) -> None: ...
def parse_us_privacy(value: str | None) -> Signal | None:
    """The IAB US Privacy string (``usprivacy`` cookie, 4 characters, e.g. ``1YYN``).

    The third character is "opted out of sale". ``1---`` means the rules do not apply, not an
    opt-out. A malformed string never grants consent, and a third character ``Y`` or ``y``
    is an opt-out whatever the rest looks like (fail closed). ``optout-mw decode`` prints
    this verdict and reason.
    """
    if value is None:
        return None
    if _US_PRIVACY.fullmatch(value):
        third = value[2]
        if third == "Y":
            return Signal(SignalKind.US_PRIVACY, Verdict.OPT_OUT,
                          f"US Privacy {value}: opted out of sale")
        if third == "N":
            return Signal(SignalKind.US_PRIVACY, Verdict.NO_OPT_OUT,
                          f"US Privacy {value}: did not opt out of sale")
        if value == "1---":
            return Signal(SignalKind.US_PRIVACY, Verdict.NOT_APPLICABLE,
                          "US Privacy 1---: CCPA does not apply")
        return Signal(SignalKind.US_PRIVACY, Verdict.INVALID,
                      f"US Privacy {value}: opt-out position is '-' while the rules apply")
    if len(value) >= 3 and value[2] in "Yy":
        return Signal(SignalKind.US_PRIVACY, Verdict.OPT_OUT,
                      "US Privacy malformed, but its opt-out position says Y: opted out")
    return Signal(SignalKind.US_PRIVACY, Verdict.INVALID, "US Privacy string malformed")
