"""``optout-mw decode`` gives a US Privacy string the verdict the middleware gives it."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest

from optout_mw import OptOutWSGIMiddleware, SignalKind, Verdict, development_config, get_decision
from optout_mw._types import StartResponse, WSGIEnviron
from optout_mw.cli import main
from optout_mw.signals import Signal

from .wsgi_harness import make_environ, run

# (cookie value, the verdict, the four fields when the string is well formed)
STRINGS = [
    pytest.param("1YYN", Verdict.OPT_OUT, "YYN", id="1YYN opted out"),
    pytest.param("1NYN", Verdict.OPT_OUT, "NYN", id="1NYN opted out without notice"),
    pytest.param("1YNN", Verdict.NO_OPT_OUT, "YNN", id="1YNN did not opt out"),
    pytest.param("1---", Verdict.NOT_APPLICABLE, "---", id="1--- does not apply"),
    pytest.param("1Y--", Verdict.INVALID, "Y--", id="1Y-- dash in the opt-out position"),
    pytest.param("1N-N", Verdict.INVALID, "N-N", id="1N-N"),
    pytest.param("1yyn", Verdict.OPT_OUT, None, id="1yyn lower case y fails closed"),
    pytest.param("1ynn", Verdict.INVALID, None, id="1ynn lower case n grants nothing"),
    pytest.param("2YYN", Verdict.OPT_OUT, None, id="2YYN unknown version, Y third"),
    pytest.param("2YNN", Verdict.INVALID, None, id="2YNN unknown version"),
    pytest.param("1YYNX", Verdict.OPT_OUT, None, id="too long with Y third"),
    pytest.param("1Y", Verdict.INVALID, None, id="too short"),
    pytest.param("hello", Verdict.INVALID, None, id="not a US Privacy string"),
]


def middleware_signal(value: str) -> Signal:
    """The US Privacy signal the middleware reads from a ``usprivacy`` cookie."""
    seen: list[Signal] = []

    def app(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        decision = get_decision(environ)
        seen.extend(s for s in decision.signals if s.kind is SignalKind.US_PRIVACY)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    middleware = OptOutWSGIMiddleware(app, config=development_config())
    run(middleware, make_environ(headers=[("Cookie", f"usprivacy={value}")]))
    (signal,) = seen
    return signal


@pytest.mark.parametrize(("value", "verdict", "fields"), STRINGS)
def test_decode_prints_the_middleware_verdict_and_reason(
    capsys: pytest.CaptureFixture[str], value: str, verdict: Verdict, fields: str | None
) -> None:
    signal = middleware_signal(value)
    assert signal.verdict is verdict

    code = main(["decode", value])
    decoded = json.loads(capsys.readouterr().out)
    assert decoded["type"] == "usprivacy"
    assert decoded["value"] == value
    assert decoded["verdict"] == {"outcome": verdict.value, "reason": signal.reason}
    names = ("Version", "Notice", "OptOutSale", "LspaCovered")
    if fields is None:
        assert not set(names) & set(decoded)
    else:
        assert [decoded[name] for name in names] == ["1", *fields]
    # Exit 1 and an error for what the middleware reads as malformed or invalid.
    well_read = verdict is not Verdict.INVALID and fields is not None
    assert code == (0 if well_read else 1)
    assert (decoded["error"] is None) is well_read


def test_decode_still_decodes_gpp_strings(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["decode", "DBABLA~CVVVkkkkkpFY.YA"])
    decoded = json.loads(capsys.readouterr().out)
    assert code == 0
    assert decoded["type"] == "gpp"
    assert decoded["verdict"]["sections"] == ["usnat"]
