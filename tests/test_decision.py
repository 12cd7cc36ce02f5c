from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from optout_mw import (
    HONORED_TEXT,
    Decision,
    MiddlewareNotInstalled,
    SignalKind,
    development_config,
    get_decision,
)
from optout_mw.cookies import ChoiceCookieCodec, StoredChoice
from optout_mw.decision import DECISION_KEY, Decider, twelve_months_after

SECRET = "optout-mw-development-secret-not-for-production"


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


NOW = ts("2026-06-01T12:00:00")


def choice_cookie(opted_out: bool, made_at: str, *, name: str = "optout_choice") -> str:
    codec = ChoiceCookieCodec([SECRET], max_age=400 * 86400)
    value = codec.dumps(StoredChoice(opted_out=opted_out, made_at=int(ts(made_at))))
    return f"{name}={value}"


def decide(
    gpc: list[str] | None = None, cookie: str | None = None, *, now: float | None = None,
    **config: object,
) -> Decision:
    decider = Decider(development_config(**config))
    return decider.decide(gpc or [], cookie, time.time() if now is None else now)


def test_no_signals_permits_sale() -> None:
    d = decide()
    assert d.sale_permitted
    assert d.signals == ()
    assert d.status_text is None
    assert d.may_request_opt_in
    assert d.opted_out_at is None


def test_gpc_opts_out() -> None:
    d = decide(["1"])
    assert not d.sale_permitted
    assert d.gpc
    assert d.opted_out_by == (SignalKind.GPC,)
    assert d.status_text == HONORED_TEXT == "Opt-Out Request Honored"
    assert not d.may_request_opt_in


def test_gpc_wins_over_stored_opt_in() -> None:
    d = decide(["1"], choice_cookie(False, "2026-01-01"))
    assert not d.sale_permitted
    assert [s.kind for s in d.signals] == [SignalKind.GPC, SignalKind.SITE_CHOICE]


def test_usp_opt_out_wins_over_gpp_and_stored_opt_in() -> None:
    d = decide(None, choice_cookie(False, "2026-01-01") + "; usprivacy=1YYN")
    assert not d.sale_permitted
    assert d.opted_out_by == (SignalKind.US_PRIVACY,)


def test_usp_no_opt_out_does_not_override_stored_opt_out() -> None:
    d = decide(None, "usprivacy=1YNN; " + choice_cookie(True, "2026-01-01"))
    assert not d.sale_permitted
    assert d.opted_out_by == (SignalKind.SITE_CHOICE,)


def test_stored_opt_out_records_time_and_twelve_month_rule() -> None:
    cookie = choice_cookie(True, "2025-06-01T12:00:00")
    before = decide(None, cookie, now=ts("2026-06-01T11:59:59"))
    at = decide(None, cookie, now=ts("2026-06-01T12:00:00"))
    assert before.opted_out_at == datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert not before.may_request_opt_in
    assert at.may_request_opt_in
    assert not at.sale_permitted


def test_twelve_month_rule_with_gpc_never_asks() -> None:
    d = decide(["1"], choice_cookie(True, "2020-01-01"), now=NOW)
    assert not d.may_request_opt_in


def test_twelve_months_after_leap_day() -> None:
    assert twelve_months_after(datetime(2024, 2, 29, tzinfo=UTC)) == datetime(
        2025, 2, 28, tzinfo=UTC
    )


def test_bad_signature_is_a_reason_not_an_error() -> None:
    d = decide(None, "optout_choice=tampered.value.sig")
    assert d.sale_permitted
    assert d.signals[0].kind is SignalKind.SITE_CHOICE
    assert "bad signature" in d.signals[0].reason


def test_strict_mode_fails_closed_on_invalid() -> None:
    assert decide(None, "usprivacy=garbage").sale_permitted
    assert not decide(None, "usprivacy=garbage", strict=True).sale_permitted
    # A GPC value other than 1 must be ignored even in strict mode (W3C GPC).
    assert decide(["0"], strict=True).sale_permitted


def test_duplicate_choice_cookies_opt_out_wins() -> None:
    cookie = choice_cookie(False, "2026-01-01") + "; " + choice_cookie(True, "2026-02-01")
    assert not decide(None, cookie).sale_permitted


def test_signals_switched_off_are_not_read() -> None:
    d = decide(["1"], "usprivacy=1YYN", read_gpc=False, read_us_privacy=False)
    assert d.sale_permitted
    assert d.signals == ()


def test_custom_cookie_names() -> None:
    d = decide(None, "us_p=1YYN; usprivacy=1YNN", us_privacy_cookie="us_p")
    assert not d.sale_permitted


def test_to_json_has_no_cookie_values() -> None:
    cookie = choice_cookie(True, "2026-01-01")
    payload = decide(["1"], cookie).to_json()
    assert cookie.partition("=")[2] not in repr(payload)
    assert payload["sale_permitted"] is False
    assert payload["opted_out_by"] == ["gpc", "site_choice"]
    assert payload["status_text"] == HONORED_TEXT


