"""The opt-out surface, sans-IO: the page, opting out, gpc.json, status, write-back."""

from __future__ import annotations

import itertools
import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import html5lib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_mw import HONORED_TEXT, ConfigError, OptOutConfig
from optout_mw.cookies import ChoiceCookieCodec
from optout_mw.decision import twelve_months_after
from optout_mw.endpoints import (
    GPC_JSON_PATH,
    TEMPLATE_VARIABLES,
    ChoiceEvent,
    EndpointResponse,
    Endpoints,
    prefers_json,
    safe_next,
)
from optout_mw.signals import SignalKind

from .test_endpoints_support import (
    PAGE,
    SECRET,
    attributes,
    choice_cookie,
    config,
    cookie_header,
    decide,
    endpoints_for,
    post,
    request,
    set_cookies,
    surface,
    ts,
)

NOW = time.time()


def assert_common_headers(response: EndpointResponse) -> None:
    assert response.header("Cache-Control") == "no-store"
    assert response.header("Content-Type") is not None
    assert response.header("Content-Length") is not None


def parse_html(body: bytes) -> object:
    # strict=True raises on any HTML parse error, so every page is well-formed HTML.
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(body)


# --- routing ---------------------------------------------------------------------------


def test_handles_only_enabled_paths() -> None:
    s = surface()
    assert s.handles(PAGE)
    assert s.handles("/privacy/status.json")
    assert s.handles(GPC_JSON_PATH)
    assert not s.handles("/")
    assert not s.handles(PAGE + "/")
    off = surface(optout_page_path="", status_path="", serve_gpc_json=False)
    assert not off.handles(PAGE)
    assert not off.handles("/privacy/status.json")
    assert not off.handles(GPC_JSON_PATH)


def test_wants_body_only_for_post_to_page() -> None:
    s = surface()
    assert s.wants_body("POST", PAGE)
    assert not s.wants_body("GET", PAGE)
    assert not s.wants_body("POST", "/privacy/status.json")
    assert not s.wants_body("POST", "/elsewhere")


def test_custom_paths() -> None:
    s = surface(optout_page_path="/do-not-sell", status_path="/api/privacy")
    assert s.handles("/do-not-sell")
    assert s.handles("/api/privacy")
    assert not s.handles(PAGE)


# --- gpc.json and status ------------------------------------------------------------------


def test_gpc_json_with_last_update() -> None:
    s = surface(gpc_json_last_update="2026-01-15")
    response = s.handle(request(path=GPC_JSON_PATH), decide(config()), NOW)
    assert response.status == 200
    assert response.header("Content-Type") == "application/json"
    assert json.loads(response.body) == {"gpc": True, "lastUpdate": "2026-01-15"}
    assert_common_headers(response)


def test_gpc_json_without_last_update() -> None:
    response = surface().handle(request(path=GPC_JSON_PATH), decide(config()), NOW)
    assert json.loads(response.body) == {"gpc": True}


def test_gpc_json_head_has_no_body_but_length() -> None:
    response = surface().handle(request("HEAD", GPC_JSON_PATH), decide(config()), NOW)
    assert response.status == 200
    assert response.body == b""
    assert response.header("Content-Length") == str(len(b'{"gpc":true}'))


def test_gpc_json_post_is_405() -> None:
    response = surface().handle(request("POST", GPC_JSON_PATH), decide(config()), NOW)
    assert response.status == 405
    assert response.header("Allow") == "GET, HEAD"


def test_status_endpoint_is_decision_json_without_secrets() -> None:
    cfg = config()
    cookie = choice_cookie(True, NOW - 3600)
    decision = decide(cfg, gpc=True, cookie=cookie)
    response = surface().handle(
        request(path="/privacy/status.json", headers={"cookie": cookie}), decision, NOW
    )
    assert response.status == 200
    assert response.header("Content-Type") == "application/json"
    assert json.loads(response.body) == decision.to_json()
    text = response.body.decode()
    assert SECRET not in text
    assert cookie.split("=", 1)[1] not in text
    assert_common_headers(response)
    assert response.header("Vary") == "Sec-GPC, Cookie"


# --- the page, every state ---------------------------------------------------------------


