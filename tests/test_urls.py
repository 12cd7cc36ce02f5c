from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_mw.urls import normalize_host, parse_url, url_host

DOC_BASE = "https://www.shop.example/products/view?id=1"

# (url, base_url, expected host or None, expected path or None to skip the path check)
HOST_CASES = [
    pytest.param("https://www.googletagmanager.com/gtm.js", None,
                 "www.googletagmanager.com", "/gtm.js", id="plain https"),
    pytest.param("HTTPS://WWW.GoogleTagManager.COM/gtm.js", None,
                 "www.googletagmanager.com", "/gtm.js", id="uppercase scheme and host"),
    pytest.param("https://a.ex\x7fample/", None, None, None, id="DEL in host"),
    pytest.param("\x00\x1f https://a.example/x \x0b ", None,
                 "a.example", "/x", id="leading and trailing C0 controls and spaces"),
    pytest.param("ht\ttp\ns://goo\rgle.com/p\na\tth", None,
                 "google.com", "/path", id="tab and newline removed anywhere"),
    pytest.param("https:\\\\evil.test\\tr", None, "evil.test", "/tr",
                 id="backslashes after scheme"),
    pytest.param("https:/\\/\\evil.test", None, "evil.test", "/", id="mixed slashes"),
    pytest.param("https:evil.test/x", None, "evil.test", "/x",
                 id="no slash after scheme without a base"),
    pytest.param("https:////////evil.test", None, "evil.test", "/",
                 id="many slashes after scheme"),
    pytest.param("//cdn.example/lib.js", None, "cdn.example", "/lib.js",
                 id="protocol relative without base"),
    pytest.param("\\\\cdn.example\\lib.js", None, "cdn.example", "/lib.js",
                 id="backslash protocol relative"),
    pytest.param("/\\cdn.example/lib.js", DOC_BASE, "cdn.example", "/lib.js",
                 id="slash backslash protocol relative"),
    pytest.param("//cdn.example/lib.js", "http://base.example/", "cdn.example", "/lib.js",
                 id="protocol relative with base"),
    pytest.param("/static/app.js", None, None, None, id="root relative without base"),
    pytest.param("static/app.js", None, None, None, id="path relative without base"),
    pytest.param("/static/app.js", DOC_BASE, "www.shop.example", "/static/app.js",
                 id="root relative with base"),
    pytest.param("app.js", "https://tracker.example/dir/page", "tracker.example",
                 "/dir/app.js", id="path relative with base"),
    pytest.param("../x/./y.js", "https://t.example/a/b/c", "t.example", "/a/x/y.js",
                 id="dot segments resolved"),
    pytest.param("?q=1", "https://t.example/a/b", "t.example", "/a/b", id="query only"),
    pytest.param("", "https://t.example/a/b", "t.example", "/a/b", id="empty keeps base"),
    pytest.param("app.js", "/relative/base/", None, None, id="relative base stays first-party"),
    pytest.param("http:x.js", "http://t.example/a/b", "t.example", "/a/x.js",
                 id="same-scheme relative reference"),
    pytest.param("http:\\\\other.example", "http://t.example/a/b", "other.example", "/",
                 id="same-scheme two backslashes is an authority"),
    pytest.param("https://user:pass@evil.test/x", None, "evil.test", "/x", id="userinfo"),
    pytest.param("https://a@b@evil.test/x", None, "evil.test", "/x",
                 id="last at sign wins"),
    pytest.param("https://googletagmanager.com@evil.test/", None, "evil.test", "/",
                 id="tracker name in userinfo is not the host"),
    pytest.param("https://evil.test:8443/tr", None, "evil.test", "/tr", id="port"),
    pytest.param("https://evil.test:99999/", None, None, None, id="port out of range"),
    pytest.param("https://evil.test:8x/", None, None, None, id="non-numeric port"),
    pytest.param("https://[2001:DB8::1]:443/x", None, "[2001:db8::1]", "/x",
                 id="ipv6 literal"),
    pytest.param("https://[::1", None, None, None, id="unterminated ipv6"),
    pytest.param("https://0x7f.1/", None, "127.0.0.1", "/", id="ipv4 in hex shorthand"),
    pytest.param("https://4294967295/", None, "255.255.255.255", "/", id="ipv4 as one number"),
    pytest.param("https://1.2.3.256/", None, None, None, id="ipv4 octet out of range"),
    pytest.param("https://%67oogle-analytics.com/", None, "google-analytics.com", "/",
                 id="percent-encoded host"),
    pytest.param("https://google%2Ecom/", None, "google.com", "/", id="percent-encoded dot"),
    pytest.param("https://%ff.example/", None, None, None, id="percent-encoded invalid utf-8"),
    pytest.param("https://googletagmanager.com./x", None, "googletagmanager.com.", "/x",
                 id="trailing dot kept in the host"),
    pytest.param("https://googletagmanager.com../x", None, "googletagmanager.com..", "/x",
                 id="two trailing dots"),
    pytest.param("https://googletagmanager\u3002com/", None, "googletagmanager.com", "/",
                 id="ideographic full stop"),
    pytest.param("https://googletagmanager\uff0ecom/", None, "googletagmanager.com", "/",
                 id="fullwidth full stop"),
    pytest.param("https://googletagmanager\uff61com/", None, "googletagmanager.com", "/",
                 id="halfwidth ideographic full stop"),
    pytest.param("https://\uff27\uff4f\uff4f\uff47\uff4c\uff45.com/", None, "google.com", "/",
                 id="fullwidth letters"),
    pytest.param("https://google\u00adtagmanager.com/", None, "googletagmanager.com", "/",
                 id="soft hyphen ignored"),
    pytest.param("https://b\u00fccher.example/", None, "xn--bcher-kva.example", "/",
                 id="unicode host to punycode"),
    pytest.param("https://fa\u00df.de/", None, "xn--fa-hia.de", "/",
                 id="sharp s kept (non-transitional)"),
    pytest.param("https://ex ample.com/", None, None, None, id="space in host"),
    pytest.param("https://exa<mple.com/", None, None, None, id="forbidden code point"),
    pytest.param("https:///", None, None, None, id="empty host"),
    pytest.param("https://@/", None, None, None, id="empty host after userinfo"),
    pytest.param("wss://socket.tracker.example/feed", None, "socket.tracker.example", "/feed",
                 id="wss scheme"),
    pytest.param("javascript:fetch('https://evil.test')", None, None, None, id="javascript"),
    pytest.param("data:text/html,<script src=https://evil.test>", None, None, None, id="data"),
    pytest.param("blob:https://evil.test/uuid", None, None, None, id="blob"),
    pytest.param("about:blank", None, None, None, id="about"),
    pytest.param("mailto:someone@evil.test", None, None, None, id="mailto"),
    pytest.param("file:///etc/passwd", None, None, None, id="file"),
    pytest.param("foo://evil.test/", None, None, None, id="non-special scheme"),
    pytest.param("https://evil.test/%2e%2E/tr", None, "evil.test", "/tr",
                 id="percent-encoded dot segment"),
    pytest.param("https://evil.test/a/..", None, "evil.test", "/", id="trailing double dot"),
    pytest.param("https://evil.test?x#y", None, "evil.test", "/", id="query right after host"),
]


