"""Encoders: whole GPP strings, ``usnat``/``usca`` shortcuts, and the opt-out write-back string.

Output uses the reference libraries' "compressed" base64 padding, so our strings are the same
characters iabgpp-es / iabgpp-java produce for the same values (checked in the tests against
strings from their test suites).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .header import encode_header
from .sections import LAYOUTS, SECTION_IDS, USNAT_V2, encode_section


def encode_usnat(
    fields: Mapping[str, int | Sequence[int]] | None = None,
    *,
    gpc: bool | None = False,
    version: int = 2,
) -> str:
    """Encode a ``usnat`` section (v2 layout unless ``version=1``) with its GPC sub-section.

    ``fields`` uses spec names, e.g. ``{"SaleOptOut": 1}``; ``gpc=None`` omits the sub-section.
    """
    return encode_section("usnat", fields, gpc=gpc, version=version)


def encode_usca(
    fields: Mapping[str, int | Sequence[int]] | None = None, *, gpc: bool | None = False
) -> str:
    """Encode a ``usca`` section with its GPC sub-section (``gpc=None`` omits it)."""
    return encode_section("usca", fields, gpc=gpc)


def encode_gpp(sections: Mapping[str, str]) -> tuple[str, str]:
    """Assemble a GPP string from already-encoded sections keyed by name (``"usnat"``, ...).

    Returns ``(gpp_string, gpp_sid)``; sections are ordered by id as the header requires and
    ``gpp_sid`` is the comma-separated id list used by the ``gpp_sid`` URL parameter.
    """
    ids: list[tuple[int, str]] = []
    for name, encoded in sections.items():
        if name not in SECTION_IDS:
            raise ValueError(f"unknown section {name!r}")
        if not encoded or "~" in encoded:
            raise ValueError(f"section {name!r} is empty or contains '~'")
        ids.append((SECTION_IDS[name], encoded))
    ids.sort()
    header = encode_header(section_id for section_id, _ in ids)
    gpp = "~".join([header, *(encoded for _, encoded in ids)])
    return gpp, ",".join(str(section_id) for section_id, _ in ids)


def encode_opt_out_gpp(
    *,
    gpc: bool,
    sections: Iterable[str] = ("usnat",),
    mspa_covered_transaction: int = 2,
    mspa_opt_out_option_mode: int = 1,
    mspa_service_provider_mode: int = 2,
) -> tuple[str, str]:
    """A GPP string for a visitor who opted out of sale, sharing and targeted advertising.

    Each requested section gets every notice = 1 (provided), ``SaleOptOut``, ``SharingOptOut``
    and ``TargetedAdvertisingOptOut`` = 1 where the section has them, and ``Gpc`` as given
    (for sections with a GPC sub-section). ``MspaCoveredTransaction`` defaults to 2 (No).

    The MSPA mode defaults (opt-out option mode = 1 Yes, service provider mode = 2 No) are the
    only combination the reference encoders' validators accept together with notices = 1
    (iabgpp-java ``UsNatTest.testValidateMspaServiceProviderMode``), so the string can be
    re-encoded by those libraries unchanged.

    Returns ``(gpp_string, gpp_sid)``.
    """
    encoded: dict[str, str] = {}
    for name in sections:
        section_id = SECTION_IDS.get(name)
        if section_id is None or (section_id != 7 and section_id not in LAYOUTS):
            raise ValueError(f"cannot encode an opt-out for section {name!r}")
        layout = USNAT_V2 if section_id == 7 else LAYOUTS[section_id]
        fields: dict[str, int | Sequence[int]] = {}
        for field, count in layout.fields:
            if field.endswith("Notice") or field in (
                "SaleOptOut",
                "SharingOptOut",
                "TargetedAdvertisingOptOut",
            ):
                fields[field] = 1
            elif count:
                fields[field] = (0,) * count
        fields["MspaCoveredTransaction"] = mspa_covered_transaction
        fields["MspaOptOutOptionMode"] = mspa_opt_out_option_mode
        fields["MspaServiceProviderMode"] = mspa_service_provider_mode
        encoded[name] = encode_section(name, fields, gpc=gpc if layout.has_gpc else None)
    if not encoded:
        raise ValueError("at least one section is required")
    return encode_gpp(encoded)


__all__ = ["encode_gpp", "encode_header", "encode_opt_out_gpp", "encode_usca", "encode_usnat"]
