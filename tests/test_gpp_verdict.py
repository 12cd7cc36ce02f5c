"""The request verdict: table tests, gpp_sid, robustness, and the fast path vs the full decoder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optout_mw.gpp import (
    GppOutcome,
    UndecodableSection,
    UsPrivacy,
    UsSection,
    decode_gpp,
    encode_gpp,
    encode_opt_out_gpp,
    encode_section,
    gpp_verdict,
    parse_gpp_sid,
)
from optout_mw.gpp.sections import LAYOUTS, USNAT_V1, USNAT_V2, Layout
from optout_mw.gpp.verdict import _compute

Out = GppOutcome

# Sections built with the encoder (checked against the reference libraries elsewhere).
NAT_OUT = encode_section("usnat", {"SaleOptOutNotice": 1, "SaleOptOut": 1}, gpc=False)
NAT_NOT = encode_section(
    "usnat", {"SaleOptOut": 2, "SharingOptOut": 2, "TargetedAdvertisingOptOut": 2}, gpc=False
)
NAT_NA = encode_section("usnat", {}, gpc=False)
NAT_GPC = encode_section(
    "usnat", {"SaleOptOut": 2, "SharingOptOut": 2, "TargetedAdvertisingOptOut": 2}, gpc=True
)
NAT_3 = encode_section("usnat", {"SaleOptOut": 3, "SharingOptOut": 2}, gpc=False)
CA_OUT = encode_section("usca", {"SaleOptOut": 1}, gpc=None)
CA_NOT = encode_section("usca", {"SaleOptOut": 2, "SharingOptOut": 2}, gpc=False)
CA_SHARE = encode_section("usca", {"SaleOptOut": 2, "SharingOptOut": 1}, gpc=False)


def gpp(**sections: str) -> str:
    return encode_gpp(sections)[0]


TABLE = [
    pytest.param(None, None, Out.ABSENT, "", id="absent"),
    pytest.param("", None, Out.ABSENT, "", id="empty"),
    pytest.param("   ", None, Out.ABSENT, "", id="blank"),
    pytest.param("DBAA", None, Out.NOT_APPLICABLE, "no US section", id="header-only"),
    pytest.param(gpp(usnat=NAT_OUT), None, Out.OPTED_OUT, "usnat SaleOptOut=1", id="usnat-sale"),
    pytest.param(gpp(usca=CA_OUT), None, Out.OPTED_OUT, "usca SaleOptOut=1", id="usca-sale"),
    pytest.param(gpp(usca=CA_SHARE), None, Out.OPTED_OUT, "usca SharingOptOut=1", id="usca-share"),
    pytest.param(gpp(usnat=NAT_NOT), None, Out.NOT_OPTED_OUT, "SaleOptOut=2", id="usnat-declined"),
    pytest.param(gpp(usnat=NAT_NA), None, Out.NOT_APPLICABLE, "0", id="usnat-all-zero"),
    pytest.param(gpp(usnat=NAT_GPC), None, Out.OPTED_OUT, "usnat Gpc=true", id="gpc-wins-over-2s"),
    pytest.param(gpp(usnat=NAT_3), None, Out.UNKNOWN, "SaleOptOut=3", id="value-3-undefined"),
    pytest.param(gpp(usnat=NAT_NOT, usca=CA_OUT), None, Out.OPTED_OUT, "usca", id="any-opt-out"),
    pytest.param(gpp(usnat=NAT_NOT, usca=CA_NOT), None, Out.NOT_OPTED_OUT, "usca",
                 id="all-declined"),
    pytest.param(gpp(usnat=NAT_3, usca=CA_OUT), None, Out.OPTED_OUT, "usca SaleOptOut=1",
                 id="opt-out-beats-undefined"),
    pytest.param(gpp(usnat=NAT_NOT, usmd="BQAA.QA"), None, Out.UNKNOWN, "usmd",
                 id="unsettled-usmd-never-consent"),
    pytest.param(gpp(usca=CA_OUT, usmd="BQAA.QA"), None, Out.OPTED_OUT, "usca",
                 id="opt-out-beats-unsettled"),
    pytest.param(gpp(usnat="CVVV+kkkpFY"), None, Out.UNKNOWN, "usnat undecodable",
                 id="standard-alphabet-in-section"),
    pytest.param(gpp(usnat=NAT_NOT + "="), None, Out.UNKNOWN, "usnat", id="equals-in-section"),
    pytest.param(gpp(usnat=NAT_NOT.split(".")[0][:5]), None, Out.UNKNOWN, "truncated",
                 id="truncated-section"),
    pytest.param(gpp(usnat=NAT_NOT + ".Y="), None, Out.UNKNOWN, "sub-section",
                 id="malformed-gpc-never-consent"),
    pytest.param("DBABTA~1YYN", None, Out.OPTED_OUT, "uspv1 OptOutSale=Y", id="uspv1-Y"),
    pytest.param("DBABTA~1yyn", None, Out.OPTED_OUT, "uspv1 OptOutSale=Y", id="uspv1-lower-y"),
    pytest.param("DBABTA~1YNN", None, Out.NOT_OPTED_OUT, "uspv1 OptOutSale=N", id="uspv1-N"),
    pytest.param("DBABTA~1---", None, Out.NOT_APPLICABLE, "", id="uspv1-not-applicable"),
    pytest.param("DBABTA~2YNY", None, Out.UNKNOWN, "Version=2", id="uspv1-undefined-version"),
    pytest.param("DBABTA~1YY", None, Out.OPTED_OUT, "malformed", id="uspv1-malformed-but-Y"),
    pytest.param("DBABTA~1YN", None, Out.UNKNOWN, "malformed", id="uspv1-malformed"),
    pytest.param("DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", None, Out.NOT_APPLICABLE,
                 "no US section", id="tcf-only"),
    pytest.param("DBACNYA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN", None,
                 Out.NOT_OPTED_OUT, "uspv1", id="spec-example-2"),
    pytest.param("DBACNYA~1YNN", None, Out.UNKNOWN, "more section ids", id="wrong-count"),
    pytest.param("DBABLA~", None, Out.UNKNOWN, "empty", id="empty-section"),
    pytest.param("DBABTA~1YNN~1YYN", None, Out.UNKNOWN, "2", id="extra-section"),
    pytest.param("CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", None, Out.UNKNOWN, "Type",
                 id="bare-tcf-string"),
    # Real-world strings (see tests/test_gpp_reference.py for library-published ones):
    # ad-server request logs found through code search, kept as seen.
    pytest.param("DBABzw~1YNY~BVQqAAAAAgA", "6,7", Out.NOT_OPTED_OUT, "usnat", id="pubmatic-6-7"),
    pytest.param("DBABLA~BVQqAAAAAAJY.QA", "7", Out.NOT_OPTED_OUT, "usnat", id="rtb-usnat"),
    pytest.param("DBABBg~BUoAAABg.Q", "8", Out.NOT_OPTED_OUT, "usca", id="usca-one-char-gpc"),
]  # fmt: skip


@pytest.mark.parametrize(("gpp_string", "sid", "outcome", "reason"), TABLE)
def test_verdict_table(
    gpp_string: str | None, sid: str | None, outcome: GppOutcome, reason: str
) -> None:
    verdict = gpp_verdict(gpp_string, sid)
    assert verdict.outcome is outcome, verdict
    assert reason in verdict.reason


def test_verdict_reports_sections_and_gpc() -> None:
    verdict = gpp_verdict(gpp(usnat=NAT_GPC, usca=CA_NOT), None)
    assert verdict.sections == ("usnat", "usca")
    assert verdict.gpc is True
    assert verdict.opted_out


SID_TABLE = [
    pytest.param("8", Out.NOT_OPTED_OUT, ("usca",), id="sid-narrows-to-usca"),
    pytest.param("7", Out.OPTED_OUT, ("usnat",), id="sid-narrows-to-usnat"),
    pytest.param("7,8", Out.OPTED_OUT, ("usnat", "usca"), id="comma"),
    pytest.param("7_8", Out.OPTED_OUT, ("usnat", "usca"), id="underscore-in-app"),
    pytest.param(" 8 ", Out.NOT_OPTED_OUT, ("usca",), id="whitespace"),
    pytest.param("2", Out.NOT_APPLICABLE, (), id="only-tcf-applies"),
    pytest.param("-1", Out.NOT_APPLICABLE, (), id="minus-one-none-applies"),
    pytest.param("8;7", Out.OPTED_OUT, ("usnat", "usca"), id="malformed-ignored"),
    pytest.param("eight", Out.OPTED_OUT, ("usnat", "usca"), id="words-ignored"),
    pytest.param("", Out.OPTED_OUT, ("usnat", "usca"), id="empty-means-absent"),
    pytest.param("\uff18", Out.OPTED_OUT, ("usnat", "usca"), id="fullwidth-digit-ignored"),
]


@pytest.mark.parametrize(("sid", "outcome", "sections"), SID_TABLE)
def test_gpp_sid_narrows_sections(sid: str, outcome: GppOutcome, sections: tuple[str, ...]) -> None:
    verdict = gpp_verdict(gpp(usnat=NAT_OUT, usca=CA_NOT), sid)
    assert verdict.outcome is outcome, verdict
    assert verdict.sections == sections


def test_malformed_sid_is_mentioned() -> None:
    assert "gpp_sid ignored" in gpp_verdict(gpp(usnat=NAT_OUT), "x").reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("7", frozenset({7}), id="one"),
        pytest.param("2,6", frozenset({2, 6}), id="comma"),
        pytest.param("2_6", frozenset({2, 6}), id="underscore"),
        pytest.param("-1", frozenset({-1}), id="minus-one"),
        pytest.param(None, None, id="none"),
        pytest.param("2,,6", None, id="empty-item"),
        pytest.param("99999", None, id="too-many-digits"),
        pytest.param("1" * 300, None, id="too-long"),
    ],
)
def test_parse_gpp_sid(text: str | None, expected: frozenset[int] | None) -> None:
    assert parse_gpp_sid(text) == expected


# ---------------------------------------------------------------------------------------------
# Robustness: never raises, never grants consent on garbage.

GRANTS = {Out.NOT_OPTED_OUT}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("DB" + "A" * (1024 * 1024), id="1MB"),
        pytest.param("DBABLA~" + "B" * 9000, id="over-limit"),
        pytest.param("DBABLA~CVVVkkkkkpFY\x00.YA", id="nul"),
        pytest.param("DBABLA~CVVVkkkkkpFY.YA\u2028", id="unicode-separator"),
        pytest.param("\uff24\uff22\uff21\uff22\uff2c\uff21~CVVVkkkkkpFY", id="fullwidth"),
        pytest.param("DBABLA~CVVVkkkkkpFY.YA~", id="trailing-tilde"),
        pytest.param("~~~~", id="only-tildes"),
        pytest.param("DB", id="two-chars"),
        pytest.param("DBABLA~." , id="dot-only"),
    ],
)  # fmt: skip
def test_garbage_never_raises_and_never_grants(text: str) -> None:
    verdict = gpp_verdict(text, None)
    assert verdict.outcome is Out.UNKNOWN, verdict
    assert verdict.reason


def test_wrong_types_do_not_raise() -> None:
    assert gpp_verdict(b"DBAA", None).outcome is Out.ABSENT  # type: ignore[arg-type]
    assert gpp_verdict("DBAA", 7).outcome is Out.NOT_APPLICABLE  # type: ignore[arg-type]


@given(st.text(max_size=400), st.none() | st.text(max_size=20))
def test_verdict_total_on_any_text(text: str, sid: str | None) -> None:
    verdict = gpp_verdict(text, sid)
    assert isinstance(verdict.reason, str)


@given(
    st.from_regex(r"DB[A-Za-z0-9_\-+/=]{2,8}(~[A-Za-z0-9_\-+/=.]{0,16}){1,4}", fullmatch=True),
    st.none() | st.from_regex(r"[0-9,_ -]{0,8}", fullmatch=True),
)
def test_verdict_total_on_gpp_shaped_text(text: str, sid: str | None) -> None:
    verdict = gpp_verdict(text, sid)
    if any(ch in text for ch in "+/="):
        # A standard-alphabet or padded header or section never yields a "did not opt out".
        assert verdict.outcome not in GRANTS or _only_clean_sections_considered(text, sid)


def _only_clean_sections_considered(text: str, sid: str | None) -> bool:
    """True when every character outside the URL-safe alphabet sits in a section that the
    verdict did not consider (TCF, unknown id, or narrowed away by gpp_sid)."""
    decoded = decode_gpp(text)
    wanted = parse_gpp_sid(sid)
    for section_id, raw in zip(decoded.section_ids, text.split("~")[1:], strict=False):
        considered = 6 <= section_id <= 27 and (wanted is None or section_id in wanted)
        if considered and any(ch in raw for ch in "+/="):
            return False
    return not any(ch in text.split("~")[0] for ch in "+/=")


# ---------------------------------------------------------------------------------------------
# The fast path reads only the opt-out bits; it must agree with the full decoder.

ALL_LAYOUTS: list[Layout] = [USNAT_V1, USNAT_V2, *LAYOUTS.values()]
two_bits = st.integers(min_value=0, max_value=3)


@st.composite
def random_sections(draw: st.DrawFn) -> dict[str, str]:
    chosen = draw(
        st.lists(
            st.sampled_from(ALL_LAYOUTS),
            min_size=1,
            max_size=4,
            unique_by=lambda layout: layout.section_id,
        )
    )
    out: dict[str, str] = {}
    for layout in chosen:
        values: dict[str, int | list[int]] = {}
        for name, count in layout.fields:
            if count:
                values[name] = draw(st.lists(two_bits, min_size=count, max_size=count))
            else:
                values[name] = draw(two_bits)
        gpc = draw(st.none() | st.booleans()) if layout.has_gpc else None
        version = 1 if layout is USNAT_V1 else (2 if layout is USNAT_V2 else None)
        out[layout.name] = encode_section(layout.name, values, gpc=gpc, version=version)
    if draw(st.booleans()):
        out["uspv1"] = draw(st.sampled_from(["1YNN", "1YYN", "1---", "1NNY"]))
    return out


def _oracle(text: str) -> GppOutcome:
    """The verdict rules applied to the full decoder's typed output."""
    decoded = decode_gpp(text)
    assert decoded.error is None
    states: list[str] = []
    for section in decoded.sections:
        if isinstance(section, UsPrivacy):
            states.append({"Y": "out", "N": "not", "-": "na"}[section.opt_out_sale])
        elif isinstance(section, UsSection):
            values = [
                v
                for v in (
                    section.sale_opt_out,
                    section.sharing_opt_out,
                    section.targeted_advertising_opt_out,
                )
                if v is not None
            ]
            if 1 in values or section.gpc:
                states.append("out")
            elif 3 in values or section.problems:
                states.append("unk")
            elif 2 in values:
                states.append("not")
            else:
                states.append("na")
        elif isinstance(section, UndecodableSection):
            states.append("unk")
    for state, outcome in (
        ("out", Out.OPTED_OUT),
        ("unk", Out.UNKNOWN),
        ("not", Out.NOT_OPTED_OUT),
    ):
        if state in states:
            return outcome
    return Out.NOT_APPLICABLE


