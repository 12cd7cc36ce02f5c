"""The first-party cookies each vendor preset's tags write, and the pattern type that names them.

A tracker's identifier outlives its tag: removing the Meta Pixel stops the next beacon, but
the ``_fbp`` it wrote stays in the browser for the next script that reads it. These lists let
the middleware expire such cookies for opted-out visitors (:mod:`optout_mw.cookie_purge`) and
drop them from responses that would set them again.

Only cookies a tag writes on the *site's own* domain are listed: a cookie on the vendor's
domain (``fr`` on ``facebook.com``) belongs to another site, which no response from this one
can see or delete. Names a site commonly uses for its own cookies (``session``, ``ref-*``)
are never listed, even when a vendor writes them too, because deleting them would break the
site.

Every name is cited: :data:`OPEN_COOKIE_DATABASE` for entries of the Apache-2.0 Open Cookie
Database (github.com/jkwakman/Open-Cookie-Database; its CSV is vendored under
``tests/data/open-cookie-database/`` and a test checks each such name against it), or the
vendor's own documentation or code by URL. A preset whose list is empty says why in
:data:`NO_FIRST_PARTY_COOKIES`; a site that knows more names its cookies in its own rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = [
    "NO_FIRST_PARTY_COOKIES",
    "OPEN_COOKIE_DATABASE",
    "PRESET_COOKIES",
    "CookiePattern",
    "TrackerCookie",
    "TrackerCookieSet",
    "cookie_pattern_problem",
    "preset_cookie_patterns",
]

#: The source of names taken from the Open Cookie Database.
OPEN_COOKIE_DATABASE: Final = "Open Cookie Database"

# RFC 6265 §4.1.1: cookie-name is an RFC 9110 token.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: A prefix must be at least this long, so that no rule can name "every cookie starting
#: with an underscore".
MIN_PREFIX_LENGTH: Final = 3


def cookie_pattern_problem(text: object) -> str | None:
    """Why ``text`` is not a valid cookie pattern, or ``None`` when it is one.

    A pattern is an exact cookie name (``_fbp``) or a prefix ending in ``*`` (``_ga_*``).
    Names are RFC 6265 tokens and compare case-sensitively, as browsers compare them. A
    prefix needs at least three characters, one of them a letter or digit. The message
    quotes the value, which is configuration, never a secret.
    """
    if not isinstance(text, str):
        return f"expected a cookie name or 'prefix*', got {type(text).__name__}"
    prefix = text.endswith("*")
    name = text[:-1] if prefix else text
    if "*" in name:
        return f"'*' may only end a pattern, got {text!r}"
    if not _TOKEN.fullmatch(name):
        return f"not a valid cookie name: {text!r}"
    if prefix and (len(name) < MIN_PREFIX_LENGTH or not any(c.isalnum() for c in name)):
        return (
            f"prefix too broad: {text!r}; use at least {MIN_PREFIX_LENGTH} characters, "
            "one of them a letter or digit"
        )
    return None


@dataclass(frozen=True, slots=True)
class CookiePattern:
    """An exact cookie name, or a prefix that every name it matches starts with.

    Build one from its text with :meth:`parse`; ``str(pattern)`` gives the text back.

    :param name: the exact name, or the prefix (without its ``*``).
    :param prefix: ``True`` when ``name`` is a prefix.
    """

    name: str
    prefix: bool = False

    def __post_init__(self) -> None:
        problem = cookie_pattern_problem(str(self))
        if problem is not None:
            raise ValueError(problem)

    @classmethod
    def parse(cls, text: str) -> CookiePattern:
        """``"_ga_*"`` -> a prefix pattern, ``"_fbp"`` -> an exact one.

        :raises ValueError: with the reason of :func:`cookie_pattern_problem`.
        """
        problem = cookie_pattern_problem(text)
        if problem is not None:
            raise ValueError(problem)
        if text.endswith("*"):
            return cls(text[:-1], prefix=True)
        return cls(text)

    def matches(self, cookie_name: str) -> bool:
        if self.prefix:
            return cookie_name.startswith(self.name)
        return cookie_name == self.name

    def __str__(self) -> str:
        return self.name + "*" if self.prefix else self.name


class TrackerCookieSet:
    """The cookie patterns of the enabled rules, compiled for matching request cookie names.

    :param rules: ``(rule name, patterns)`` in priority order; when several rules name a
        cookie, the first one's name is reported.
    """

    __slots__ = ("_exact", "_prefix_start", "_prefixes", "rule_names")

    def __init__(self, rules: Iterable[tuple[str, Sequence[CookiePattern]]]) -> None:
        exact: dict[str, tuple[int, str]] = {}
        prefixes: list[tuple[str, int, str]] = []
        names: list[str] = []
        for rank, (rule, patterns) in enumerate(rules):
            if patterns:
                names.append(rule)
            for pattern in patterns:
                if pattern.prefix:
                    prefixes.append((pattern.name, rank, rule))
                else:
                    exact.setdefault(pattern.name, (rank, rule))
        self._exact = exact
        self._prefixes = tuple(prefixes)
        # One C-level startswith() rejects the names no prefix can match.
        self._prefix_start = tuple(p for p, _, _ in prefixes)
        #: The rules that name at least one cookie, in priority order.
        self.rule_names: tuple[str, ...] = tuple(names)

    def __bool__(self) -> bool:
        return bool(self._exact or self._prefixes)

    def match(self, cookie_name: str) -> str | None:
        """The name of the first rule that names ``cookie_name``, or ``None``."""
        found = self._exact.get(cookie_name)
        if self._prefix_start and cookie_name.startswith(self._prefix_start):
            for prefix, rank, rule in self._prefixes:
                if found is not None and found[0] <= rank:
                    break
                if cookie_name.startswith(prefix):
                    found = (rank, rule)
                    break
        return found[1] if found is not None else None


@dataclass(frozen=True, slots=True)
class TrackerCookie:
    """One listed cookie: its pattern and where the name comes from.

    :param source: :data:`OPEN_COOKIE_DATABASE`, or the URL of the vendor's documentation
        or code that names the cookie.
    """

    pattern: CookiePattern
    source: str


def _ocd(*patterns: str) -> tuple[TrackerCookie, ...]:
    return tuple(TrackerCookie(CookiePattern.parse(p), OPEN_COOKIE_DATABASE) for p in patterns)


def _doc(url: str, *patterns: str) -> tuple[TrackerCookie, ...]:
    return tuple(TrackerCookie(CookiePattern.parse(p), url) for p in patterns)


# Google: "the _gac and _gcl cookies ... Cookie names contain the property ID" (Analytics
# Help, "About the _gac cookie"); the database lists _gcl_au, _aw, _dc, _gb, _gs, _ha, _gf.
_GOOGLE_GCL: Final = "https://support.google.com/analytics/answer/7519794"
# Server-side tagging (a Tag Manager server container's Google Analytics client) sets the
# HttpOnly FPID and its linker FPLC on the site's domain; the database files both under
# Google Analytics.
_SERVER_SIDE_GA: Final = ("FPID", "FPLC")

_CATALOG: Final[dict[str, tuple[TrackerCookie, ...]]] = {
    # The container sets none of its own; its built-in tags do: the Conversion Linker
    # tag's _gcl_*, Universal Analytics' throttle cookie renamed _dc_gtm_<id> when deployed
    # through Tag Manager (developers.google.com/analytics/resources/concepts/
    # gaConceptsCookies), and a server container's FPID/FPLC.
    "google-tag-manager": (
        *_doc(_GOOGLE_GCL, "_gcl_*"),
        *_ocd("_dc_gtm_*", *_SERVER_SIDE_GA),
    ),
    # gtag.js / analytics.js (_ga, _gid, _gat, AMP_TOKEN, _gac_<property>), GA4 (_ga_<id>),
    # ga.js and Urchin (__utm*), enhanced link attribution (_gali), server-side tagging.
    "google-analytics": _ocd(
        "_ga",
        "_ga_*",
        "_gid",
        "_gat*",
        "_dc_gtm_*",
        "_gac_*",
        "_gali",
        "AMP_TOKEN",
        "__utma",
        "__utmb",
        "__utmc",
        "__utmt",
        "__utmv",
        "__utmx",
        "__utmxx",
        "__utmz",
        *_SERVER_SIDE_GA,
    ),
    # Conversion linker and click cookies, the ad-serving cookies set on publishers'
    # domains (__gads, __gpi, __gsas) and their server-side tagging counterparts (FP*).
    "google-ads": (
        *_doc(_GOOGLE_GCL, "_gcl_*"),
        *_ocd(
            "_gac_*",
            "__gads",
            "__gpi",
            "__gsas",
            "GoogleAdServingTest",
            "FPAU",
            "FPGCLAW",
            "FPGCLDC",
            "FPGCLGB",
        ),
    ),
    "meta-pixel": _ocd("_fbp", "_fbc"),
    "tiktok-pixel": _ocd("_ttp", "_tt_enable_cookie", "ttcsid*"),
    "linkedin-insight": _ocd("li_fat_id", "li_giant", "li_sugr", "ln_or"),
    "x-pixel": (),
    "pinterest-tag": _ocd(
        "_pin_unauth", "_epik", "_derived_epik", "_pinterest_ct", "_pinterest_ct_rt"
    ),
    "snap-pixel": _ocd("_scid", "_scid_r", "_schn"),
    "reddit-pixel": _ocd("_rdt_uuid"),
    # Criteo's own Prebid.js ID module (maintained by Criteo) stores its ids in these
    # first-party cookies ("bundleStorageKey = 'cto_bundle'", "bididStorageKey").
    "criteo": _doc(
        "https://github.com/prebid/Prebid.js/blob/master/modules/criteoIdSystem.js",
        "cto_bundle",
        "cto_bidid",
    ),
    "microsoft-uet": _ocd("_uetsid", "_uetvid"),
    "amazon-ads": (),
    "taboola": (),
    "outbrain": _ocd("outbrain_dicbo_id", "dicbo_id", "obsessionid-*"),
    "quora-pixel": (),
    "the-trade-desk": (),
    "adroll": (),
    # "Segment writes the user's IDs ... ajs_anonymous_id", with ajs_user_id and
    # ajs_group_id beside it; every ajs_ cookie is analytics.js's own.
    "segment": _doc(
        "https://www.twilio.com/docs/segment/connections/sources/catalog/libraries/website/"
        "javascript/identity",
        "ajs_*",
    ),
}

_VENDOR_DOMAIN_ONLY: Final = (
    "the Open Cookie Database places every cookie it lists for the vendor on the vendor's "
    "own domain, which no response from the site can reach, and the vendor's documentation "
    "names no first-party cookie"
)
_NOT_LISTED: Final = (
    "neither the Open Cookie Database nor the vendor's documentation names a first-party "
    "cookie"
)

#: Why a preset's list is empty. A site that finds one of these vendors' cookies on its
#: own domain names it in a site rule.
NO_FIRST_PARTY_COOKIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "x-pixel": _VENDOR_DOMAIN_ONLY,
        "taboola": _VENDOR_DOMAIN_ONLY,
        "the-trade-desk": _VENDOR_DOMAIN_ONLY,
        "amazon-ads": (
            "the Open Cookie Database places the Amazon Ads cookies (ad-id, ad-privacy) on "
            "amazon-adsystem.com, which no response from the site can reach; the one it lists "
            "without a domain (__trf.src) records referral commissions, not the ad tags' "
            "visitors"
        ),
        "quora-pixel": _NOT_LISTED,
        "adroll": _NOT_LISTED,
    }
)

#: Every preset's listed cookies by preset name (read-only).
PRESET_COOKIES: Final[Mapping[str, tuple[TrackerCookie, ...]]] = MappingProxyType(_CATALOG)


def preset_cookie_patterns(preset: str) -> tuple[CookiePattern, ...]:
    """The cookie patterns of one preset (empty for a name the catalog does not have)."""
    return tuple(cookie.pattern for cookie in PRESET_COOKIES.get(preset, ()))