def page(cookie: str | None = None, *, gpc: bool = False, query: str = "",
         s: Endpoints | None = None, **changes: object) -> EndpointResponse:
    cfg = config(**changes)
    decision = decide(cfg, gpc=gpc, cookie=cookie)
    headers = {"cookie": cookie} if cookie else {}
    response = (s or endpoints_for(cfg)).handle(request(query=query, headers=headers), decision,
                                                NOW)
    assert response.status == 200
    assert_common_headers(response)
    parse_html(response.body)
    return response


def test_page_no_signal() -> None:
    body = page().body.decode()
    assert '<html lang="en">' in body
    assert "<h1>Do Not Sell or Share My Personal Information</h1>" in body
    assert "You have not opted out" in body
    assert HONORED_TEXT not in body
    assert 'value="opt-out"' in body
    assert 'value="opt-in"' not in body
    # What the choice means: sale, sharing, targeted advertising; not deletion.
    assert "cross-context behavioural advertising" in body
    assert "does not delete" in body
    # The statement that GPC is honoured is always there.
    assert "This site honours the Global Privacy Control (GPC) signal" in body


def test_page_gpc() -> None:
    body = page(gpc=True).body.decode()
    assert HONORED_TEXT in body
    assert "Global Privacy Control (GPC) signal" in body
    assert "because of your browser&#x27;s Global Privacy Control (GPC) signal" in body
    # GPC alone: the visitor may still save the choice, no opt-in (nothing stored to undo).
    assert 'value="opt-out"' in body
    assert 'value="opt-in"' not in body


def test_page_stored_opt_out() -> None:
    made = ts("2026-03-04T10:00:00")
    body = page(choice_cookie(True, made)).body.decode()
    assert HONORED_TEXT in body
    assert "the choice you saved on this site" in body
    assert '<time datetime="2026-03-04">2026-03-04</time>' in body
    assert 'value="opt-out"' not in body
    assert 'value="opt-in"' in body
    assert "We will ask you to confirm" in body


def test_page_stored_opt_out_with_gpc_says_gpc_keeps_winning() -> None:
    body = page(choice_cookie(True, NOW - 86400), gpc=True).body.decode()
    assert HONORED_TEXT in body
    assert 'value="opt-in"' in body
    assert "While it is on, we keep honouring it, even if you opt back in here" in body


def test_page_stored_opt_in_with_gpc_is_honest() -> None:
    made = ts("2026-05-01T00:00:00")
    body = page(choice_cookie(False, made), gpc=True).body.decode()
    assert HONORED_TEXT in body
    assert "you chose on this site to allow the sale or sharing" in body
    assert "still says to opt out, and we honour it" in body
    assert 'value="opt-out"' in body


def test_page_stored_opt_in_without_gpc() -> None:
    body = page(choice_cookie(False, NOW - 86400)).body.decode()
    assert HONORED_TEXT not in body
    assert "You have not opted out" in body
    assert "you chose on this site to allow" in body


def test_page_invalid_cookie() -> None:
    body = page("optout_choice=forged.value.sig").body.decode()
    assert HONORED_TEXT not in body
    assert "We could not read a choice saved earlier on this site" in body
    assert 'value="opt-out"' in body


def test_page_invalid_cookie_strict_mode_is_opt_out() -> None:
    body = page("optout_choice=forged.value.sig", strict=True).body.decode()
    assert HONORED_TEXT in body
    assert "treat it as an opt-out to be safe" in body


def test_page_us_privacy_opt_out() -> None:
    body = page("usprivacy=1YYN").body.decode()
    assert HONORED_TEXT in body
    assert "the IAB US Privacy string stored in your browser" in body
    # The site does not write usprivacy, so it cannot undo it: no opt-in offered.
    assert 'value="opt-in"' not in body
    written = page("usprivacy=1YYN", write_us_privacy=True).body.decode()
    assert 'value="opt-in"' in written


def test_page_is_accessible_and_self_contained() -> None:
    response = page(choice_cookie(True, NOW - 86400))
    body = response.body.decode()
    tree = parse_html(response.body)
    assert tree.find(".").get("lang") == "en"  # type: ignore[attr-defined]
    assert body.count("<h1>") == 1
    assert "<main>" in body
    assert ":focus-visible" in body
    # No JavaScript, no external resources, plain POST forms.
    assert "<script" not in body
    assert "http://" not in body and "https://" not in body
    assert body.count('<form method="post"') == 1
    for form in tree.iter("form"):  # type: ignore[attr-defined]
        assert form.get("aria-labelledby")
        assert form.find("button") is not None
    assert "default-src 'none'" in (response.header("Content-Security-Policy") or "")
    assert response.header("X-Frame-Options") == "DENY"


