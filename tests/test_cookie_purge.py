"""Host validation, the exact deletion lines, the cap and its continuation, stripping
``Set-Cookie`` values, and the "forget this device" header.

What a real browser does with these lines is checked in tests/e2e/test_cookie_purge_browser.py.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optout_mw.cookie_purge import (
    CLEAR_SITE_DATA,
    DEFAULT_MAX_BYTES,
    AllowedHosts,
    CookieFinding,
    PurgeSettings,
    allowed_host_problem,
    cookie_names,
    deletion_lines,
    forget_device_headers,
    line_bytes,
    purge_page,
    set_cookie_name,
    strip_set_cookies,
    validated_host,
)
from optout_mw.tracker_cookies import PRESET_COOKIES, CookiePattern, TrackerCookieSet

CHOICE = "optout_choice"
PROTECTED = frozenset({CHOICE, "usprivacy"})
EVERY_PRESET = TrackerCookieSet(
    (name, tuple(c.pattern for c in cookies)) for name, cookies in PRESET_COOKIES.items()
)
# What a deletion line may contain: a token name, then attributes from a closed set.
LINE = re.compile(
    r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+=; Max-Age=0; Path=/[A-Za-z0-9\-._~!$&'()*+,=:@%/]*"
    r"(?:; Domain=[a-z0-9_.-]+)?(?:; Secure)?"
)
SAFE_HOST = re.compile(r"[a-z0-9_.:-]+")


def settings(**changes: object) -> PurgeSettings:
    values: dict[str, object] = {"protected": PROTECTED}
    values.update(changes)
    return PurgeSettings(**values)  # type: ignore[arg-type]


# --- validated_host -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "allowed", "expected"),
    [
        pytest.param("shop.example", ["shop.example"], "shop.example", id="exact"),
        pytest.param("Shop.Example:8443", ["shop.example"], "shop.example", id="case and port"),
        pytest.param("shop.example.", ["shop.example"], "shop.example", id="trailing dot"),
        pytest.param("shop.example:", ["shop.example"], "shop.example", id="empty port"),
        pytest.param(b"shop.example", ["shop.example"], "shop.example", id="asgi bytes"),
        pytest.param("www.shop.example", ["shop.example"], None, id="subdomain not exact"),
        pytest.param("a.b.shop.example", [".shop.example"], "a.b.shop.example", id="dot suffix"),
        pytest.param("shop.example", [".shop.example"], "shop.example", id="dot suffix itself"),
        pytest.param("www.shop.example", ["*.shop.example"], "www.shop.example", id="star"),
        pytest.param("shop.example", ["*.shop.example"], None, id="star excludes itself"),
        pytest.param("evilshop.example", [".shop.example"], None, id="label boundary"),
        pytest.param("xn--bcher-kva.example", ["bücher.example"], "xn--bcher-kva.example",
                     id="unicode entry"),
        pytest.param("127.0.0.1:8000", ["127.0.0.1"], "127.0.0.1", id="ipv4"),
        pytest.param("[::1]:8000", ["::1"], "::1", id="ipv6"),
        pytest.param("[0:0::1]", ["[::1]"], "::1", id="ipv6 compressed"),
        pytest.param("[fe80::1%25eth0]", ["fe80::1"], None, id="zone id"),
        pytest.param("::1", ["::1"], None, id="ipv6 without brackets"),
        pytest.param("0x7f.1", ["127.0.0.1", "0x7f.1"], None, id="numeric host"),
        pytest.param("1.2.3", ["1.2.3"], None, id="short ipv4"),
        pytest.param("shop.example\r\nSet-Cookie: a=b", ["shop.example"], None, id="crlf"),
        pytest.param("shop.example; Domain=evil", ["shop.example"], None, id="attribute"),
        pytest.param("shop.example:80:80", ["shop.example"], None, id="two ports"),
        pytest.param("shop.example:http", ["shop.example"], None, id="named port"),
        pytest.param("sh op.example", ["shop.example"], None, id="space"),
        pytest.param("bücher.example", ["bücher.example"], None, id="raw unicode header"),
        pytest.param("-shop.example", ["-shop.example"], None, id="bad label"),
        pytest.param("", ["shop.example"], None, id="empty"),
        pytest.param(None, ["shop.example"], None, id="missing"),
        pytest.param("shop.example", [], None, id="nothing allowed"),
        pytest.param("shop.example", ["*"], None, id="star alone is no allowance"),
    ],
)
def test_validated_host(
    header: str | bytes | None, allowed: list[str], expected: str | None
) -> None:
    assert validated_host(header, allowed) == expected


@pytest.mark.parametrize(
    "entry", ["*", "", ".", "*.", "https://shop.example", "shop.example/path", "*.1.2.3.4", 7]
)
def test_bad_allowed_hosts_say_why(entry: object) -> None:
    problem = allowed_host_problem(entry)
    assert problem is not None and problem.startswith("expected a hostname")
    with pytest.raises(ValueError, match=r"^expected a hostname"):
        AllowedHosts([entry])  # type: ignore[list-item]


def test_good_allowed_hosts_have_no_problem() -> None:
    for entry in ("shop.example", ".shop.example", "*.shop.example", "::1", "localhost"):
        assert allowed_host_problem(entry) is None
    assert AllowedHosts(["shop.example"]) and not AllowedHosts([])


@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_host_header_is_refused_or_safe(header: str | bytes) -> None:
    allowed = AllowedHosts([".example", "::1", "127.0.0.1", "*.shop.test"])
    host = validated_host(header, allowed)
    assert host is None or (SAFE_HOST.fullmatch(host) and allowed.allows(host))


@given(st.from_regex(r"[A-Za-z0-9-]{1,10}(\.[A-Za-z0-9-]{1,10}){0,3}\.example(:[0-9]{1,5})?",
                     fullmatch=True))
def test_names_under_an_allowed_suffix_come_back_lowercase_without_port(header: str) -> None:
    host = validated_host(header, [".example"])
    bare = header.rsplit(":", 1)[0] if ":" in header else header
    labels_ok = all(not label.startswith("-") and not label.endswith("-")
                    for label in bare.split("."))
    assert host == (bare.lower() if labels_ok else None)


# --- the exact deletion lines ---------------------------------------------------------------


def test_host_only_for_a_single_label_host() -> None:
    assert deletion_lines("_ga", "localhost", "http") == ("_ga=; Max-Age=0; Path=/",)


def test_every_parent_domain_but_the_top_level_label_then_host_only() -> None:
    assert deletion_lines("_ga", "www.shop.example", "https") == (
        "_ga=; Max-Age=0; Path=/; Domain=shop.example; Secure",
        "_ga=; Max-Age=0; Path=/; Domain=www.shop.example; Secure",
        "_ga=; Max-Age=0; Path=/; Secure",
    )


def test_deep_subdomain_with_configured_paths() -> None:
    assert deletion_lines("_fbp", "a.b.shop.example", "http", ("/", "/blog")) == (
        "_fbp=; Max-Age=0; Path=/; Domain=shop.example",
        "_fbp=; Max-Age=0; Path=/; Domain=b.shop.example",
        "_fbp=; Max-Age=0; Path=/; Domain=a.b.shop.example",
        "_fbp=; Max-Age=0; Path=/",
        "_fbp=; Max-Age=0; Path=/blog; Domain=shop.example",
        "_fbp=; Max-Age=0; Path=/blog; Domain=b.shop.example",
        "_fbp=; Max-Age=0; Path=/blog; Domain=a.b.shop.example",
        "_fbp=; Max-Age=0; Path=/blog",
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "2001:db8::7"])
def test_ip_hosts_get_no_domain_attribute(host: str) -> None:
    assert deletion_lines("_ga", host, "https", ("/", "/shop")) == (
        "_ga=; Max-Age=0; Path=/; Secure",
        "_ga=; Max-Age=0; Path=/shop; Secure",
    )


def test_host_prefix_is_deleted_only_as_it_can_be_set() -> None:
    # RFC 6265bis §4.1.3.2: Secure, Path=/ and no Domain, and only from a secure origin.
    assert deletion_lines("__Host-vid", "www.shop.example", "https", ("/", "/blog")) == (
        "__Host-vid=; Max-Age=0; Path=/; Secure",
    )
    assert deletion_lines("__host-vid", "www.shop.example", "https") == (
        "__host-vid=; Max-Age=0; Path=/; Secure",
    )
    assert deletion_lines("__Host-vid", "www.shop.example", "http") == ()


def test_secure_prefix_always_carries_secure() -> None:
    assert deletion_lines("__Secure-vid", "www.shop.example", "https") == (
        "__Secure-vid=; Max-Age=0; Path=/; Domain=shop.example; Secure",
        "__Secure-vid=; Max-Age=0; Path=/; Domain=www.shop.example; Secure",
        "__Secure-vid=; Max-Age=0; Path=/; Secure",
    )
    assert deletion_lines("__SECURE-vid", "www.shop.example", "http") == ()


def test_public_suffixes_are_left_out_when_a_list_is_given() -> None:
    suffixes = {"co.uk"}
    assert deletion_lines("_ga", "www.shop.co.uk", "https", ("/",), suffixes.__contains__) == (
        "_ga=; Max-Age=0; Path=/; Domain=shop.co.uk; Secure",
        "_ga=; Max-Age=0; Path=/; Domain=www.shop.co.uk; Secure",
        "_ga=; Max-Age=0; Path=/; Secure",
    )
    # Without a list the co.uk line is sent too; browsers ignore it (RFC 6265 §5.3 step 5).
    assert len(deletion_lines("_ga", "www.shop.co.uk", "https")) == 4


# --- purge_page: which cookies, the cap, the continuation -----------------------------------


def test_only_tracker_cookies_and_never_the_protected_ones() -> None:
    names = cookie_names("session=1; _ga=GA1.1; optout_choice=x; usprivacy=1YYN; _fbp=fb.1")
    cookies = TrackerCookieSet([
        ("google-analytics", (CookiePattern.parse("_ga"),)),
        ("meta-pixel", (CookiePattern.parse("_fbp"),)),
        # A site rule broad enough to name the choice cookie still cannot touch it.
        ("site", (CookiePattern.parse("optout_*"), CookiePattern.parse("usprivacy"))),
    ])
    page = purge_page(names, cookies, "shop.example", "https", settings())
    assert page.lines == (
        "_fbp=; Max-Age=0; Path=/; Domain=shop.example; Secure",
        "_fbp=; Max-Age=0; Path=/; Secure",
        "_ga=; Max-Age=0; Path=/; Domain=shop.example; Secure",
        "_ga=; Max-Age=0; Path=/; Secure",
    )
    assert page.purged == (CookieFinding("meta-pixel", "_fbp"),
                           CookieFinding("google-analytics", "_ga"))
    assert page.deferred == page.unreachable == ()


def test_names_that_are_not_tokens_are_never_written_back() -> None:
    cookies = TrackerCookieSet([("ga", (CookiePattern.parse("_ga_*"),))])
    names = ["_ga_ok", "_ga_a b", "_ga_\x00", "_ga_é", '_ga_"q"']
    page = purge_page(names, cookies, "shop.example", "http", settings())
    assert {f.cookie for f in page.purged} == {"_ga_ok"}


def test_the_cap_on_lines_defers_whole_cookies_in_name_order() -> None:
    names = ["_gid", "_ga", "_fbp", "_ttp"]
    page = purge_page(names, EVERY_PRESET, "www.shop.example", "https", settings(max_lines=7))
    assert [f.cookie for f in page.purged] == ["_fbp", "_ga"]  # three lines each
    assert [f.cookie for f in page.deferred] == ["_gid", "_ttp"]
    assert len(page.lines) == 6


def test_the_cap_on_bytes() -> None:
    one = sum(map(line_bytes, deletion_lines("_fbp", "www.shop.example", "https")))
    page = purge_page(["_fbp", "_fbc"], EVERY_PRESET, "www.shop.example", "https",
                      settings(max_bytes=max(256, 2 * one - 1)))
    assert [f.cookie for f in page.purged] == ["_fbc"]
    assert [f.cookie for f in page.deferred] == ["_fbp"]
    assert sum(map(line_bytes, page.lines)) <= 2 * one - 1
    assert line_bytes("a=b") == len("Set-Cookie: a=b\r\n")


def test_the_next_pages_continue_until_every_tracker_cookie_is_gone() -> None:
    jar = {"_ga", "_gid", "_fbp", "_fbc", "_ttp", "_uetsid", "_uetvid", "li_fat_id",
           "_rdt_uuid", "cto_bundle", "ajs_user_id", "_ga_ABC", "session", CHOICE}
    pages = []
    while True:
        page = purge_page(jar, EVERY_PRESET, "www.shop.example", "https",
                          settings(max_lines=6))
        if not page.lines:
            break
        assert len(page.lines) <= 6
        pages.append([f.cookie for f in page.purged])
        jar -= {f.cookie for f in page.purged}  # what the browser did with the lines
    assert jar == {"session", CHOICE}
    assert len(pages) == 6
    assert pages[0] == ["_fbc", "_fbp"]  # sorted by name: a deterministic order


def test_default_cap_fits_an_nginx_buffer_with_room_for_the_app() -> None:
    names = [f"_ga_{'X' * 10}{i}" for i in range(40)]
    page = purge_page(names, EVERY_PRESET, "www.shop.example", "https", settings())
    assert sum(map(line_bytes, page.lines)) <= DEFAULT_MAX_BYTES == 2048
    assert page.deferred


def test_a_cookie_alone_over_the_cap_is_sent_as_far_as_it_fits() -> None:
    page = purge_page(["_ga", "_gid"], EVERY_PRESET, "a.b.c.shop.example", "https",
                      settings(max_lines=2, paths=("/blog",)))
    assert page.lines == (
        "_ga=; Max-Age=0; Path=/; Domain=shop.example; Secure",
        "_ga=; Max-Age=0; Path=/; Domain=c.shop.example; Secure",
    )
    assert page.purged == (CookieFinding("google-analytics", "_ga"),)
    assert page.deferred == (CookieFinding("google-analytics", "_gid"),)


def test_what_no_response_can_delete_is_reported_not_sent() -> None:
    cookies = TrackerCookieSet([("site", (CookiePattern.parse("__Host-vid"),
                                          CookiePattern.parse("__Secure-vid"),
                                          CookiePattern.parse("_long*")))])
    long_name = "_long" + "x" * DEFAULT_MAX_BYTES
    page = purge_page(["__Host-vid", "__Secure-vid", long_name], cookies, "shop.example",
                      "http", settings())
    assert page.lines == ()
    assert {f.cookie for f in page.unreachable} == {"__Host-vid", "__Secure-vid", long_name}


@given(st.one_of(st.text(max_size=400), st.binary(max_size=400)))
def test_any_cookie_header_gives_only_well_formed_lines(header: str | bytes) -> None:
    names = cookie_names(header)
    assert all(name and ";" not in name and name == name.strip(" \t") for name in names)
    cookies = TrackerCookieSet([("any", (CookiePattern.parse("abc*"),
                                         CookiePattern.parse("_ga")))])
    page = purge_page(("abcd", "_ga", *names), cookies, "www.shop.example", "https",
                      settings(max_lines=9, paths=("/a",)))
    assert all(LINE.fullmatch(line) for line in page.lines)
    assert len(page.lines) <= 9


def test_cookie_names() -> None:
    assert cookie_names("a=1; b=2;c=3 ; a=4; =5; novalue; d= ") == ("a", "b", "c", "d")
    assert cookie_names(b"_ga=1") == ("_ga",)
    assert cookie_names("") == cookie_names(None) == ()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"paths": ("blog",)}, "paths: expected a path starting with '/', got 'blog'"),
        ({"paths": ("/a;b",)}, "paths: expected a path"),
        ({"paths": ("/a b",)}, "paths: expected a path"),
        ({"max_lines": 0}, "max_lines: expected at least 1, got 0"),
        ({"max_lines": True}, "max_lines: expected at least 1, got True"),
        ({"max_bytes": 100}, "max_bytes: expected at least 256, got 100"),
    ],
)
def test_bad_settings_name_the_setting(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        settings(**changes)


def test_settings_always_include_the_root_path_once() -> None:
    assert settings(paths=("/blog", "/", "/blog")).paths == ("/", "/blog")


# --- strip ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("FPID=FPID2.2.abc; Path=/; Domain=shop.example; HttpOnly; Secure", "FPID"),
        (" _fbp = fb.1.2 ; Max-Age=7776000", "_fbp"),
        (b"_ga=GA1.1; Path=/", "_ga"),
        ("no-equals-sign", None),
        ("=value-only", None),
        ("; Path=/", None),
        ("", None),
        ("a=b=c", "a"),
        ("na\x00me=1", "na\x00me"),
    ],
)
def test_set_cookie_name(value: str | bytes, name: str | None) -> None:
    assert set_cookie_name(value) == name


def test_strip_drops_tracker_cookies_and_keeps_the_rest_in_order() -> None:
    values = [
        "session=abc; Path=/; HttpOnly",
        "FPID=FPID2.2.x; Path=/; Domain=shop.example; Max-Age=63072000; HttpOnly; Secure",
        "_fbp=fb.1.2.3; Path=/",
        f"{CHOICE}=signed; Path=/",
        "garbage",
    ]
    cookies = TrackerCookieSet([
        ("google-tag-manager", (CookiePattern.parse("FPID"),)),
        ("meta-pixel", (CookiePattern.parse("_fbp"),)),
        ("site", (CookiePattern.parse("optout_*"),)),
    ])
    result = strip_set_cookies(values, cookies, protected=PROTECTED)
    assert result.kept == (values[0], values[3], values[4])
    assert result.findings == (CookieFinding("google-tag-manager", "FPID"),
                               CookieFinding("meta-pixel", "_fbp"))
    report = strip_set_cookies(values, cookies, protected=PROTECTED, enforce=False)
    assert report.kept == tuple(values) and report.findings == result.findings


def test_strip_keeps_bytes_as_bytes() -> None:
    values = [b"_ga=1; Path=/", b"sid=2"]
    result = strip_set_cookies(values, EVERY_PRESET, protected=PROTECTED)
    assert result.kept == (b"sid=2",)
    assert result.findings == (CookieFinding("google-analytics", "_ga"),)


@given(st.lists(st.one_of(st.text(max_size=60), st.just("_fbp=1"), st.just("FPID=2; HttpOnly"))))
def test_strip_never_raises_and_loses_nothing_else(values: list[str]) -> None:
    result = strip_set_cookies(values, EVERY_PRESET, protected=PROTECTED)
    dropped = [v for v in values if v not in result.kept]
    assert len(result.kept) + len(result.findings) == len(values)
    assert all(set_cookie_name(v) for v in dropped)
    assert list(result.kept) == [v for v in values if v in result.kept]


# --- forget this device ---------------------------------------------------------------------


def test_forget_this_device_sends_clear_site_data_only_where_browsers_honour_it() -> None:
    assert CLEAR_SITE_DATA == ("Clear-Site-Data", '"cookies", "storage"')
    assert forget_device_headers("https", "shop.example") == [CLEAR_SITE_DATA]
    assert forget_device_headers("http", "localhost") == [CLEAR_SITE_DATA]
    assert forget_device_headers("http", "127.0.0.1") == [CLEAR_SITE_DATA]
    assert forget_device_headers("http", "::1") == [CLEAR_SITE_DATA]
    assert forget_device_headers("http", "shop.example") == []
    assert forget_device_headers("http", None) == []


def test_purge_never_clears_site_data_by_itself() -> None:
    page = purge_page(["_ga"], EVERY_PRESET, "shop.example", "https", settings())
    assert page.lines and not any("Clear-Site-Data" in line for line in page.lines)