class FakeFlaskRequest:
    def __init__(self, environ: Mapping[str, object]) -> None:
        self.environ = environ


class FakeStarletteRequest:
    def __init__(self, scope: Mapping[str, object]) -> None:
        self.scope = scope


def test_get_decision_from_every_carrier() -> None:
    d = decide()
    store = {DECISION_KEY: d}
    assert get_decision(store) is d
    assert get_decision(FakeFlaskRequest(store)) is d
    assert get_decision(FakeStarletteRequest(store)) is d


@pytest.mark.parametrize("carrier", [{}, object(), None, {DECISION_KEY: "forged"}])
def test_get_decision_without_middleware_is_loud(carrier: object) -> None:
    with pytest.raises(MiddlewareNotInstalled, match="OptOutWSGIMiddleware"):
        get_decision(carrier)


@pytest.mark.parametrize(
    ("cookie", "sale_permitted"),
    [
        # usnat v2 from IABTechLab/iabgpp-java UsNatTest.java: SaleOptOut=1 ... opted out.
        pytest.param("__gpp=DBABLA~CVVVkkkkkpFY.YA; __gpp_sid=7", False, id="usnat opted out"),
        pytest.param("__gpp=DBABLA~CAAAVVVVAFBA.QA", True, id="usnat not applicable"),
        pytest.param("__gpp=DBABLA~&&&", True, id="undecodable does not opt out"),
        pytest.param("__gpp=DBABzw~1YYN~BVQqAAAAAgA; __gpp_sid=6", False, id="uspv1 in gpp"),
    ],
)
def test_gpp_cookie(cookie: str, sale_permitted: bool) -> None:
    d = decide(None, cookie)
    assert d.sale_permitted is sale_permitted
    assert d.signals[0].kind is SignalKind.GPP


def test_gpp_undecodable_fails_closed_in_strict_mode() -> None:
    assert not decide(None, "__gpp=DBABLA~&&&", strict=True).sale_permitted


def test_gpp_cookie_names_configurable() -> None:
    d = decide(None, "gpp=DBABLA~CVVVkkkkkpFY.YA", gpp_cookie="gpp")
    assert not d.sale_permitted


def test_cached_decisions_follow_the_clock() -> None:
    """One Decider reused across requests: the cache never outlives a time boundary."""
    decider = Decider(development_config(choice_cookie_max_age=400 * 86400))
    signed = time.time()
    cookie = choice_cookie(True, "2025-06-01T12:00:00")
    made = ts("2025-06-01T12:00:00")
    year_later = ts("2026-06-01T12:00:00")
    first = decider.decide([], cookie, made + 10)
    assert not first.may_request_opt_in
    assert decider.decide([], cookie, made + 20) is first, "served from the cache"
    assert decider.decide([], cookie, year_later - 1).may_request_opt_in is False
    assert decider.decide([], cookie, year_later).may_request_opt_in is True
    expired = decider.decide([], cookie, signed + 400 * 86400 + 5)
    assert expired.sale_permitted
    assert "expired" in expired.signals[0].reason
    # GPC on the same cookie header is a different entry.
    assert decider.decide(["1"], cookie, made + 30).gpc


def test_long_headers_differing_between_sampled_characters_never_share_a_decision() -> None:
    """Long headers are cached under a sample of their characters; an exact match is still
    required, so two visitors whose headers collide on the sample each get their own."""
    decider = Decider(development_config())
    filler = "; ".join(f"_ga_{i:03d}=GA1.1.{i:010d}" for i in range(40))
    opted_out = f"{filler}; usprivacy=1YYN"
    opted_in = f"{filler}; usprivacy=1YNN"
    # Same length; the differing character is not one of the sampled ones.
    assert len(opted_out) == len(opted_in) > 256
    assert opted_out[::17] == opted_in[::17]
    for _ in range(3):
        assert not decider.for_request(None, opted_out, NOW).sale_permitted
        assert decider.for_request(None, opted_in, NOW).sale_permitted
        assert not decider.for_request(None, opted_out.encode(), NOW).sale_permitted
        assert decider.for_request(None, opted_in.encode(), NOW).sale_permitted


@pytest.mark.parametrize("cookie", [None, "", "usprivacy=1YYN", "usprivacy=1NNN", "a=b"])
@pytest.mark.parametrize("gpc", [None, "1", "0", "0, 1", " 1 ", "yes"])
def test_for_request_agrees_with_decide(gpc: str | None, cookie: str | None) -> None:
    decider = Decider(development_config())
    expected = decider.decide(() if gpc is None else (gpc,), cookie, NOW)
    for header in (cookie, None if cookie is None else cookie.encode()):
        assert decider.for_request(gpc, header, NOW) == expected