def test_page_carries_valid_next_into_forms() -> None:
    body = page(query="next=%2Fshop%3Fid%3D1").body.decode()
    assert '<input type="hidden" name="next" value="/shop?id=1">' in body
    body = page(query="next=%2F%2Fevil.test").body.decode()
    assert 'name="next"' not in body


def test_page_head_is_empty_with_length() -> None:
    cfg = config()
    s = endpoints_for(cfg)
    get = s.handle(request(), decide(cfg), NOW)
    head = s.handle(request("HEAD"), decide(cfg), NOW)
    assert head.status == 200
    assert head.body == b""
    assert head.header("Content-Length") == str(len(get.body))


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_page_wrong_method_is_405(method: str) -> None:
    response = surface().handle(request(method), decide(config()), NOW)
    assert response.status == 405
    assert response.header("Allow") == "GET, HEAD, POST"
    assert_common_headers(response)


# --- templates ------------------------------------------------------------------------------


def test_custom_template_variables_are_escaped(tmp_path: Path) -> None:
    template = tmp_path / "page.html"
    template.write_text(
        "<!DOCTYPE html><html lang=\"$lang\"><title>$title</title><p id=s>$status_text</p>"
        "<p id=n>$next</p><p id=k>$page_kind</p><p id=g>$gpc</p><p id=o>$opted_out</p>"
        "<p id=w>$signals_text</p>$main_html<p>$$5</p>",
        encoding="utf-8",
    )
    body = page(gpc=True, query='next=/a"b', optout_page_template=str(template)).body.decode()
    assert "<p id=s>Opt-Out Request Honored</p>" in body
    # The raw next is invalid (a quote), so it is dropped rather than echoed.
    assert "<p id=n></p>" in body
    assert "<p id=k>choices</p>" in body
    assert "<p id=g>true</p>" in body
    assert "<p id=o>true</p>" in body
    assert "browser&#x27;s Global Privacy Control" in body
    assert "<p>$5</p>" in body


