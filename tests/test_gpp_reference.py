"""Published GPP strings decoded to the values their publishers assert.

Sources (each case names one):
* SPEC   = InteractiveAdvertisingBureau/Global-Privacy-Platform:
           Core/Consent String Specification.md (header examples, "Example 1-3" full strings)
* ES     = IABTechLab/iabgpp-es: modules/cmpapi/test/encoder/section/<Name>.test.ts
           (only its encode assertions are used: its decode tests call ``expect(a, b)``, which
           asserts nothing, and one of them lists a wrong SaleOptOut for "BVQqAAAACg")
* ESHDR  = IABTechLab/iabgpp-es: modules/cmpapi/test/encoder/datatype/encoder/
           FibonacciIntegerRangeEncoder.test.ts
* JAVA   = IABTechLab/iabgpp-java: iabgpp-encoder/src/test/java/com/iab/gpp/encoder/section/
           <Name>Test.java (decode assertions with assertEquals)
* JAVA3  = the same UsNatTest.java as it stood in iabgpp-java 3.x, which encoded
           ``Version=1`` with the v2 (16/3) lists: "BVVVkkkkkpFY.YA"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import pytest

from optout_mw.gpp import (
    SkippedSection,
    UsPrivacy,
    UsSection,
    decode_gpp,
    decode_header,
    decode_section,
    encode_header,
    encode_section,
    encode_usca,
    encode_usnat,
)

# The values every "encode2/decode1" test of the reference suites uses: notices 1, opt-outs 1,
# lists cycling 2,1,0, MspaCoveredTransaction 1, MspaOptOutOptionMode 1,
# MspaServiceProviderMode 2, Gpc true.
_Values: TypeAlias = dict[str, int | list[int]]
_COMMON: _Values = {"SaleOptOutNotice": 1, "SaleOptOut": 1, "MspaCoveredTransaction": 1}
_MODES: _Values = {"MspaOptOutOptionMode": 1, "MspaServiceProviderMode": 2}


def _state(notice: str, sdp: list[int], kcsdc: int | list[int], **extra: int) -> _Values:
    return {
        notice: 1,
        **_COMMON,
        "TargetedAdvertisingOptOutNotice": 1,
        "TargetedAdvertisingOptOut": 1,
        "SensitiveDataProcessing": sdp,
        "KnownChildSensitiveDataConsents": kcsdc,
        **extra,
        **_MODES,
    }


_SDP8 = [2, 1, 0, 2, 1, 0, 2, 1]
USNAT_V2_VALUES: _Values = {
    "SharingNotice": 1,
    "SaleOptOutNotice": 1,
    "SharingOptOutNotice": 1,
    "TargetedAdvertisingOptOutNotice": 1,
    "SensitiveDataProcessingOptOutNotice": 1,
    "SensitiveDataLimitUseNotice": 1,
    "SaleOptOut": 1,
    "SharingOptOut": 1,
    "TargetedAdvertisingOptOut": 1,
    "SensitiveDataProcessing": [2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2],
    "KnownChildSensitiveDataConsents": [2, 1, 0],
    "PersonalDataConsents": 1,
    **{"MspaCoveredTransaction": 1},
    **_MODES,
}
USNAT_V1_VALUES: _Values = {
    **USNAT_V2_VALUES,
    "SensitiveDataProcessing": [2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0],
    "KnownChildSensitiveDataConsents": [2, 1],
}
USCA_VALUES: _Values = {
    "SaleOptOutNotice": 1,
    "SharingOptOutNotice": 1,
    "SensitiveDataLimitUseNotice": 1,
    "SaleOptOut": 1,
    "SharingOptOut": 1,
    "SensitiveDataProcessing": [2, 1, 0, 2, 1, 0, 2, 1, 0],
    "KnownChildSensitiveDataConsents": [2, 1],
    "PersonalDataConsents": 1,
    "MspaCoveredTransaction": 1,
    **_MODES,
}

# (section name, encoded section, expected spec fields, expected Gpc, source)
SECTION_CASES = [
    pytest.param("usnat", "CVVVkkkkkpFY.YA", {"Version": 2, **USNAT_V2_VALUES}, True,
                 id="usnat-v2-JAVA-UsNatTest"),
    pytest.param("usnat", "CVVVkkkkkpFY", {"Version": 2, **USNAT_V2_VALUES}, None,
                 id="usnat-v2-no-gpc-JAVA-UsNatTest"),
    pytest.param("usnat", "BVVVkkkklWA.YA", {"Version": 1, **USNAT_V1_VALUES}, True,
                 id="usnat-v1-compressed-JAVA-UsNatTest-v1"),
    pytest.param("usnat", "BVVVkkkklWA", {"Version": 1, **USNAT_V1_VALUES}, None,
                 id="usnat-v1-no-gpc-JAVA-UsNatTest-v1"),
    pytest.param("usnat", "BVVVkkkkkpFY.YA", {"Version": 1, **USNAT_V2_VALUES}, True,
                 id="usnat-version1-with-v2-length-JAVA3"),
    pytest.param("usnat", "BAAAVVVVUQA.QA",
                 {"Version": 1, "SensitiveDataProcessing": [1] * 12,
                  "KnownChildSensitiveDataConsents": [1, 1]}, False,
                 id="usnat-v1-lists-JAVA-UsNatTest-testDecodeUsNatV1"),
    pytest.param("usnat", "CAAAVVVVAFBA.QA",
                 {"Version": 2, "SensitiveDataProcessing": [1] * 12 + [0] * 4,
                  "KnownChildSensitiveDataConsents": [1, 1, 0]}, False,
                 id="usnat-v2-with-v1-values-JAVA-UsNatTest"),
    pytest.param("usnat", "CAAAVVVVVVRA.QA",
                 {"Version": 2, "SensitiveDataProcessing": [1] * 16,
                  "KnownChildSensitiveDataConsents": [1, 1, 1]}, False,
                 id="usnat-v2-with-v2-values-JAVA-UsNatTest"),
    pytest.param("usca", "BVWSSSVY.YA", {"Version": 1, **USCA_VALUES}, True,
                 id="usca-JAVA-UsCaTest"),
    pytest.param("usva", "BVWSSVY", {"Version": 1, **_state("SharingNotice", _SDP8, 1)}, None,
                 id="usva-JAVA-UsVaTest"),
    pytest.param("usco", "BVWSSVg.YA",
                 {"Version": 1, **_state("SharingNotice", [2, 1, 0, 2, 1, 0, 2], 1)}, True,
                 id="usco-JAVA-UsCoTest"),
    pytest.param("usut", "BVVkklWA",
                 {"Version": 1, **_state("SharingNotice", _SDP8, 1,
                                         SensitiveDataProcessingOptOutNotice=1)}, None,
                 id="usut-JAVA-UsUtTest"),
    pytest.param("usct", "BVWSSZFg.YA",
                 {"Version": 1, **_state("SharingNotice", _SDP8, [2, 1, 0])}, True,
                 id="usct-JAVA-UsCtTest"),
    pytest.param("usfl", "BVWSSZlY",
                 {"Version": 1, **_state("ProcessingNotice", _SDP8, [2, 1, 2],
                                         AdditionalDataProcessingConsent=1)}, None,
                 id="usfl-JAVA-UsFlTest"),
    pytest.param("usmt", "BVWSSZFY.YA",
                 {"Version": 1, **_state("SharingNotice", _SDP8, [2, 1, 0],
                                         AdditionalDataProcessingConsent=1)}, True,
                 id="usmt-JAVA-UsMtTest"),
    pytest.param("usor", "BVWSSRpFYA.YA",
                 {"Version": 1, **_state("ProcessingNotice", [2, 1, 0, 2, 1, 0, 2, 1, 0, 1, 2],
                                         [2, 1, 0], AdditionalDataProcessingConsent=1)}, True,
                 id="usor-JAVA-UsOrTest"),
    pytest.param("ustx", "BVWSSVWA.YA",
                 {"Version": 1, **_state("ProcessingNotice", _SDP8, 1,
                                         AdditionalDataProcessingConsent=1)}, True,
                 id="ustx-JAVA-UsTxTest"),
    pytest.param("usde", "BVWSSSSVYA.YA",
                 {"Version": 1, **_state("ProcessingNotice", [2, 1, 0, 2, 1, 0, 2, 1, 0],
                                         [2, 1, 0, 2, 1], AdditionalDataProcessingConsent=1)},
                 True, id="usde-JAVA-UsDeTest"),
    pytest.param("usia", "BVVkklWA.YA",
                 {"Version": 1, **_state("ProcessingNotice", _SDP8, 1,
                                         SensitiveDataOptOutNotice=1)}, True,
                 id="usia-JAVA-UsIaTest"),
    pytest.param("usne", "BVWSSVWA.YA",
                 {"Version": 1, **_state("ProcessingNotice", _SDP8, 1,
                                         AdditionalDataProcessingConsent=1)}, True,
                 id="usne-JAVA-UsNeTest"),
    pytest.param("usnh", "BVWSSZFY.YA",
                 {"Version": 1, **_state("ProcessingNotice", _SDP8, [2, 1, 0],
                                         AdditionalDataProcessingConsent=1)}, True,
                 id="usnh-JAVA-UsNhTest"),
    pytest.param("usnj", "BVWSSRklWA.YA",
                 {"Version": 1, **_state("ProcessingNotice", [2, 1, 0, 2, 1, 0, 2, 1, 0, 1],
                                         [2, 1, 0, 2, 1], AdditionalDataProcessingConsent=1)},
                 True, id="usnj-JAVA-UsNjTest"),
    pytest.param("ustn", "BVWSSVWA.YA",
                 {"Version": 1, **_state("ProcessingNotice", _SDP8, 1,
                                         AdditionalDataProcessingConsent=1)}, True,
                 id="ustn-JAVA-UsTnTest"),
    pytest.param("usmn", "BVWSSVWA.YA",
                 {"Version": 1, **_state("ProcessingNotice", _SDP8, 1,
                                         AdditionalDataProcessingConsent=1)}, True,
                 id="usmn-JAVA-UsMnTest"),
]  # fmt: skip

_IDS = {"usnat": 7, "usca": 8, "usva": 9, "usco": 10, "usut": 11, "usct": 12, "usfl": 13,
        "usmt": 14, "usor": 15, "ustx": 16, "usde": 17, "usia": 18, "usne": 19, "usnh": 20,
        "usnj": 21, "ustn": 22, "usmn": 23}  # fmt: skip


def _normalise(values: _Values) -> dict[str, int | tuple[int, ...]]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


@pytest.mark.parametrize(("name", "encoded", "expected", "gpc"), SECTION_CASES)
def test_reference_section_decodes_to_published_values(
    name: str, encoded: str, expected: _Values, gpc: bool | None
) -> None:
    section = decode_section(_IDS[name], encoded)
    assert isinstance(section, UsSection), section
    assert section.name == name
    fields = section.spec_fields()
    for key, value in _normalise(expected).items():
        assert fields[key] == value, key
    assert section.gpc is gpc
    assert section.problems == ()


def test_iabgpp_java3_version1_with_v2_length_is_read_with_v2_lists() -> None:
    section = decode_section(7, "BVVVkkkkkpFY.YA")
    assert isinstance(section, UsSection)
    assert section.layout == "usnat.v2"
    assert section.version == 1
    assert len(section.sensitive_data_processing) == 16
    assert any("v2 length" in note for note in section.notes)


# Encoders must reproduce the reference encoders' output exactly.
@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        pytest.param(lambda: encode_usnat(), "CAAAAAAAAABA.QA", id="usnat-default-ES-UsNat"),
        pytest.param(lambda: encode_usnat(gpc=None, version=1), "BAAAAAAAAQA",
                     id="usnat-v1-default-no-gpc-JAVA-UsNatTest-v1"),
        pytest.param(lambda: encode_usnat(USNAT_V2_VALUES, gpc=True), "CVVVkkkkkpFY.YA",
                     id="usnat-v2-all-fields-ES-UsNat"),
        pytest.param(lambda: encode_usnat(USNAT_V1_VALUES, gpc=True, version=1),
                     "BVVVkkkklWA.YA", id="usnat-v1-all-fields-JAVA-UsNatTest-v1"),
        pytest.param(lambda: encode_usca(), "BAAAAABA.QA", id="usca-default-ES-UsCa"),
        pytest.param(lambda: encode_usca(gpc=None), "BAAAAABA", id="usca-no-gpc-ES-UsCa"),
        pytest.param(lambda: encode_usca(USCA_VALUES, gpc=True), "BVWSSSVY.YA",
                     id="usca-all-fields-ES-UsCa"),
        pytest.param(lambda: encode_section("usnj"), "BAAAAAAAQA.QA", id="usnj-default-JAVA"),
        pytest.param(lambda: encode_section("ustn"), "BAAAAAQA.QA", id="ustn-default-JAVA"),
        pytest.param(lambda: encode_section("usde", gpc=None), "BAAAAAABAA",
                     id="usde-default-no-gpc-JAVA"),
        pytest.param(lambda: encode_section("usco", gpc=None), "BAAAAEA",
                     id="usco-default-no-gpc-JAVA"),
    ],
)  # fmt: skip
def test_encoder_matches_reference_output(encoded: Callable[[], str], expected: str) -> None:
    assert encoded() == expected


@pytest.mark.parametrize(
    ("header", "ids"),
    [
        pytest.param("DBABM", (2,), id="SPEC-example1-6bit-padding"),
        pytest.param("DBABMA", (2,), id="JAVA-HeaderV1Test-compressed"),
        pytest.param("DBACNY", (2, 6), id="SPEC-example2-6bit-padding"),
        pytest.param("DBACNYA", (2, 6), id="JAVA-HeaderV1Test-compressed-2-6"),
        pytest.param("DBABjw", (5, 6), id="SPEC-example3-group"),
        pytest.param("DBAA", (), id="JAVA-HeaderV1Test-empty"),
        pytest.param("DBABTA", (6,), id="uspv1-only"),
        pytest.param("DBABLA", (7,), id="usnat-only"),
        pytest.param("DBABBg", (8,), id="usca-only"),
        pytest.param("DBABzw", (6, 7), id="group-6-7"),
    ],
)
def test_header_examples(header: str, ids: tuple[int, ...]) -> None:
    assert decode_header(header, max_ids=10) == ids


@pytest.mark.parametrize(
    ("ids", "bits"),
    [
        pytest.param([], "000000000000", id="empty"),
        pytest.param([2], "0000000000010011", id="single"),
        pytest.param([2, 3, 4, 5, 6], "00000000000110111011", id="one-group"),
        pytest.param([2, 5, 6, 7], "000000000010001110011011", id="single-then-group"),
        pytest.param([3, 5, 6, 7, 8], "0000000000100001110110011", id="two-groups"),
        pytest.param([2, 5, 6, 7, 8, 9, 10, 11, 12], "00000000001000111001101011", id="long"),
    ],
)
def test_fibonacci_range_vectors_from_iabgpp_es(ids: list[int], bits: str) -> None:
    """ESHDR vectors: the range part of the header, after Type and Version (12 bits)."""
    header_bits = "000011" + "000001" + bits
    value = int(header_bits, 2)
    padded = len(header_bits) + (-len(header_bits) % 6)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    value <<= padded - len(header_bits)
    text = "".join(alphabet[(value >> s) & 63] for s in range(padded - 6, -1, -6))
    assert decode_header(text, max_ids=20) == tuple(ids)
    assert decode_header(encode_header(ids), max_ids=20) == tuple(ids)


FULL_STRINGS = [
    # SPEC Example 2: TCF EU v2 + US Privacy, header with 6-bit padding.
    pytest.param("DBACNY~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN", (2, 6),
                 id="SPEC-example2"),
    # SPEC Example 1 as the libraries encode it (compressed header).
    pytest.param("DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", (2,), id="SPEC-example1"),
    # SPEC Example 3: TCF CA slot (holding an EU string) + US Privacy, grouped header.
    pytest.param("DBABjw~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN", (5, 6),
                 id="SPEC-example3"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "ids"), FULL_STRINGS)
def test_spec_full_strings(text: str, ids: tuple[int, ...]) -> None:
    decoded = decode_gpp(text)
    assert decoded.error is None
    assert decoded.section_ids == ids
    tcf, *rest = decoded.sections
    assert isinstance(tcf, SkippedSection)
    if rest:
        (usp,) = rest
        assert isinstance(usp, UsPrivacy)
        assert (usp.version, usp.notice, usp.opt_out_sale, usp.lspa_covered) == ("1", "Y", "N", "N")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1YNN", ("1", "Y", "N", "N"), id="SPEC-USP-1YNN"),
        pytest.param("1NYN", ("1", "N", "Y", "N"), id="SPEC-USP-1NYN"),
        pytest.param("1---", ("1", "-", "-", "-"), id="SPEC-USP-not-applicable"),
        # iabgpp-es modules/cmpapi/test/encoder/section/UspV1.test.ts accepts a "2" version.
        pytest.param("2YNY", ("2", "Y", "N", "Y"), id="ES-UspV1-version-2"),
        pytest.param("1yyn", ("1", "Y", "Y", "N"), id="lower-case-accepted"),
    ],
)
def test_uspv1_section(text: str, expected: tuple[str, str, str, str]) -> None:
    section = decode_section(6, text)
    assert isinstance(section, UsPrivacy)
    assert (section.version, section.notice, section.opt_out_sale, section.lspa_covered) == expected