@given(random_sections())
def test_fast_path_agrees_with_full_decoder(sections: dict[str, str]) -> None:
    text, sid = encode_gpp(sections)
    expected = _oracle(text)
    assert _compute(text, None).outcome is expected
    assert gpp_verdict(text, sid).outcome is expected


# ---------------------------------------------------------------------------------------------
# Write-back: the opt-out string we emit must read back as an opt-out.


@pytest.mark.parametrize(
    ("sections", "gpc", "sid"),
    [
        pytest.param(("usnat",), True, "7", id="usnat-gpc"),
        pytest.param(("usnat",), False, "7", id="usnat-no-gpc"),
        pytest.param(("usca",), True, "8", id="usca"),
        pytest.param(("usca", "usnat"), True, "7,8", id="both-sorted-by-id"),
        pytest.param(("usva", "usnat"), False, "7,9", id="state-without-gpc"),
    ],
)
def test_encode_opt_out_gpp_reads_back_as_opt_out(
    sections: tuple[str, ...], gpc: bool, sid: str
) -> None:
    string, gpp_sid = encode_opt_out_gpp(gpc=gpc, sections=sections)
    assert gpp_sid == sid
    verdict = gpp_verdict(string, gpp_sid)
    assert verdict.outcome is Out.OPTED_OUT
    assert verdict.gpc is (gpc and any(s in ("usnat", "usca") for s in sections))
    for section in decode_gpp(string).sections:
        assert isinstance(section, UsSection)
        assert section.sale_opt_out == 1
        assert section.sale_opt_out_notice == 1
        assert section.mspa_covered_transaction == 2
        assert section.sharing_opt_out in (None, 1)
        assert section.targeted_advertising_opt_out in (None, 1)


def test_encode_opt_out_usnat_is_v2_and_stable() -> None:
    string, sid = encode_opt_out_gpp(gpc=True)
    assert (string, sid) == ("DBABLA~CVVVAAAAAACY.YA", "7")
    (section,) = decode_gpp(string).sections
    assert isinstance(section, UsSection)
    assert section.layout == "usnat.v2"
    assert (section.mspa_opt_out_option_mode, section.mspa_service_provider_mode) == (1, 2)