def test_custom_template_unknown_variable_fails_at_start(tmp_path: Path) -> None:
    template = tmp_path / "page.html"
    template.write_text("<p>$status_text $nonsense</p>", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\$nonsense"):
        endpoints_for(config(optout_page_template=str(template)))


def test_custom_template_invalid_placeholder_fails(tmp_path: Path) -> None:
    template = tmp_path / "page.html"
    template.write_text("<p>costs $5</p>", encoding="utf-8")
    with pytest.raises(ConfigError, match="optout_page_template"):
        endpoints_for(config(optout_page_template=str(template)))


def test_custom_template_missing_file_fails(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        endpoints_for(config(optout_page_template=str(tmp_path / "missing.html")))


def test_builtin_template_uses_only_documented_variables() -> None:
    from importlib import resources
    from string import Template

    text = resources.files("optout_mw").joinpath("templates/optout_page.html").read_text(
        encoding="utf-8"
    )
    identifiers = set(Template(text).get_identifiers())
    assert identifiers <= TEMPLATE_VARIABLES
    assert {"lang", "title", "main_html"} <= identifiers


# --- POST opt-out ---------------------------------------------------------------------------


def test_opt_out_sets_choice_cookie_with_exact_attributes() -> None:
    cfg = OptOutConfig(secret_keys=(SECRET,))
    s = endpoints_for(cfg)
    response = s.handle(post("action=opt-out"), decide(cfg), NOW)
    assert response.status == 303
    assert response.header("Location") == PAGE
    assert_common_headers(response)
    cookies = set_cookies(response)
    assert set(cookies) == {"optout_choice"}
    choice = cookies["optout_choice"]
    assert attributes(choice) == {
        "Path=/", "SameSite=Lax", f"Max-Age={cfg.choice_cookie_max_age}", "Secure", "HttpOnly"
    }
    value = choice.split(";")[0].split("=", 1)[1]
    stored, _ = ChoiceCookieCodec([SECRET], max_age=cfg.choice_cookie_max_age).loads(
        value, now=time.time()
    )
    assert stored is not None
    assert stored.opted_out
    assert stored.made_at == int(NOW)


def test_opt_out_without_secure_in_development() -> None:
    response = surface().handle(post("action=opt-out"), decide(config()), NOW)
    assert "Secure" not in attributes(set_cookies(response)["optout_choice"])


def test_opt_out_writes_us_privacy_and_gpp() -> None:
    cfg = OptOutConfig(secret_keys=(SECRET,), write_us_privacy=True, write_gpp=True,
                       us_privacy_lspa="Y", choice_cookie_max_age=86400 * 30)
    response = endpoints_for(cfg).handle(post("action=opt-out"), decide(cfg, gpc=True), NOW)
    cookies = set_cookies(response)
    assert cookies["usprivacy"].startswith("usprivacy=1YYY;")
    script_readable = {"Path=/", "SameSite=Lax", "Max-Age=2592000", "Secure"}
    assert attributes(cookies["usprivacy"]) == script_readable
    from optout_mw.gpp import encode_opt_out_gpp

    gpp, sid = encode_opt_out_gpp(gpc=True)
    assert cookies["__gpp"].startswith(f"__gpp={gpp};")
    assert cookies["__gpp_sid"].startswith(f"__gpp_sid={sid};")
    assert attributes(cookies["__gpp"]) == script_readable


def test_opt_out_then_next_request_is_honoured() -> None:
    cfg = config()
    response = endpoints_for(cfg).handle(post("action=opt-out"), decide(cfg), NOW)
    after = decide(cfg, cookie=cookie_header(response))
    assert after.opted_out
    assert after.opted_out_by == (SignalKind.SITE_CHOICE,)
    assert after.status_text == HONORED_TEXT


def test_opt_out_redirects_to_valid_next_from_form_or_query() -> None:
    s = surface()
    assert s.handle(post("action=opt-out&next=%2Fshop%3Fa%3D1"), decide(config()),
                    NOW).header("Location") == "/shop?a=1"
    assert s.handle(post("action=opt-out", query="next=%2Fcart"), decide(config()),
                    NOW).header("Location") == "/cart"
    assert s.handle(post("action=opt-out&next=https%3A%2F%2Fevil.test"), decide(config()),
                    NOW).header("Location") == PAGE


def test_opt_out_json_by_accept() -> None:
    cfg = config()
    response = endpoints_for(cfg).handle(
        post("action=opt-out", headers={"accept": "application/json, text/html;q=0.9"}),
        decide(cfg), NOW,
    )
    assert response.status == 200
    assert response.header("Content-Type") == "application/json"
    document = json.loads(response.body)
    assert document["ok"] is True
    assert document["decision"]["opted_out"] is True
    assert document["decision"]["opted_out_by"] == ["site_choice"]
    assert "optout_choice" in set_cookies(response)


def test_opt_out_json_request() -> None:
    cfg = config()
    response = endpoints_for(cfg).handle(
        post(json.dumps({"action": "opt-out"}),
             headers={"content-type": "application/json", "sec-gpc": "1"}),
        decide(cfg, gpc=True), NOW,
    )
    document = json.loads(response.body)
    assert response.status == 200
    assert document["decision"]["opted_out_by"] == ["gpc", "site_choice"]


def test_opt_out_needs_no_token_even_cross_site() -> None:
    # Opting out can only lower risk, so a cross-site form post is accepted (§7026).
    response = surface().handle(
        post("action=opt-out", headers={"sec-fetch-site": "cross-site",
                                        "origin": "https://elsewhere.test"}),
        decide(config()), NOW,
    )
    assert response.status == 303
    assert "optout_choice" in set_cookies(response)


# --- next validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "//evil.test",
        "/\\evil.test",
        "\\\\evil.test",
        "https://evil.test",
        "http:/evil.test",
        "/%2F%2Fevil.test",
        "/%2f/evil.test",
        "/%5Cevil.test",
        "/%5C%5Cevil.test",
        "/%252F%252Fevil.test",
        "/\x00",
        "/\t/evil.test",
        "/\n/evil.test",
        "/%09/evil.test",
        "/%0d%0a/evil.test",
        "/\r\nSet-Cookie: x=1",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " /shop",
        "/shop page",
        "/caf\u00e9",
        "shop",
        "",
        "/" + "a" * 3000,
        "/%25252F%25252F",
    ],
)
def test_next_refused(value: str) -> None:
    assert safe_next(value) is None


