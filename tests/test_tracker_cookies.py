"""The preset cookie lists against the Open Cookie Database, and the cookie pattern type.

The database (Apache-2.0, vendored under tests/data/open-cookie-database/) is the judge:
every name attributed to it must be in it, and every entry it has for a preset's vendor
must be covered by the preset's list or left out here for a stated reason.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optout_mw.presets import PRESETS
from optout_mw.tracker_cookies import (
    NO_FIRST_PARTY_COOKIES,
    OPEN_COOKIE_DATABASE,
    PRESET_COOKIES,
    CookiePattern,
    TrackerCookieSet,
    cookie_pattern_problem,
    preset_cookie_patterns,
)

DATABASE = Path(__file__).parent / "data" / "open-cookie-database" / "open-cookie-database.csv"


class Entry(NamedTuple):
    platform: str
    name: str
    domain: str
    wildcard: bool


@cache
def database() -> tuple[Entry, ...]:
    with DATABASE.open(encoding="utf-8", newline="") as file:
        return tuple(
            Entry(
                row["Platform"],
                row["Cookie / Data Key name"],
                row["Domain"].strip(),
                row["Wildcard match"].strip() == "1",
            )
            for row in csv.DictReader(file)
        )


#: The database's platform names of each preset's vendor. Empty: the database has no entry.
PLATFORMS: Mapping[str, tuple[str, ...]] = {
    "google-tag-manager": ("Google Tag Manager",),
    "google-analytics": ("Google Analytics",),
    "google-ads": (
        "Google Ads",
        "Google AdSense",
        "DoubleClick/Google Marketing",
        "Google",
        "Google Hotel Ads",
        "Google Flights",
    ),
    "meta-pixel": ("Facebook",),
    "tiktok-pixel": ("TikTok",),
    "linkedin-insight": ("LinkedIn",),
    "x-pixel": ("X",),
    "pinterest-tag": ("Pinterest",),
    "snap-pixel": ("Snapchat",),
    "reddit-pixel": ("Reddit",),
    "criteo": (),
    "microsoft-uet": ("Bing / Microsoft",),
    "amazon-ads": ("Amazon",),
    "taboola": ("Taboola",),
    "outbrain": ("Outbrain",),
    "quora-pixel": (),
    "the-trade-desk": ("The Tradedesk",),
    "adroll": (),
    "segment": (),
}

GOOGLE_OWN = "set by Google's own sites (Search, YouTube, accounts, ad settings), not by its tags"
CONSENT = "records a consent or opt-out choice: deleting it could undo one"
GENERIC = "a generic name a site may use for a cookie of its own"
NO_IDENTIFIER = "security, load balancing or a feature flag, holding no visitor identifier"

#: Entries of a preset's vendor that have no domain in the database (so could be on the
#: site's) and that the preset deliberately does not list. Entries the database places on a
#: vendor domain are left out by rule: no response from the site can reach them.
LEFT_OUT: Mapping[str, Mapping[str, str]] = {
    "google-tag-manager": {"cookiePreferences": GENERIC},
    "google-analytics": {"FPAU": "an advertising cookie, listed by google-ads"},
    "google-ads": {
        "FPGSID": "the database files it as an essential session and security cookie",
        "__eoi": NO_IDENTIFIER,
        "GCLB": NO_IDENTIFIER,
        "receive-cookie-deprecation": NO_IDENTIFIER,
        "__gpi_optout": CONSENT,
        "FCCDCF": CONSENT + " (Google's consent management platform)",
        "FCNEC": CONSENT + " (Google's consent management platform)",
        "pm_sess": GOOGLE_OWN,
        "pm_sess_NNN": GOOGLE_OWN,
        "aboutads_sessNNN": GOOGLE_OWN,
        "ANID": GOOGLE_OWN,
        "GED_PLAYLIST_ACTIVITY": GOOGLE_OWN,
        "ACLK_DATA": GOOGLE_OWN,
        "_Secure-ENID": GOOGLE_OWN,
        "Secure-YEC": GOOGLE_OWN,
        "_Secure-YEC": GOOGLE_OWN,
        "__Secure-YNID": GOOGLE_OWN,
        "CGIC": GOOGLE_OWN,
        "AdID": GOOGLE_OWN,
        "DSID": GOOGLE_OWN,
        "gcl": GENERIC + "; the tags write _gcl_*",
        "gac": GENERIC + "; the tags write _gac_*",
        "_dcid": GENERIC,
    },
    "linkedin-insight": {"queryString": GENERIC},
    "snap-pixel": {"X-AB": GENERIC},
    "amazon-ads": {"__trf.src": "records referral commissions, not the ad tags' visitors"},
    "outbrain": {
        "opout": CONSENT,
        "recs-": GENERIC,
        "ref-": GENERIC,
        "europe": GENERIC,
        "auid": GENERIC,
        "unifiedPixel": GENERIC,
    },
}

#: Entries of other products that a listed pattern matches, and why that is acceptable.
OTHER_PRODUCTS: Mapping[tuple[str, str], str] = {
    ("Snapwidget", "_gat_pro"): "Google Analytics' throttle cookie of Snapwidget's own site",
    ("Trustpilot", "ajs_user_id"): "Segment's analytics.js on Trustpilot's own domain",
    ("Trustpilot", "ajs_anonymous_id"): "Segment's analytics.js on Trustpilot's own domain",
    ("Trustpilot", "ajs_group_id"): "Segment's analytics.js on Trustpilot's own domain",
}


def entries_of(preset: str) -> list[Entry]:
    return [entry for entry in database() if entry.platform in PLATFORMS[preset]]


def in_database(pattern: CookiePattern) -> bool:
    """A prefix must be one of the database's wildcard names; an exact name must be one of
    its names, or start with one of its wildcard names."""
    for entry in database():
        if pattern.prefix:
            if entry.wildcard and entry.name == pattern.name:
                return True
        elif entry.name == pattern.name or (entry.wildcard and pattern.name.startswith(entry.name)):
            return True
    return False


# --- the lists ----------------------------------------------------------------------------


def test_database_is_the_vendored_csv() -> None:
    assert len(database()) > 2000
    assert (DATABASE.parent / "LICENSE").read_text(encoding="utf-8").lstrip().startswith(
        "Apache License"
    )


def test_every_preset_has_a_list_and_every_list_a_preset() -> None:
    assert set(PRESET_COOKIES) == set(PRESETS) == set(PLATFORMS)


def test_a_list_is_empty_exactly_when_it_says_why() -> None:
    empty = {name for name, cookies in PRESET_COOKIES.items() if not cookies}
    assert empty == set(NO_FIRST_PARTY_COOKIES)
    assert all(len(reason) > 40 for reason in NO_FIRST_PARTY_COOKIES.values())


@pytest.mark.parametrize("preset", sorted(PRESET_COOKIES))
def test_every_name_is_cited(preset: str) -> None:
    for cookie in PRESET_COOKIES[preset]:
        if cookie.source == OPEN_COOKIE_DATABASE:
            assert in_database(cookie.pattern), f"{cookie.pattern} is not in the database"
        else:
            assert cookie.source.startswith("https://"), cookie.source


@pytest.mark.parametrize("preset", sorted(PRESET_COOKIES))
def test_every_database_entry_of_the_vendor_is_covered_or_left_out(preset: str) -> None:
    patterns = preset_cookie_patterns(preset)
    left_out = LEFT_OUT.get(preset, {})
    undecided = []
    for entry in entries_of(preset):
        covered = any(p.matches(entry.name) for p in patterns)
        if covered:
            assert entry.name not in left_out, f"{entry.name} is both listed and left out"
        elif not entry.domain and entry.name not in left_out:
            undecided.append(entry.name)
    assert not undecided, f"{preset}: list these or say why not: {undecided}"


@pytest.mark.parametrize("preset", sorted(LEFT_OUT))
def test_what_is_left_out_is_in_the_database(preset: str) -> None:
    names = {entry.name for entry in entries_of(preset)}
    assert set(LEFT_OUT[preset]) <= names


@pytest.mark.parametrize("preset", sorted(PLATFORMS))
def test_a_vendor_without_database_entries_cites_its_own_docs(preset: str) -> None:
    if entries_of(preset):
        return
    sources = {cookie.source for cookie in PRESET_COOKIES[preset]}
    assert OPEN_COOKIE_DATABASE not in sources
    assert sources or preset in NO_FIRST_PARTY_COOKIES


def test_no_pattern_takes_another_products_cookie() -> None:
    ours = {platform for platforms in PLATFORMS.values() for platform in platforms}
    every = [c.pattern for cookies in PRESET_COOKIES.values() for c in cookies]
    taken = {
        (entry.platform, entry.name)
        for entry in database()
        if entry.platform not in ours and any(p.matches(entry.name) for p in every)
    }
    assert taken == set(OTHER_PRODUCTS)


@pytest.mark.parametrize(
    "name",
    [
        "session", "sessionid", "csrftoken", "JSESSIONID", "PHPSESSID", "connect.sid",
        "XSRF-TOKEN", "_csrf", "lang", "locale", "cart", "token", "remember_me",
        "optout_choice", "usprivacy", "__gpp", "__gpp_sid", "OptanonConsent",
        "CookieConsent", "_shopify_y", "wordpress_logged_in_abc", "_gh_sess",
    ],
)
def test_first_party_names_sites_use_are_not_listed(name: str) -> None:
    every = TrackerCookieSet(
        (preset, preset_cookie_patterns(preset)) for preset in PRESET_COOKIES
    )
    assert every.match(name) is None


def test_the_examples_of_the_issue_are_listed() -> None:
    every = TrackerCookieSet(
        (preset, preset_cookie_patterns(preset)) for preset in PRESET_COOKIES
    )
    expected = {
        "_ga": "google-analytics",
        "_ga_ABC123": "google-analytics",
        "_gid": "google-analytics",
        "_gat_UA-1-1": "google-analytics",
        "_gcl_au": "google-tag-manager",
        "_gac_UA-1-1": "google-analytics",
        "_fbp": "meta-pixel",
        "_fbc": "meta-pixel",
        "_ttp": "tiktok-pixel",
        "_tt_enable_cookie": "tiktok-pixel",
        "ttcsid_C123": "tiktok-pixel",
        "_uetsid": "microsoft-uet",
        "_uetvid": "microsoft-uet",
        "_pin_unauth": "pinterest-tag",
        "_epik": "pinterest-tag",
        "_derived_epik": "pinterest-tag",
        "li_fat_id": "linkedin-insight",
        "_scid": "snap-pixel",
        "_rdt_uuid": "reddit-pixel",
        "cto_bundle": "criteo",
        "ajs_anonymous_id": "segment",
        "FPID": "google-tag-manager",
        "FPLC": "google-tag-manager",
    }
    assert {name: every.match(name) for name in expected} == expected


# --- CookiePattern -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "prefix"),
    [("_fbp", "_fbp", False), ("_ga_*", "_ga_", True), ("ttcsid*", "ttcsid", True),
     ("__Host-sid", "__Host-sid", False)],
)
def test_pattern_parses_and_prints_back(text: str, name: str, prefix: bool) -> None:
    pattern = CookiePattern.parse(text)
    assert (pattern.name, pattern.prefix, str(pattern)) == (name, prefix, text)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "not a valid cookie name: ''"),
        ("*", "not a valid cookie name: '*'"),
        ("_*", "prefix too broad: '_*'"),
        ("__*", "prefix too broad: '__*'"),
        ("a*b", "'*' may only end a pattern, got 'a*b'"),
        ("_ga**", "'*' may only end a pattern"),
        ("has space", "not a valid cookie name: 'has space'"),
        ("semi;colon", "not a valid cookie name"),
        ("ünïcode", "not a valid cookie name"),
    ],
)
def test_bad_patterns_say_why(text: str, problem: str) -> None:
    reason = cookie_pattern_problem(text)
    assert reason is not None and reason.startswith(problem)
    with pytest.raises(ValueError, match="^" + reason.replace("*", r"\*") + "$"):
        CookiePattern.parse(text)


def test_a_pattern_cannot_be_built_invalid() -> None:
    with pytest.raises(ValueError, match="prefix too broad"):
        CookiePattern("_", prefix=True)
    assert cookie_pattern_problem(12) == "expected a cookie name or 'prefix*', got int"


def test_matching_is_case_sensitive_like_browsers() -> None:
    assert CookiePattern.parse("_ga").matches("_ga")
    assert not CookiePattern.parse("_ga").matches("_GA")
    assert not CookiePattern.parse("_ga").matches("_ga_1")
    assert CookiePattern.parse("_ga_*").matches("_ga_")
    assert not CookiePattern.parse("_ga_*").matches("_ga")


@given(st.text(max_size=40))
def test_any_text_is_a_pattern_or_has_a_reason(text: str) -> None:
    problem = cookie_pattern_problem(text)
    if problem is None:
        assert str(CookiePattern.parse(text)) == text
    else:
        with pytest.raises(ValueError):
            CookiePattern.parse(text)


# --- TrackerCookieSet ----------------------------------------------------------------------


def _set(*rules: tuple[str, tuple[str, ...]]) -> TrackerCookieSet:
    return TrackerCookieSet((n, tuple(map(CookiePattern.parse, p))) for n, p in rules)


def test_first_rule_wins_whether_exact_or_prefix() -> None:
    cookies = _set(("a", ("_xx*",)), ("b", ("_xxy",)), ("c", ("_xxyz*", "_q")))
    assert cookies.match("_xxy") == "a"
    assert cookies.match("_xxyz1") == "a"
    assert cookies.match("_q") == "c"
    later_prefix = _set(("a", ("_xxy",)), ("b", ("_xx*",)))
    assert later_prefix.match("_xxy") == "a"
    assert later_prefix.match("_xxz") == "b"
    assert later_prefix.match("other") is None


def test_rules_without_cookies_are_skipped() -> None:
    cookies = _set(("none", ()), ("some", ("_fbp",)))
    assert cookies.rule_names == ("some",)
    assert cookies and not _set(("none", ()))


def test_the_docs_table_lists_every_preset_cookie() -> None:
    text = (Path(__file__).parents[1] / "docs" / "cookies.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \| ([^|]*) \|", text, re.MULTILINE))
    assert set(rows) == set(PRESET_COOKIES)
    for preset, cookies in PRESET_COOKIES.items():
        assert re.findall(r"`([^`]+)`", rows[preset]) == [str(c.pattern) for c in cookies]
