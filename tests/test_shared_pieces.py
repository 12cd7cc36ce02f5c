"""One configuration is compiled once: one decider, one choice-cookie codec, one GPP
encoder, shared by the decision, the opt-out surface, the write-back and the stub."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from optout_mw import cookies, decision, writeback
from optout_mw.engine import Engine

from .test_endpoints_support import config


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts the constructions of the compiled pieces."""
    counts: Counter[str] = Counter()
    for owner, name in ((decision.Decider, "Decider"), (cookies.ChoiceCookieCodec, "codec"),
                        (writeback.GppOptOut, "gpp")):
        original = owner.__init__

        def counted(self: Any, *args: Any, _original: Any = original, _name: str = name,
                    **kwargs: Any) -> None:
            counts[_name] += 1
            _original(self, *args, **kwargs)

        monkeypatch.setattr(owner, "__init__", counted)
    yield counts


def test_engine_compiles_each_piece_once(built: Counter[str]) -> None:
    engine = Engine(config(write_us_privacy=True, write_gpp=True, inject_stubs=True))
    assert built == {"Decider": 1, "codec": 1, "gpp": 1}
    assert engine.writeback.codec is engine.decider.codec
    assert engine.endpoints.paths is engine.endpoint_paths


def test_without_gpp_nothing_loads_the_encoder(built: Counter[str]) -> None:
    engine = Engine(config(inject_stubs=True))
    assert built["gpp"] == 0
    assert engine.writeback.gpp is None