@pytest.mark.parametrize(
    "value",
    ["/", "/shop", "/shop?item=1&x=%2F", "/a/b#top", "/privacy/opt-out", "/javascript:x",
     "/a%20b", "/caf%C3%A9"],
)
def test_next_accepted(value: str) -> None:
    assert safe_next(value) == value


def test_next_non_string_refused() -> None:
    assert safe_next(None) is None
    assert safe_next(42) is None


# --- Accept negotiation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("", False),
        ("application/json", True),
        ("text/html", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("application/json, text/html", False),
        ("application/json, text/html;q=0.9", True),
        ("text/html;q=0.5, application/*", True),
        ("*/*", False),
        ("application/json;q=0", False),
        ("application/json;q=nan", False),
        ("application/json;q=2", False),
        ("application/json;q=x", False),
    ],
)
def test_prefers_json(accept: str | None, expected: bool) -> None:
    assert prefers_json(accept) is expected


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"", "application/x-www-form-urlencoded", 400, "no action"),
        (b"next=%2F", "application/x-www-form-urlencoded", 400, "no action"),
        (b"action=sell-everything", "application/x-www-form-urlencoded", 400, "Unknown action"),
        (b"action=opt-out&action=opt-in", "application/x-www-form-urlencoded", 400, "twice"),
        (b"action=opt-out\xff", "application/x-www-form-urlencoded", 400, "UTF-8"),
        (b"action=opt%FFout", "application/x-www-form-urlencoded", 400, "percent-encoding"),
        (b"&".join([b"a=1"] * 40), "application/x-www-form-urlencoded", 400, "too many"),
        (b"{", "application/json", 400, "not valid JSON"),
        (b"[1]", "application/json", 400, "must be an object"),
        (b'{"action": 1}', "application/json", 400, "must be a string"),
        (b"[" * 5000, "application/json", 400, "not valid JSON"),
        (b"action=opt-out", "text/plain", 415, "application/x-www-form-urlencoded"),
        (b"action=opt-out", "application/x-www-form-urlencoded; charset=latin-1", 415, "UTF-8"),
    ],
)
def test_malformed_posts(body: bytes, content_type: str, status: int, message: str) -> None:
    response = surface(max_form_bytes=1 << 16).handle(
        post(body, headers={"content-type": content_type}), decide(config()), NOW
    )
    assert response.status == status
    assert message in response.body.decode()
    assert response.header_values("Set-Cookie") == []
    assert_common_headers(response)


def test_body_too_large_is_413() -> None:
    req = request("POST", PAGE, headers={"content-type": "application/x-www-form-urlencoded"},
                  too_large=True)
    response = surface().handle(req, decide(config()), NOW)
    assert response.status == 413
    assert response.header_values("Set-Cookie") == []


def test_error_as_json_when_asked() -> None:
    response = surface().handle(
        post("action=nope", headers={"accept": "application/json"}), decide(config()), NOW
    )
    assert response.status == 400
    assert json.loads(response.body)["ok"] is False


_METHODS = st.sampled_from(["GET", "HEAD", "POST", "PUT", "OPTIONS", "get", ""])
_PATHS = st.sampled_from([PAGE, "/privacy/status.json", GPC_JSON_PATH, "/other"])
_HEADER_NAMES = st.sampled_from(
    ["content-type", "accept", "origin", "host", "sec-fetch-site", "cookie", "sec-gpc",
     "x-forwarded-host", "x-other"]
)
_FUZZ_SURFACE = endpoints_for(config(write_us_privacy=True, write_gpp=True, inject_stubs=True))
_FUZZ_CONFIG = _FUZZ_SURFACE.config


