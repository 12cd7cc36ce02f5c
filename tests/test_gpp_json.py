"""JSON views for the ``optout-mw decode`` command: spec field names, errors as values."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

from optout_mw.gpp import decode_any, decode_gpp, to_json_dict


def _sections(out: dict[str, object]) -> list[dict[str, Any]]:
    return cast("list[dict[str, Any]]", out["sections"])


def test_gpp_json_uses_spec_names_and_is_serialisable() -> None:
    out = decode_any("DBABzw~1YNY~BVQqAAAAAgA")
    json.dumps(out)  # must be JSON-ready
    assert out["type"] == "gpp"
    assert out["sectionIds"] == [6, 7]
    uspv1, usnat = _sections(out)
    assert uspv1 == {
        "id": 6,
        "name": "uspv1",
        "Version": "1",
        "Notice": "Y",
        "OptOutSale": "N",
        "LspaCovered": "Y",
        "value": "1YNY",
    }
    assert usnat["SaleOptOut"] == 2
    assert usnat["SharingOptOut"] == 2
    assert usnat["TargetedAdvertisingOptOut"] == 2
    assert usnat["MspaCoveredTransaction"] == 2
    assert usnat["SensitiveDataProcessing"] == [0] * 12
    assert usnat["GpcSegmentIncluded"] is False
    assert "Gpc" not in usnat
    assert out["verdict"] == {
        "outcome": "not_opted_out",
        "reason": "uspv1 OptOutSale=N; usnat SaleOptOut=2, SharingOptOut=2, "
        "TargetedAdvertisingOptOut=2",
        "sections": ["uspv1", "usnat"],
        "gpc": False,
    }


def test_gpc_appears_when_the_sub_section_is_present() -> None:
    (section,) = _sections(to_json_dict(decode_gpp("DBABLA~CVVVkkkkkpFY.YA")))
    assert section["Gpc"] is True
    assert section["GpcSegmentIncluded"] is True
    assert section["KnownChildSensitiveDataConsents"] == [2, 1, 0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1YNN", {"OptOutSale": "N", "error": None}, id="usp"),
        pytest.param("1---", {"Notice": "-", "error": None}, id="usp-not-applicable"),
        pytest.param("1XNN", {"error": "malformed US Privacy string"}, id="usp-malformed"),
        pytest.param(" 1YYN ", {"OptOutSale": "Y"}, id="usp-trimmed"),
    ],
)
def test_decode_any_us_privacy(text: str, expected: dict[str, object]) -> None:
    out = decode_any(text)
    assert out["type"] == "usprivacy"
    for key, value in expected.items():
        assert out[key] == value


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("DBAA~x", "0 section(s) but the string has 1", id="count"),
        pytest.param("hello world", "not URL-safe", id="not-gpp"),
        pytest.param("DBABLA~CVVV+kkkpFY", None, id="bad-section-kept-as-value"),
    ],
)
def test_decode_any_errors_are_values(text: str, fragment: str | None) -> None:
    out = decode_any(text)
    json.dumps(out)
    if fragment is None:
        (section,) = _sections(out)
        assert "undecodable" in section
        assert cast("dict[str, Any]", out["verdict"])["outcome"] == "unknown"
    else:
        assert fragment in str(out["error"])


def test_decode_any_never_raises_on_wrong_type() -> None:
    assert decode_any(None)["error"]  # type: ignore[arg-type]