@pytest.mark.parametrize(("url", "base", "host", "path"), HOST_CASES)
def test_parse_url_cases(url: str, base: str | None, host: str | None, path: str | None) -> None:
    parts = parse_url(url, base)
    if host is None:
        assert parts is None
    else:
        assert parts is not None
        assert parts.host == host
        if path is not None:
            assert parts.path == path
    assert url_host(url, base) == host


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("GoogleTagManager.COM", "googletagmanager.com", id="case"),
        pytest.param("b\u00fccher.example", "xn--bcher-kva.example", id="idna"),
        pytest.param("%67oogle.com", "google.com", id="percent"),
        pytest.param("a\u3002b", "a.b", id="ideographic dot"),
        pytest.param("exa mple.com", None, id="space"),
        pytest.param("", None, id="empty"),
        pytest.param("[::1]", "[::1]", id="ipv6"),
    ],
)
def test_normalize_host(raw: str, expected: str | None) -> None:
    assert normalize_host(raw) == expected


@settings(max_examples=500)
@given(st.text(), st.one_of(st.none(), st.text()))
def test_parse_url_is_total(url: str, base: str | None) -> None:
    parts = parse_url(url, base)
    assert parts is None or (parts.host and parts.path.startswith("/"))
    normalize_host(url)


_PIECES = [
    "http:", "https:", "HTTPS:", "ws:", "ftp:", "javascript:", "data:", "/", "\\", "//",
    "\\\\", "@", ":", ":443", "[", "]", "::1", "%", "%2e", "%67", "%ff", "%41", ".", "..",
    "a", "B", "google", "com", "evil.test", "?", "#", "\t", "\n", " ", "\x00", "\u3002",
    "\uff0e", "\uff61", "\u00ad", "\uff27", "\u00df", "\u00fc", "0x7f", "1", "256",
    "user:pw", "-", "_", "tr", "%2f", "|",
]
_BASES = [None, "https://base.example/dir/page", "http://b.example/", "HTTP://b.example/x/y"]


def _ada_host(ada_url: Any, url: str, base: str | None) -> str | None:
    """The host per ada (a WHATWG parser), for special schemes; None when it has none."""
    try:
        if base is not None:
            parsed = ada_url.URL(url, base=base)
        else:
            try:
                parsed = ada_url.URL(url)
            except ValueError:
                # Our parser resolves scheme-relative URLs against https when there is
                # no base; give ada a base that cannot be confused with a real host.
                parsed = ada_url.URL(url, base="https://doc.invalid/")
    except ValueError:
        return None
    host: str = parsed.hostname
    if parsed.protocol[:-1] not in ("http", "https", "ws", "wss", "ftp"):
        return None
    return None if host in ("", "doc.invalid") else host


@pytest.mark.parametrize(("url", "base", "host", "path"), HOST_CASES)
def test_cases_agree_with_ada(url: str, base: str | None, host: str | None,
                              path: str | None) -> None:
    ada_url = pytest.importorskip("ada_url")
    assert host == _ada_host(ada_url, url, base)


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(st.sampled_from(_PIECES), min_size=1, max_size=9).map("".join),
    st.sampled_from(_BASES),
)
def test_host_agrees_with_ada(url: str, base: str | None) -> None:
    ada_url = pytest.importorskip("ada_url")
    expected = _ada_host(ada_url, url, base)
    if expected is not None:
        # Whenever a browser would contact a host, we must extract the same one.
        assert url_host(url, base) == expected