@settings(max_examples=300, deadline=None)
@given(
    method=_METHODS,
    path=_PATHS,
    query=st.text(max_size=80),
    headers=st.dictionaries(_HEADER_NAMES, st.text(max_size=60), max_size=6),
    body=st.one_of(
        st.binary(max_size=200),
        st.builds(lambda a, n: f"action={a}&next={n}".encode(),
                  st.sampled_from(["opt-out", "opt-in", "opt-in-confirm", "x"]),
                  st.text(max_size=30)),
    ),
    too_large=st.booleans(),
)
def test_handle_never_fails_on_client_input(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, too_large: bool
) -> None:
    decision = decide(_FUZZ_CONFIG, gpc="1" in headers.get("sec-gpc", ""),
                      cookie=headers.get("cookie"))
    req = request(method, path, query=query, headers=headers, body=body, too_large=too_large)
    response = _FUZZ_SURFACE.handle(req, decision, NOW)
    assert 200 <= response.status < 500
    assert_common_headers(response)
    if method == "HEAD":
        assert response.body == b""
    else:
        assert response.header("Content-Length") == str(len(response.body))
    for name, value in response.headers:
        # Every header must be encodable for the wire, with no line breaks.
        value.encode("latin-1")
        assert "\r" not in value and "\n" not in value, name
    location = response.header("Location")
    if location is not None:
        assert safe_next(location) == location


# --- events ---------------------------------------------------------------------------------


def test_choice_event_goes_to_hook_and_log(caplog: pytest.LogCaptureFixture) -> None:
    events: list[ChoiceEvent] = []
    cfg = config(on_choice=events.append)
    with caplog.at_level(logging.INFO, logger="optout_mw"):
        endpoints_for(cfg).handle(
            post("action=opt-out", headers={"x-forwarded-for": "203.0.113.9"}),
            decide(cfg, gpc=True), NOW,
        )
    assert len(events) == 1
    event = events[0]
    assert event == ChoiceEvent(
        time=datetime.fromtimestamp(NOW, UTC), kind="opt-out", method="form", path=PAGE,
        signals=("gpc",),
    )
    records = [r for r in caplog.records if getattr(r, "optout_event", None) == "choice"]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.INFO
    assert record.optout_choice == "opt-out"  # type: ignore[attr-defined]
    assert record.optout_method == "form"  # type: ignore[attr-defined]
    assert record.optout_signals == ["gpc"]  # type: ignore[attr-defined]
    assert record.optout_time == event.time.isoformat()  # type: ignore[attr-defined]
    # No IP address or cookie value in the record.
    assert "203.0.113.9" not in repr(record.__dict__)


def test_choice_event_json_method() -> None:
    events: list[ChoiceEvent] = []
    cfg = config(on_choice=events.append)
    endpoints_for(cfg).handle(
        post('{"action":"opt-out"}', headers={"content-type": "application/json"}),
        decide(cfg), NOW,
    )
    assert [e.method for e in events] == ["json"]


def test_failing_hook_never_breaks_the_response(caplog: pytest.LogCaptureFixture) -> None:
    def hook(event: ChoiceEvent) -> None:
        raise RuntimeError("records database down")

    cfg = config(on_choice=hook)
    with caplog.at_level(logging.ERROR, logger="optout_mw"):
        response = endpoints_for(cfg).handle(post("action=opt-out"), decide(cfg), NOW)
    assert response.status == 303
    assert "optout_choice" in set_cookies(response)
    assert any("on_choice" in r.getMessage() for r in caplog.records)


def test_no_event_for_bad_requests() -> None:
    events: list[ChoiceEvent] = []
    cfg = config(on_choice=events.append)
    endpoints_for(cfg).handle(post("action=bogus"), decide(cfg), NOW)
    assert events == []


# --- write-back on the page itself ----------------------------------------------------


def test_page_get_includes_write_back() -> None:
    response = page(gpc=True, write_us_privacy=True)
    assert "usprivacy" in set_cookies(response)


# --- the 12-month rule, with real cookies -------------------------------------------------


