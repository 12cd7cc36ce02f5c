"""Codec properties: round trips, base64 rules, and total decoding of malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optout_mw.gpp import (
    SECTION_IDS,
    UndecodableSection,
    UsPrivacy,
    UsSection,
    decode_gpp,
    decode_header,
    decode_section,
    encode_gpp,
    encode_header,
    encode_section,
)
from optout_mw.gpp.sections import LAYOUTS, USNAT_V1, USNAT_V2, Layout

# Every decodable US layout, usnat in both versions.
ALL_LAYOUTS: list[Layout] = [USNAT_V1, USNAT_V2, *LAYOUTS.values()]
two_bits = st.integers(min_value=0, max_value=3)


@st.composite
def section_values(draw: st.DrawFn) -> tuple[Layout, dict[str, int | list[int]], bool | None]:
    layout = draw(st.sampled_from(ALL_LAYOUTS))
    values: dict[str, int | list[int]] = {}
    for name, count in layout.fields:
        if count:
            values[name] = draw(st.lists(two_bits, min_size=count, max_size=count))
        else:
            values[name] = draw(two_bits)
    gpc = draw(st.none() | st.booleans()) if layout.has_gpc else None
    return layout, values, gpc


@given(section_values())
def test_section_round_trip(case: tuple[Layout, dict[str, int | list[int]], bool | None]) -> None:
    layout, values, gpc = case
    version = 1 if layout is USNAT_V1 else (2 if layout is USNAT_V2 else None)
    encoded = encode_section(layout.name, values, gpc=gpc, version=version)
    decoded = decode_section(layout.section_id, encoded)
    assert isinstance(decoded, UsSection)
    assert decoded.layout == layout.key
    fields = decoded.spec_fields()
    for name, value in values.items():
        assert fields[name] == (tuple(value) if isinstance(value, list) else value), name
    assert decoded.gpc is gpc
    assert decoded.problems == ()


@given(st.sets(st.integers(min_value=1, max_value=300), max_size=40))
def test_header_round_trip(ids: set[int]) -> None:
    assert decode_header(encode_header(ids), max_ids=len(ids)) == tuple(sorted(ids))


SOME_SECTIONS = ["usnat", "usca", "usco", "usva", "usnj"]


@given(st.lists(st.sampled_from(SOME_SECTIONS), unique=True, min_size=1))
def test_whole_string_round_trip(names: list[str]) -> None:
    sections = {name: encode_section(name, {"SaleOptOut": 1}, gpc=None) for name in names}
    gpp, sid = encode_gpp(sections)
    decoded = decode_gpp(gpp)
    assert decoded.error is None
    assert decoded.section_ids == tuple(sorted(SECTION_IDS[n] for n in names))
    assert sid == ",".join(str(i) for i in decoded.section_ids)
    for section in decoded.sections:
        assert isinstance(section, UsSection)
        assert section.sale_opt_out == 1


# Both paddings decode the same; the standard alphabet and "=" never do.
@pytest.mark.parametrize(
    ("text", "ok"),
    [
        pytest.param("DBACNY~x~1YNN", True, id="6-bit-padding"),
        pytest.param("DBACNYA~x~1YNN", True, id="compressed-padding"),
        pytest.param("DBACNY=~x~1YNN", False, id="equals-padding"),
        pytest.param("DBACNYA=~x~1YNN", False, id="equals-after-compressed"),
        pytest.param("DB+CNY~x~1YNN", False, id="plus-standard-alphabet"),
        pytest.param("DB/CNY~x~1YNN", False, id="slash-standard-alphabet"),
        pytest.param("dbacny~x~1YNN", False, id="lower-case-header"),
    ],
)
def test_base64_alphabet_and_padding(text: str, ok: bool) -> None:
    decoded = decode_gpp(text)
    assert (decoded.error is None) is ok, decoded.error


@pytest.mark.parametrize(
    "core",
    [
        pytest.param("CVVVkkkk+pFY", id="plus"),
        pytest.param("CVVVkkkk/pFY", id="slash"),
        pytest.param("CVVVkkkkkpFY=", id="equals"),
        pytest.param("CVVVkkk", id="truncated"),
        pytest.param("", id="empty"),
        pytest.param("CVVVkkkkkpFYAAAAAAAAAAAA", id="far-too-long"),
        pytest.param("CVVV\x00kkkkpFY", id="nul"),
        pytest.param("CVVVkkkkkpFÝ", id="non-ascii"),
    ],
)
def test_malformed_usnat_core_is_undecodable_with_reason(core: str) -> None:
    section = decode_section(7, core)
    assert isinstance(section, UndecodableSection)
    assert section.reason


@pytest.mark.parametrize(
    ("sub", "gpc"),
    [
        pytest.param("QA", False, id="QA-false"),
        pytest.param("YA", True, id="YA-true"),
        pytest.param("Q", False, id="one-char-Q"),
        pytest.param("Y", True, id="one-char-Y"),
        pytest.param("QAAA", False, id="24-bit-padding"),
    ],
)
def test_gpc_sub_section(sub: str, gpc: bool) -> None:
    section = decode_section(8, f"BVWSSSVY.{sub}")
    assert isinstance(section, UsSection)
    assert section.gpc is gpc


def test_malformed_gpc_sub_section_is_a_problem_not_a_crash() -> None:
    section = decode_section(8, "BVWSSSVY.Y=")
    assert isinstance(section, UsSection)
    assert section.gpc is None
    assert section.problems


def test_sub_section_on_a_section_without_gpc_is_ignored() -> None:
    section = decode_section(9, "BVWSSVY.YA")
    assert isinstance(section, UsSection)
    assert section.gpc is None
    assert section.notes


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("DBACNYA~1YNN", "more section ids", id="fewer-sections-than-ids"),
        pytest.param(
            "DBABTA~1YNN~1YNN", "1 section(s) but the string has 2", id="more-sections-than-ids"
        ),
        pytest.param("CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", "Type", id="bare-tcf-string"),
        pytest.param("DBAB", "truncated", id="truncated-header"),
        pytest.param("DCABTA~1YNN", "Version", id="header-version-2"),
        pytest.param("DBABTAé~1YNN", "non-ASCII", id="non-ascii"),
        pytest.param("A" * 9000, "longer than", id="huge"),
    ],
)
def test_fatal_string_errors_are_values(text: str, fragment: str) -> None:
    decoded = decode_gpp(text)
    assert decoded.error is not None
    assert fragment in decoded.error
    assert decoded.sections == ()


@pytest.mark.parametrize(
    ("section_id", "raw", "kind"),
    [
        pytest.param(2, "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", "skipped", id="tcfeuv2"),
        pytest.param(5, "BPXuQIAPXuQIAAfKABENB-CgAAAAAAAAAAAAAAAA.YAAAAAAAAAA", "skipped",
                     id="tcfcav1"),
        pytest.param(1, "x", "skipped", id="tcfeuv1"),
        pytest.param(40, "BAAA", "skipped", id="unknown-id"),
        pytest.param(24, "BQAA.QA", "undecodable", id="usmd-unsettled"),
        pytest.param(25, "BQAA", "undecodable", id="usin-unsettled"),
        pytest.param(26, "BQAA", "undecodable", id="usky-unsettled"),
        pytest.param(27, "BQAA", "undecodable", id="usri-unsettled"),
        pytest.param(6, "1YN", "undecodable", id="uspv1-short"),
        pytest.param(6, "XYNN", "undecodable", id="uspv1-bad-version"),
    ],
)  # fmt: skip
def test_recognised_but_not_decoded(section_id: int, raw: str, kind: str) -> None:
    section = decode_section(section_id, raw)
    assert type(section).__name__.lower().startswith(kind)
    assert not isinstance(section, UsSection | UsPrivacy)


def test_empty_string_has_no_sections() -> None:
    decoded = decode_gpp("")
    assert decoded.error is None
    assert decoded.sections == ()


@pytest.mark.parametrize(
    ("ids", "fragment"),
    [
        pytest.param(range(1, 400), "more section ids", id="group-longer-than-section-list"),
        pytest.param(range(1, 2000), "too many section ids", id="group-over-hard-cap"),
    ],
)
def test_header_ranges_are_bounded(ids: range, fragment: str) -> None:
    decoded = decode_gpp(encode_header(ids) + "~x")
    assert decoded.error is not None
    assert fragment in decoded.error


@given(st.text(max_size=300))
def test_decode_gpp_is_total_on_text(text: str) -> None:
    decoded = decode_gpp(text)
    assert decoded.error is None or decoded.sections == ()


@given(st.from_regex(r"DB[A-Za-z0-9_\-+/=]{0,10}(~[A-Za-z0-9_\-+/=.]{0,16}){0,4}", fullmatch=True))
def test_decode_gpp_is_total_on_gpp_shaped_text(text: str) -> None:
    decoded = decode_gpp(text)
    for section in decoded.sections:
        assert section.section_id in decoded.section_ids
