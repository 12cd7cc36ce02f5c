"""``WriteBack``: the cookies a site writes so a visitor's choice outlives the request."""

from __future__ import annotations

import time

import pytest

from optout_mw.cookies import ChoiceCookieCodec

from .test_endpoints_support import (
    SECRET,
    attributes,
    choice_cookie,
    config,
    decide,
    ts,
    writeback_for,
)

NOW = time.time()


# --- response_cookies on application pages --------------------------------------------------


def test_response_cookies_common_case_is_empty() -> None:
    cfg = config(write_us_privacy=True, write_gpp=True)
    s = writeback_for(cfg)
    assert s.response_cookies(decide(cfg), NOW) == []


def test_response_cookies_gpc_write_back() -> None:
    cfg = config(write_us_privacy=True, write_gpp=True)
    cookies = writeback_for(cfg).response_cookies(decide(cfg, gpc=True), NOW)
    names = [c.split("=", 1)[0] for c in cookies]
    assert names == ["usprivacy", "__gpp", "__gpp_sid"]
    assert cookies[0] == (
        f"usprivacy=1YYN; Path=/; SameSite=Lax; Max-Age={cfg.choice_cookie_max_age}"
    )
    from optout_mw.gpp import decode_gpp

    gpp = cookies[1].split(";")[0].split("=", 1)[1]
    section = decode_gpp(gpp).sections[0]
    assert getattr(section, "gpc", None) is True


def test_response_cookies_gpc_but_writing_off() -> None:
    cfg = config()
    assert writeback_for(cfg).response_cookies(decide(cfg, gpc=True), NOW) == []


def test_response_cookies_skip_when_usprivacy_already_opted_out() -> None:
    cfg = config(write_us_privacy=True)
    s = writeback_for(cfg)
    assert s.response_cookies(decide(cfg, gpc=True, cookie="usprivacy=1YYN"), NOW) == []
    # A usprivacy saying "not opted out" is corrected while GPC is on.
    assert s.response_cookies(decide(cfg, gpc=True, cookie="usprivacy=1YNN"), NOW) == [
        f"usprivacy=1YYN; Path=/; SameSite=Lax; Max-Age={cfg.choice_cookie_max_age}"
    ]


def test_response_cookies_usprivacy_alone_is_not_rewritten() -> None:
    cfg = config(write_us_privacy=True)
    # Only GPC or the site's own choice trigger a write-back; a CMP's own string is left be.
    assert writeback_for(cfg).response_cookies(decide(cfg, cookie="usprivacy=1NNN"), NOW) == []


def test_response_cookies_refresh_after_a_day() -> None:
    cfg = config()
    s = writeback_for(cfg)
    made = ts("2026-01-10T08:00:00")
    cookie = choice_cookie(True, made)
    signed = time.time()
    assert s.response_cookies(decide(cfg, cookie=cookie, now=signed + 3600),
                              signed + 3600) == []
    later = signed + 2 * 86400
    decision = decide(cfg, cookie=cookie, now=later)
    refreshed = s.response_cookies(decision, later)
    assert len(refreshed) == 1
    value = refreshed[0].split(";")[0].split("=", 1)[1]
    stored, _ = ChoiceCookieCodec([SECRET], max_age=cfg.choice_cookie_max_age).loads(
        value, now=time.time()
    )
    assert stored is not None
    assert stored.opted_out is True
    assert stored.made_at == int(made)
    assert "HttpOnly" in attributes(refreshed[0])


def test_response_cookies_refresh_opt_in_too() -> None:
    cfg = config()
    later = time.time() + 3 * 86400
    decision = decide(cfg, cookie=choice_cookie(False, NOW - 86400), now=later)
    refreshed = writeback_for(cfg).response_cookies(decision, later)
    assert len(refreshed) == 1
    assert refreshed[0].startswith("optout_choice=")


def test_response_cookies_stored_opt_out_writes_back() -> None:
    cfg = config(write_us_privacy=True)
    cookies = writeback_for(cfg).response_cookies(
        decide(cfg, cookie=choice_cookie(True, NOW - 60)), NOW
    )
    assert [c.split("=", 1)[0] for c in cookies] == ["usprivacy"]


# --- the cookies of a choice ------------------------------------------------------------------


def test_opt_out_records_in_every_configured_store() -> None:
    cfg = config(write_us_privacy=True, write_gpp=True)
    writes = writeback_for(cfg).opt_out(gpc=True, now=NOW)
    assert [write.name for write in writes] == ["optout_choice", "usprivacy", "__gpp",
                                                "__gpp_sid"]
    assert all(write.header.startswith(f"{write.name}={write.value};") for write in writes)


def test_opt_out_with_no_store_records_nothing() -> None:
    cfg = config(read_site_cookie=False)
    assert writeback_for(cfg).opt_out(gpc=False, now=NOW) == []


def test_opt_in_needs_the_choice_cookie() -> None:
    cfg = config(read_site_cookie=False, write_us_privacy=True)
    with pytest.raises(ValueError, match="read_site_cookie"):
        writeback_for(cfg).opt_in(gpc=False, now=NOW)


def test_opt_in_resets_the_sites_strings_only_without_gpc() -> None:
    cfg = config(write_us_privacy=True, write_gpp=True)
    wb = writeback_for(cfg)
    without = wb.opt_in(gpc=False, now=NOW)
    assert [(w.name, w.value) for w in without][1:] == [
        ("usprivacy", "1YNN"), ("__gpp", None), ("__gpp_sid", None)]
    assert [w.name for w in wb.opt_in(gpc=True, now=NOW)] == ["optout_choice"]
