"""GPP section ids, per-section bit layouts, typed section results and section codecs.

Every US section core is ``Version`` Int(6) followed by 2-bit integers and fixed lists of
2-bit integers (the spec's ``N-Bitfield(2,k)`` has no length prefix; SIGNALS.md TL;DR 6).
Layouts were read from the field lists of ``IABTechLab/iabgpp-es:
modules/cmpapi/src/encoder/segment/Us*CoreSegment.ts`` and cross-checked against the decoded
values asserted in ``IABTechLab/iabgpp-java: iabgpp-encoder/src/test/java/com/iab/gpp/
encoder/section/Us*Test.java``; the comment above each layout names its spec file under
``InteractiveAdvertisingBureau/Global-Privacy-Platform: Sections/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeAlias

from ._bits import BitWriter, InvalidBits, b64_to_int, is_str

# --------------------------------------------------------------------------------------------
# Section ids (Sections/Section Information.md)

SECTION_NAMES: Final[Mapping[int, str]] = {
    1: "tcfeuv1",
    2: "tcfeuv2",
    3: "header",
    4: "signalintegrity",
    5: "tcfcav1",
    6: "uspv1",
    7: "usnat",
    8: "usca",
    9: "usva",
    10: "usco",
    11: "usut",
    12: "usct",
    13: "usfl",
    14: "usmt",
    15: "usor",
    16: "ustx",
    17: "usde",
    18: "usia",
    19: "usne",
    20: "usnh",
    21: "usnj",
    22: "ustn",
    23: "usmn",
    24: "usmd",
    25: "usin",
    26: "usky",
    27: "usri",
}
SECTION_IDS: Final[Mapping[str, int]] = {name: sid for sid, name in SECTION_NAMES.items()}

TCF_SECTION_IDS: Final = frozenset({1, 2, 5})
USP_SECTION_ID: Final = 6
# Sections 24-27 (MD, IN, KY, RI) are in the spec since Dec 2025 but the spec text and
# iabgpp-es disagree on whether the core starts with a section header (SIGNALS.md 3.6), so
# their field offsets cannot be trusted yet: recognised, never decoded, never consent.
UNSETTLED_SECTION_IDS: Final = frozenset({24, 25, 26, 27})
US_SECTION_IDS: Final = frozenset(range(6, 28))

# --------------------------------------------------------------------------------------------
# Field layouts. Each entry is (spec field name, count): count 0 is one Int(2); count k > 0 is
# a fixed list of k Int(2). "Version" Int(6) always comes first and is not listed.

_Field: TypeAlias = tuple[str, int]

_MSPA: Final[tuple[_Field, ...]] = (
    ("MspaCoveredTransaction", 0),
    ("MspaOptOutOptionMode", 0),
    ("MspaServiceProviderMode", 0),
)


def _state(
    notice: str,
    sdp: int,
    kcsdc: int,
    *,
    extra_notice: str | None = None,
    additional: bool = False,
) -> tuple[_Field, ...]:
    """The common state layout: notices, SaleOptOut, TargetedAdvertisingOptOut, lists, MSPA."""
    fields: list[_Field] = [
        (notice, 0),
        ("SaleOptOutNotice", 0),
        ("TargetedAdvertisingOptOutNotice", 0),
    ]
    if extra_notice is not None:
        fields.append((extra_notice, 0))
    fields += [
        ("SaleOptOut", 0),
        ("TargetedAdvertisingOptOut", 0),
        ("SensitiveDataProcessing", sdp),
        ("KnownChildSensitiveDataConsents", kcsdc),
    ]
    if additional:
        fields.append(("AdditionalDataProcessingConsent", 0))
    return (*fields, *_MSPA)


def _usnat(sdp: int, kcsdc: int) -> tuple[_Field, ...]:
    return (
        ("SharingNotice", 0),
        ("SaleOptOutNotice", 0),
        ("SharingOptOutNotice", 0),
        ("TargetedAdvertisingOptOutNotice", 0),
        ("SensitiveDataProcessingOptOutNotice", 0),
        ("SensitiveDataLimitUseNotice", 0),
        ("SaleOptOut", 0),
        ("SharingOptOut", 0),
        ("TargetedAdvertisingOptOut", 0),
        ("SensitiveDataProcessing", sdp),
        ("KnownChildSensitiveDataConsents", kcsdc),
        ("PersonalDataConsents", 0),
        *_MSPA,
    )


@dataclass(frozen=True, slots=True)
class Layout:
    """The bit layout of one US section core (one version of it)."""

    key: str
    section_id: int
    name: str
    fields: tuple[_Field, ...]
    has_gpc: bool
    # Derived once: both are read on every decode.
    bits: int = field(init=False)
    field_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bits", 6 + sum(2 * (count or 1) for _, count in self.fields))
        object.__setattr__(self, "field_names", ("Version", *(name for name, _ in self.fields)))


# US National, v1 (Dec 2022) and v2 (Oct 2024): Sections/US-National/IAB Privacy's
# Multi-State Privacy Agreement (MSPA) US National Technical Specification.md.
USNAT_V1: Final = Layout("usnat.v1", 7, "usnat", _usnat(12, 2), True)  # 60 bits
USNAT_V2: Final = Layout("usnat.v2", 7, "usnat", _usnat(16, 3), True)  # 70 bits

LAYOUTS: Final[Mapping[int, Layout]] = {
    # Sections/US-States/CA/GPP Extension: California Privacy Technical Specification.md
    8: Layout(
        "usca",
        8,
        "usca",
        (
            ("SaleOptOutNotice", 0),
            ("SharingOptOutNotice", 0),
            ("SensitiveDataLimitUseNotice", 0),
            ("SaleOptOut", 0),
            ("SharingOptOut", 0),
            ("SensitiveDataProcessing", 9),
            ("KnownChildSensitiveDataConsents", 2),
            ("PersonalDataConsents", 0),
            *_MSPA,
        ),
        True,
    ),
    # Sections/US-States/VA (no GPC sub-section)
    9: Layout("usva", 9, "usva", _state("SharingNotice", 8, 0), False),
    # Sections/US-States/CO
    10: Layout("usco", 10, "usco", _state("SharingNotice", 7, 0), True),
    # Sections/US-States/UT (adds SensitiveDataProcessingOptOutNotice; no GPC sub-section)
    11: Layout(
        "usut",
        11,
        "usut",
        _state("SharingNotice", 8, 0, extra_notice="SensitiveDataProcessingOptOutNotice"),
        False,
    ),
    # Sections/US-States/CT
    12: Layout("usct", 12, "usct", _state("SharingNotice", 8, 3), True),
    # Sections/US-States/FL (no GPC sub-section)
    13: Layout("usfl", 13, "usfl", _state("ProcessingNotice", 8, 3, additional=True), False),
    # Sections/US-States/MT
    14: Layout("usmt", 14, "usmt", _state("SharingNotice", 8, 3, additional=True), True),
    # Sections/US-States/OR
    15: Layout("usor", 15, "usor", _state("ProcessingNotice", 11, 3, additional=True), True),
    # Sections/US-States/TX
    16: Layout("ustx", 16, "ustx", _state("ProcessingNotice", 8, 0, additional=True), True),
    # Sections/US-States/DE
    17: Layout("usde", 17, "usde", _state("ProcessingNotice", 9, 5, additional=True), True),
    # Sections/US-States/IA (adds SensitiveDataOptOutNotice)
    18: Layout(
        "usia",
        18,
        "usia",
        _state("ProcessingNotice", 8, 0, extra_notice="SensitiveDataOptOutNotice"),
        True,
    ),
    # Sections/US-States/NE
    19: Layout("usne", 19, "usne", _state("ProcessingNotice", 8, 0, additional=True), True),
    # Sections/US-States/NH
    20: Layout("usnh", 20, "usnh", _state("ProcessingNotice", 8, 3, additional=True), True),
    # Sections/US-States/NJ
    21: Layout("usnj", 21, "usnj", _state("ProcessingNotice", 10, 5, additional=True), True),
    # Sections/US-States/TN
    22: Layout("ustn", 22, "ustn", _state("ProcessingNotice", 8, 0, additional=True), True),
    # Sections/US-States/MN
    23: Layout("usmn", 23, "usmn", _state("ProcessingNotice", 8, 0, additional=True), True),
}

OPT_OUT_FIELDS: Final = ("SaleOptOut", "SharingOptOut", "TargetedAdvertisingOptOut")

# Defined versions per section; anything else is decoded but treated as undefined.
_KNOWN_VERSIONS: Final[Mapping[int, frozenset[int]]] = {7: frozenset({1, 2})}
_DEFAULT_VERSIONS: Final = frozenset({1})

# How many bits past the layout (plus base64 padding) we tolerate before calling a segment
# malformed: TCF-style 24-bit padding is the most generous padding in use.
_MAX_EXCESS_BITS: Final = 24


def known_versions(section_id: int) -> frozenset[int]:
    return _KNOWN_VERSIONS.get(section_id, _DEFAULT_VERSIONS)


def layout_for(section_id: int, nbits: int) -> Layout:
    """Pick the layout for a decoded core of ``nbits`` bits.

    usnat is chosen by bit length, not by ``Version``, as iabgpp-es and iabgpp-java do: 60 or
    66 bits (v1 with 6-bit or compressed padding) is v1, anything longer is v2. This also reads
    iabgpp-java 3.x strings that say ``Version=1`` but carry the v2 length.
    """
    if section_id == 7:
        return USNAT_V1 if nbits < USNAT_V2.bits else USNAT_V2
    return LAYOUTS[section_id]


# Precomputed (spec name, count, shift) per layout, with shifts relative to the layout's own
# bit length, so a core is decoded with one right shift to drop padding and then masks.
_Plan: TypeAlias = tuple[tuple[str, int, int], ...]


def _plan(layout: Layout) -> _Plan:
    plan: list[tuple[str, int, int]] = []
    pos = 6
    total = layout.bits
    for name, count in layout.fields:
        width = 2 * (count or 1)
        plan.append((name, count, total - pos - width))
        pos += width
    return tuple(plan)


_PLANS: Final[dict[str, _Plan]] = {
    layout.key: _plan(layout) for layout in (USNAT_V1, USNAT_V2, *LAYOUTS.values())
}

FieldValue: TypeAlias = int | tuple[int, ...]


def parse_core(layout: Layout, value: int, nbits: int) -> dict[str, FieldValue]:
    """Slice every field of ``layout`` out of a decoded core (spec names -> values)."""
    total = layout.bits
    if nbits < total:
        raise InvalidBits(f"truncated: {nbits} bits, {layout.name} needs {total}")
    if nbits - total >= _MAX_EXCESS_BITS:
        raise InvalidBits(f"too long: {nbits} bits, {layout.name} needs {total}")
    core = value >> (nbits - total)
    out: dict[str, FieldValue] = {"Version": core >> (total - 6)}
    for name, count, shift in _PLANS[layout.key]:
        if count:
            chunk = core >> shift
            out[name] = tuple((chunk >> (2 * (count - 1 - i))) & 3 for i in range(count))
        else:
            out[name] = (core >> shift) & 3
    return out


def parse_gpc(text: str) -> bool | None:
    """Decode a sub-section; ``True``/``False`` for a GPC sub-section, ``None`` for another type.

    The GPC sub-section is ``SubsectionType`` Int(2) = 1 then ``Gpc`` Boolean, 1 = true (the
    core spec's "0=true" is an erratum, SIGNALS.md TL;DR 4). One character (``Q``/``Y``) is
    enough to hold its 3 bits, and it occurs in the wild.
    """
    value, nbits = b64_to_int(text)
    if nbits - 3 >= _MAX_EXCESS_BITS:
        raise InvalidBits("sub-section too long")
    subsection_type = value >> (nbits - 2)
    if subsection_type != 1:
        return None
    return bool((value >> (nbits - 3)) & 1)


# --------------------------------------------------------------------------------------------
# Typed results

_SNAKE: Final[Mapping[str, str]] = {
    "Version": "version",
    "SharingNotice": "sharing_notice",
    "ProcessingNotice": "processing_notice",
    "SaleOptOutNotice": "sale_opt_out_notice",
    "SharingOptOutNotice": "sharing_opt_out_notice",
    "TargetedAdvertisingOptOutNotice": "targeted_advertising_opt_out_notice",
    "SensitiveDataProcessingOptOutNotice": "sensitive_data_processing_opt_out_notice",
    "SensitiveDataOptOutNotice": "sensitive_data_opt_out_notice",
    "SensitiveDataLimitUseNotice": "sensitive_data_limit_use_notice",
    "SaleOptOut": "sale_opt_out",
    "SharingOptOut": "sharing_opt_out",
    "TargetedAdvertisingOptOut": "targeted_advertising_opt_out",
    "SensitiveDataProcessing": "sensitive_data_processing",
    "KnownChildSensitiveDataConsents": "known_child_sensitive_data_consents",
    "PersonalDataConsents": "personal_data_consents",
    "AdditionalDataProcessingConsent": "additional_data_processing_consent",
    "MspaCoveredTransaction": "mspa_covered_transaction",
    "MspaOptOutOptionMode": "mspa_opt_out_option_mode",
    "MspaServiceProviderMode": "mspa_service_provider_mode",
}
SPEC_TO_ATTRIBUTE: Final = _SNAKE
"""Spec field name -> attribute name on :class:`UsSection`."""


@dataclass(frozen=True, slots=True)
class UsSection:
    """A decoded US section core (ids 7-23) and its optional GPC sub-section.

    Attributes are the spec fields in snake_case (see :data:`SPEC_TO_ATTRIBUTE`); a field the
    section does not define is ``None``. 2-bit values: 0 = not applicable, 1 = opted out /
    notice provided / yes / no consent, 2 = did not opt out / not provided / no / consent, 3 =
    undefined. ``gpc`` is ``None`` when no GPC sub-section was sent. ``problems`` lists issues
    that make the section unreliable (e.g. a malformed GPC sub-section); ``notes`` are
    informational (e.g. ``Version=1`` carrying the v2 layout).
    """

    section_id: int
    name: str
    layout: str
    version: int
    sale_opt_out: int
    sale_opt_out_notice: int
    sensitive_data_processing: tuple[int, ...]
    known_child_sensitive_data_consents: int | tuple[int, ...]
    mspa_covered_transaction: int
    mspa_opt_out_option_mode: int
    mspa_service_provider_mode: int
    sharing_opt_out: int | None = None
    targeted_advertising_opt_out: int | None = None
    sharing_notice: int | None = None
    processing_notice: int | None = None
    sharing_opt_out_notice: int | None = None
    targeted_advertising_opt_out_notice: int | None = None
    sensitive_data_processing_opt_out_notice: int | None = None
    sensitive_data_opt_out_notice: int | None = None
    sensitive_data_limit_use_notice: int | None = None
    personal_data_consents: int | None = None
    additional_data_processing_consent: int | None = None
    gpc: bool | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def spec_fields(self) -> dict[str, FieldValue]:
        """The core fields in wire order, keyed by spec name."""
        layout = _LAYOUT_BY_KEY[self.layout]
        return {spec: getattr(self, _SNAKE[spec]) for spec in layout.field_names}


_LAYOUT_BY_KEY: Final[Mapping[str, Layout]] = {
    layout.key: layout for layout in (USNAT_V1, USNAT_V2, *LAYOUTS.values())
}


@dataclass(frozen=True, slots=True)
class UsPrivacy:
    """A US Privacy (CCPA) string, as the ``uspv1`` section or the ``usprivacy`` cookie.

    ``version``, ``notice``, ``opt_out_sale`` and ``lspa_covered`` are the four characters
    (spec names ``Version``, ``Notice``, ``OptOutSale``, ``LspaCovered`` as in iabgpp-es
    ``UspV1Field``), upper-cased. Only ``opt_out_sale == "Y"`` means the user opted out.
    """

    raw: str
    version: str
    notice: str
    opt_out_sale: str
    lspa_covered: str
    section_id: int = USP_SECTION_ID
    name: str = "uspv1"


@dataclass(frozen=True, slots=True)
class UndecodableSection:
    """A section that is present but could not be decoded; ``reason`` says why."""

    section_id: int
    name: str
    raw: str
    reason: str


@dataclass(frozen=True, slots=True)
class SkippedSection:
    """A section this package deliberately does not decode (TCF, unknown or reserved ids)."""

    section_id: int
    name: str
    raw: str
    reason: str


GppSection: TypeAlias = UsSection | UsPrivacy | UndecodableSection | SkippedSection


# --------------------------------------------------------------------------------------------
# Decoding


def decode_us_privacy(text: str) -> UsPrivacy | UndecodableSection:
    """Decode a 4-character US Privacy string; never raises.

    Accepts upper and lower case (as the IAB CCPA reference code does) and any leading digit
    (as the GPP libraries' ``uspv1`` decoders do); the verdict treats versions other than
    ``1`` as undefined.
    """
    if not is_str(text):
        return UndecodableSection(USP_SECTION_ID, "uspv1", "", "not a string")
    if len(text) != 4:
        return UndecodableSection(
            USP_SECTION_ID,
            "uspv1",
            text[:64],
            f"US Privacy string must be 4 characters, got {len(text)}",
        )
    upper = text.upper()
    if not ("0" <= upper[0] <= "9") or any(ch not in "YN-" for ch in upper[1:]):
        return UndecodableSection(USP_SECTION_ID, "uspv1", text, "malformed US Privacy string")
    return UsPrivacy(text, upper[0], upper[1], upper[2], upper[3])


def decode_section(section_id: int, raw: str) -> GppSection:
    """Decode one ``~``-separated section given its id from the header; never raises."""
    name = SECTION_NAMES.get(section_id, f"unknown{section_id}")
    if section_id == USP_SECTION_ID:
        return decode_us_privacy(raw)
    if section_id in TCF_SECTION_IDS:
        return SkippedSection(section_id, name, raw, "TCF section is not decoded")
    if section_id in UNSETTLED_SECTION_IDS:
        return UndecodableSection(
            section_id, name, raw, f"{name} (id {section_id}) layout is not settled; not decoded"
        )
    if section_id not in LAYOUTS and section_id != 7:
        return SkippedSection(section_id, name, raw, "section id is not a US privacy section")
    try:
        return _decode_us_section(section_id, name, raw)
    except InvalidBits as exc:
        return UndecodableSection(section_id, name, raw, f"{name}: {exc}")


def _decode_us_section(section_id: int, name: str, raw: str) -> UsSection:
    core_text, *subsections = raw.split(".")
    value, nbits = b64_to_int(core_text)
    layout = layout_for(section_id, nbits)
    fields = parse_core(layout, value, nbits)
    problems: list[str] = []
    notes: list[str] = []
    version = fields["Version"]
    assert isinstance(version, int)
    if version not in known_versions(section_id):
        problems.append(f"{name} Version={version} is not defined")
    elif section_id == 7 and layout is USNAT_V2 and version == 1:
        notes.append("usnat Version=1 with the v2 length (iabgpp-java 3.x); read as v2")
    elif section_id == 7 and layout is USNAT_V1 and version == 2:
        notes.append("usnat Version=2 with the v1 length; read as v1")
    gpc: bool | None = None
    for index, sub in enumerate(subsections, start=1):
        if not layout.has_gpc:
            notes.append(f"{name} has no sub-sections; sub-section {index} ignored")
            continue
        try:
            parsed = parse_gpc(sub)
        except InvalidBits as exc:
            problems.append(f"{name} sub-section {index}: {exc}")
            continue
        if parsed is None:
            notes.append(f"{name} sub-section {index} has an unknown type; ignored")
        else:
            gpc = parsed or bool(gpc)
    kwargs = {_SNAKE[key]: val for key, val in fields.items()}
    return UsSection(
        section_id=section_id,
        name=name,
        layout=layout.key,
        gpc=gpc,
        problems=tuple(problems),
        notes=tuple(notes),
        **kwargs,  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------------------------
# Encoding


def encode_section(
    name: str,
    fields: Mapping[str, int | Sequence[int]] | None = None,
    *,
    gpc: bool | None = False,
    version: int | None = None,
) -> str:
    """Encode a US section (``usnat``, ``usca`` or any decodable state section).

    ``fields`` maps spec names (e.g. ``"SaleOptOut"``) to values; unspecified fields take the
    reference encoders' defaults (0, and ``MspaCoveredTransaction`` = 1). ``gpc=None`` omits
    the GPC sub-section; a bool appends it (sections without one reject a bool other than the
    default). ``version`` selects the usnat layout (2 by default; 1 gives the 60-bit v1 core).
    Raises :class:`ValueError` on unknown names or out-of-range values.
    """
    section_id = SECTION_IDS.get(name)
    if section_id is None or (section_id not in LAYOUTS and section_id != 7):
        raise ValueError(f"cannot encode section {name!r}")
    if section_id == 7:
        chosen = version if version is not None else 2
        if chosen not in (1, 2):
            raise ValueError("usnat version must be 1 or 2")
        layout = USNAT_V1 if chosen == 1 else USNAT_V2
    else:
        chosen = version if version is not None else 1
        if chosen != 1:
            raise ValueError(f"{name} version must be 1")
        layout = LAYOUTS[section_id]
    values: dict[str, int | Sequence[int]] = dict(fields or {})
    unknown = set(values) - set(layout.field_names[1:])
    if unknown:
        raise ValueError(f"{name} has no field(s) {sorted(unknown)}")
    writer = BitWriter()
    writer.write(chosen, 6)
    for field_name, count in layout.fields:
        default: int | Sequence[int] = 1 if field_name == "MspaCoveredTransaction" else 0
        given = values.get(field_name, default if not count else (0,) * count)
        if count:
            if isinstance(given, int) or len(given) != count:
                raise ValueError(f"{name} {field_name} needs {count} values")
            for item in given:
                writer.write(_two_bits(name, field_name, item), 2)
        else:
            if not isinstance(given, int):
                raise ValueError(f"{name} {field_name} needs one integer")
            writer.write(_two_bits(name, field_name, given), 2)
    core = writer.to_b64()
    if gpc is None:
        return core
    if not layout.has_gpc:
        if gpc:
            raise ValueError(f"{name} has no GPC sub-section")
        return core
    sub = BitWriter()
    sub.write(1, 2)  # SubsectionType 1 = GPC
    sub.write(1 if gpc else 0, 1)
    return f"{core}.{sub.to_b64()}"


def _two_bits(name: str, field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3:
        raise ValueError(f"{name} {field}={value!r} is not a 2-bit integer")
    return value