@pytest.mark.parametrize(
    ("made", "asked", "may_ask"),
    [
        ("2025-03-15T09:30:00", "2026-03-15T09:29:59", False),
        ("2025-03-15T09:30:00", "2026-03-15T09:30:00", True),
        ("2024-02-29T12:00:00", "2025-02-28T11:59:59", False),
        ("2024-02-29T12:00:00", "2025-02-28T12:00:00", True),
        ("2025-11-01T00:00:00", "2026-10-31T23:59:59", False),
    ],
)
def test_twelve_month_boundary(made: str, asked: str, may_ask: bool) -> None:
    cfg = config()
    decision = decide(cfg, cookie=choice_cookie(True, ts(made)), now=ts(asked))
    assert decision.opted_out
    assert decision.may_request_opt_in is may_ask
    boundary = twelve_months_after(datetime.fromtimestamp(ts(made), UTC))
    assert (datetime.fromtimestamp(ts(asked), UTC) >= boundary) is may_ask
    status = json.loads(endpoints_for(cfg).handle(
        request(path="/privacy/status.json"), decision, ts(asked)).body)
    assert status["may_request_opt_in"] is may_ask


def test_twelve_month_rule_never_with_gpc() -> None:
    cfg = config()
    decision = decide(cfg, gpc=True, cookie=choice_cookie(True, ts("2020-01-01T00:00:00")),
                      now=ts("2026-01-01T00:00:00"))
    assert decision.may_request_opt_in is False


def test_surface_without_site_cookie_still_serves() -> None:
    cfg = OptOutConfig(read_site_cookie=False, write_us_privacy=True, cookie_secure=False)
    s = endpoints_for(cfg)
    response = s.handle(post("action=opt-out"), decide(cfg), NOW)
    assert response.status == 303
    assert set(set_cookies(response)) == {"usprivacy"}
    optin = s.handle(post("action=opt-in"), decide(cfg), NOW)
    assert optin.status == 403
    assert "not available" in optin.body.decode()


# --- the answer to an opt-out never claims a save that did not happen ---------------------

def _store_id(row: tuple[bool, ...]) -> str:
    """E.g. "site off, usp w-, gpp wr": written (w) and read back (r) or not (-)."""
    site, write_usp, read_usp, write_gpp, read_gpp = row
    usp = ("w" if write_usp else "-") + ("r" if read_usp else "-")
    gpp = ("w" if write_gpp else "-") + ("r" if read_gpp else "-")
    return f"site {'on' if site else 'off'}, usp {usp}, gpp {gpp}"


_STORES = list(itertools.product([True, False], repeat=5))


@pytest.mark.parametrize("gpc", [False, True], ids=["no GPC", "GPC"])
@pytest.mark.parametrize(
    ("site_cookie", "write_usp", "read_usp", "write_gpp", "read_gpp"), _STORES,
    ids=[_store_id(row) for row in _STORES],
)
def test_opt_out_answer_says_what_was_recorded(
    gpc: bool, site_cookie: bool, write_usp: bool, read_usp: bool, write_gpp: bool,
    read_gpp: bool,
) -> None:
    cfg = config(read_site_cookie=site_cookie, write_us_privacy=write_usp,
                 read_us_privacy=read_usp, write_gpp=write_gpp, read_gpp=read_gpp)
    # A choice is saved when a cookie written now is one this site reads back.
    saved = site_cookie or (write_usp and read_usp) or (write_gpp and read_gpp)
    s = endpoints_for(cfg)
    headers = {"sec-gpc": "1"} if gpc else {}
    html = s.handle(post("action=opt-out", headers=headers), decide(cfg, gpc=gpc), NOW)
    body = html.body.decode()
    # The truth, as the middleware itself will read the next request without GPC.
    after = decide(cfg, cookie=cookie_header(html) or None)
    assert after.opted_out is saved
    if saved:
        assert html.status == 303
        assert "Your choice was saved." in body
    else:
        assert html.status == 200  # read where it is said, not lost behind a redirect
        parse_html(html.body)
        assert "saved." not in body
        assert "could not be saved" in body
        assert "applied to this request only" in body
        assert ("does not read it back" in body) is (write_usp or write_gpp)
        if gpc:
            assert "Global Privacy Control signal keeps you opted out" in body
        else:
            assert "turn on Global Privacy Control" in body
    as_json = s.handle(post("action=opt-out", headers={**headers, "accept": "application/json"}),
                       decide(cfg, gpc=gpc), NOW)
    document = json.loads(as_json.body)
    assert document["saved"] is saved
    assert ("could not be saved" in document["message"]) is not saved
    # "decision" is what the next request will see: honest about an unsaved choice too.
    assert document["decision"]["opted_out"] is (saved or gpc)
    assert set_cookies(as_json).keys() == set_cookies(html).keys()
