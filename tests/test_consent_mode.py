"""The Consent Mode / restricted-mode part of the injected script: golden text, the
options, and the rules that hold for every configuration (never 'granted', never a region,
no wait_for_update unless asked). Chromium runs it in tests/e2e/test_cmp_browser.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optout_mw.consent_mode import ConsentModeSettings, consent_mode_script
from optout_mw.errors import ConfigError
from optout_mw.stubs import sha256_source

GOLDEN = (
    "(function(w){"
    "var d=w.dataLayer=w.dataLayer||[];function g(){d.push(arguments);}"
    "if(typeof w.gtag!=='function'){w.gtag=g;}"
    "g('consent','default',{\"ad_storage\":\"denied\",\"ad_user_data\":\"denied\","
    "\"ad_personalization\":\"denied\"});"
    "g('set','ads_data_redaction',true);"
    "g('set','restricted_data_processing',true);"
    "g('set','allow_google_signals',false);"
    "g('set','allow_ad_personalization_signals',false);"
    "d.push({\"event\":\"optout_mw_opt_out\",\"optout_mw\":{\"sale_permitted\":false}});"
    "var u=w.uetq=w.uetq||[];u.push('consent','default',{ad_storage:'denied'});"
    "var t=w.ttq=w.ttq||[];"
    "if(typeof t.holdConsent==='function'){t.holdConsent();}else{t.push(['holdConsent']);}"
    "(function(){var c=[['dataProcessingOptions',['LDU'],0,0],['consent','revoke']],"
    "held,due=true;"
    "function run(q){due=false;for(var i=0;i!==c.length;i+=1){q.apply(w,c[i]);}}"
    "if(typeof w.fbq==='function'){run(w.fbq);return;}"
    "try{Object.defineProperty(w,'fbq',{configurable:true,enumerable:true,"
    "get:function(){if(due&&typeof held==='function'&&held.queue){run(held);}return held;},"
    "set:function(v){held=v;}});}catch(e){}})();"
    "})(window);"
)


def test_golden_default() -> None:
    assert consent_mode_script(ConsentModeSettings()) == GOLDEN


def test_golden_google_only_with_analytics_and_an_asynchronous_cmp() -> None:
    settings = ConsentModeSettings(meta=False, microsoft=False, tiktok=False, event=None,
                                   google_analytics_storage=True, wait_for_update_ms=500)
    assert consent_mode_script(settings) == (
        "(function(w){"
        "var d=w.dataLayer=w.dataLayer||[];function g(){d.push(arguments);}"
        "if(typeof w.gtag!=='function'){w.gtag=g;}"
        "g('consent','default',{\"ad_storage\":\"denied\",\"ad_user_data\":\"denied\","
        "\"ad_personalization\":\"denied\",\"analytics_storage\":\"denied\","
        "\"wait_for_update\":500});"
        "g('set','ads_data_redaction',true);"
        "g('set','restricted_data_processing',true);"
        "g('set','allow_google_signals',false);"
        "g('set','allow_ad_personalization_signals',false);"
        "})(window);"
    )


def test_event_only_and_nothing() -> None:
    only_event = ConsentModeSettings(google=False, meta=False, microsoft=False, tiktok=False,
                                     event="site.optout")
    assert consent_mode_script(only_event) == (
        "(function(w){var d=w.dataLayer=w.dataLayer||[];function g(){d.push(arguments);}"
        "if(typeof w.gtag!=='function'){w.gtag=g;}"
        "d.push({\"event\":\"site.optout\",\"optout_mw\":{\"sale_permitted\":false}});"
        "})(window);"
    )
    assert consent_mode_script(ConsentModeSettings(enabled=False)) == ""
    nothing = ConsentModeSettings(google=False, meta=False, microsoft=False, tiktok=False,
                                  event=None)
    assert not nothing.active
    assert consent_mode_script(nothing) == ""


@given(
    google=st.booleans(), analytics=st.booleans(), meta=st.booleans(),
    microsoft=st.booleans(), tiktok=st.booleans(),
    event=st.none() | st.from_regex(r"[A-Za-z0-9_.:-]{1,64}", fullmatch=True),
    wait=st.none() | st.integers(1, 10_000),
)
def test_rules_hold_for_every_configuration(
    google: bool, analytics: bool, meta: bool, microsoft: bool, tiktok: bool,
    event: str | None, wait: int | None,
) -> None:
    settings = ConsentModeSettings(google=google, google_analytics_storage=analytics,
                                   meta=meta, microsoft=microsoft, tiktok=tiktok, event=event,
                                   wait_for_update_ms=wait)
    text = consent_mode_script(settings)
    assert "granted" not in text
    assert "region" not in text
    assert "<" not in text  # nothing can end the script element early
    assert ("wait_for_update" in text) == (google and wait is not None)
    assert ("analytics_storage" in text) == (google and analytics)
    assert ("'LDU'" in text) == meta
    assert ("uetq" in text) == microsoft
    assert ("holdConsent" in text) == tiktok
    # The text depends on the settings only, so one CSP hash source covers every request.
    assert sha256_source(text) == sha256_source(consent_mode_script(settings))


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        pytest.param({"google": "yes"}, "consent_mode_google", id="bool"),
        pytest.param({"enabled": 1}, "consent_mode", id="enabled"),
        pytest.param({"event": "has space"}, "consent_mode_event", id="event"),
        pytest.param({"event": "</script>"}, "consent_mode_event", id="event-markup"),
        pytest.param({"wait_for_update_ms": 0}, "consent_mode_wait_for_update_ms", id="wait-0"),
        pytest.param({"wait_for_update_ms": True}, "consent_mode_wait_for_update_ms",
                     id="wait-bool"),
        pytest.param({"wait_for_update_ms": 60_000}, "consent_mode_wait_for_update_ms",
                     id="wait-long"),
    ],
)
def test_settings_errors_name_the_key(kwargs: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ConsentModeSettings(**kwargs)  # type: ignore[arg-type]
    assert [k for k, _ in caught.value.problems] == [key]
