from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optout_mw.signals import SignalKind, Verdict, parse_gpc, parse_us_privacy


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(["1"], Verdict.OPT_OUT, id="exactly 1"),
        pytest.param([" 1 "], Verdict.OPT_OUT, id="surrounding OWS"),
        pytest.param(["\t1"], Verdict.OPT_OUT, id="leading tab"),
        pytest.param(["0, 1"], Verdict.OPT_OUT, id="wsgi joined 0, 1"),
        pytest.param(["1,0"], Verdict.OPT_OUT, id="joined 1,0 no space"),
        pytest.param(["0", "1"], Verdict.OPT_OUT, id="repeated headers, one is 1"),
        pytest.param(["0"], Verdict.NOT_APPLICABLE, id="zero ignored"),
        pytest.param(["true"], Verdict.NOT_APPLICABLE, id="true ignored"),
        pytest.param(["1.0"], Verdict.NOT_APPLICABLE, id="1.0 ignored"),
        pytest.param([""], Verdict.NOT_APPLICABLE, id="empty ignored"),
        pytest.param(["1;x=y"], Verdict.NOT_APPLICABLE, id="parameters are not exactly 1"),
        pytest.param(["01"], Verdict.NOT_APPLICABLE, id="leading zero"),
        pytest.param(["\uff11"], Verdict.NOT_APPLICABLE, id="fullwidth digit one"),
        pytest.param(["1\x00"], Verdict.NOT_APPLICABLE, id="nul after 1"),
        pytest.param(["1 1"], Verdict.NOT_APPLICABLE, id="interior space"),
        pytest.param(["0", "0"], Verdict.NOT_APPLICABLE, id="repeated zeros"),
    ],
)
def test_gpc(values: list[str], expected: Verdict) -> None:
    signal = parse_gpc(values)
    assert signal is not None
    assert signal.kind is SignalKind.GPC
    assert signal.verdict is expected


def test_gpc_absent_is_no_signal() -> None:
    assert parse_gpc([]) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("1YYN", Verdict.OPT_OUT, id="1YYN opted out"),
        pytest.param("1NYN", Verdict.OPT_OUT, id="1NYN opted out without notice"),
        pytest.param("1-Y-", Verdict.OPT_OUT, id="1-Y- vendor created"),
        pytest.param("1YNN", Verdict.NO_OPT_OUT, id="1YNN not opted out"),
        pytest.param("1NNY", Verdict.NO_OPT_OUT, id="1NNY lspa"),
        pytest.param("1---", Verdict.NOT_APPLICABLE, id="1--- does not apply"),
        pytest.param("1Y--", Verdict.INVALID, id="1Y-- opt-out position dash while applying"),
        pytest.param("1N-N", Verdict.INVALID, id="1N-N"),
        pytest.param("1yyn", Verdict.OPT_OUT, id="lowercase y fails closed"),
        pytest.param("1nYn", Verdict.OPT_OUT, id="mixed case Y third"),
        pytest.param("1ynn", Verdict.INVALID, id="lowercase n is malformed, no grant"),
        pytest.param("2YYN", Verdict.OPT_OUT, id="unknown version but Y third"),
        pytest.param("2YNN", Verdict.INVALID, id="unknown version no opt-out"),
        pytest.param("1YYNX", Verdict.OPT_OUT, id="too long with Y third"),
        pytest.param("1YNNX", Verdict.INVALID, id="too long"),
        pytest.param("1Y", Verdict.INVALID, id="too short"),
        pytest.param("", Verdict.INVALID, id="empty"),
        pytest.param("1Y\x00N", Verdict.INVALID, id="nul third"),
        pytest.param("\uff11YYN", Verdict.OPT_OUT, id="non-ascii first, Y third fails closed"),
    ],
)
def test_us_privacy(value: str, expected: Verdict) -> None:
    signal = parse_us_privacy(value)
    assert signal is not None
    assert signal.kind is SignalKind.US_PRIVACY
    assert signal.verdict is expected
    assert signal.reason


def test_us_privacy_absent() -> None:
    assert parse_us_privacy(None) is None


def test_us_privacy_reason_never_echoes_malformed_input() -> None:
    signal = parse_us_privacy("<script>alert(1)</script>")
    assert signal is not None
    assert "<script>" not in signal.reason


@given(st.lists(st.text()))
def test_gpc_total(values: list[str]) -> None:
    signal = parse_gpc(values)
    if any(m.strip(" \t") == "1" for v in values for m in v.split(",")):
        assert signal is not None and signal.opted_out
    else:
        assert signal is None or not signal.opted_out


@given(st.text())
def test_us_privacy_total_and_y_third_always_opts_out(value: str) -> None:
    signal = parse_us_privacy(value)
    assert signal is not None
    if len(value) >= 3 and value[2] in "Yy":
        assert signal.verdict is Verdict.OPT_OUT
    if signal.verdict is Verdict.NO_OPT_OUT:
        assert value in {"1" + a + "N" + b for a in "YN-" for b in "YN-"}
