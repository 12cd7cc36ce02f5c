"""Total decoding of whole GPP strings, and JSON-ready views of the results.

String layout (``Core/Consent String Specification.md``): ``<header>~<section>~...`` with the
sections in the order of the header's id list, and ``.`` separating a section's sub-sections.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ._bits import InvalidBits, is_str
from .header import decode_header
from .sections import (
    GppSection,
    UndecodableSection,
    UsPrivacy,
    UsSection,
    decode_section,
    decode_us_privacy,
)

# Only ASCII whitespace is trimmed (HTTP optional whitespace); any other character makes the
# string non-ASCII and therefore malformed.
ASCII_WHITESPACE: Final = " \t\r\n"

MAX_GPP_LENGTH: Final = 8192
"""Strings longer than this are rejected unread. Real GPP strings with TCF sections are a
few hundred characters; cookies are capped at 4 KiB by browsers anyway."""


@dataclass(frozen=True, slots=True)
class DecodedGpp:
    """A decoded GPP string. ``error`` is set (and ``sections`` empty) when the string as a whole
    is unusable: bad header, wrong section count, not ASCII, too long."""

    raw: str
    section_ids: tuple[int, ...] = ()
    sections: tuple[GppSection, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def decode_gpp(text: str, *, max_length: int = MAX_GPP_LENGTH) -> DecodedGpp:
    """Decode a GPP string. Never raises: every problem is reported as a value.

    A blank string decodes to no sections (as in both IAB libraries). Sections are decoded one
    by one, so one bad section does not hide the others.
    """
    if not is_str(text):
        return DecodedGpp("", error="GPP string is not a str")
    if len(text) > max_length:
        return DecodedGpp(text[:64], error=f"GPP string longer than {max_length} characters")
    text = text.strip(ASCII_WHITESPACE)
    if not text:
        return DecodedGpp("")
    if not text.isascii():
        return DecodedGpp(text, error="GPP string contains non-ASCII characters")
    header, *parts = text.split("~")
    try:
        ids = decode_header(header, max_ids=len(parts))
    except InvalidBits as exc:
        return DecodedGpp(text, error=f"header: {exc}")
    if len(ids) != len(parts):
        return DecodedGpp(
            text,
            section_ids=ids,
            error=f"header lists {len(ids)} section(s) but the string has {len(parts)}",
        )
    sections = tuple(decode_section(sid, raw) for sid, raw in zip(ids, parts, strict=True))
    return DecodedGpp(text, section_ids=ids, sections=sections)


# --------------------------------------------------------------------------------------------
# JSON


def _section_json(section: GppSection) -> dict[str, object]:
    if isinstance(section, UsSection):
        out: dict[str, object] = {"id": section.section_id, "name": section.name}
        for key, value in section.spec_fields().items():
            out[key] = list(value) if isinstance(value, tuple) else value
        out["GpcSegmentIncluded"] = section.gpc is not None
        if section.gpc is not None:
            out["Gpc"] = section.gpc
        out["layout"] = section.layout
        if section.problems:
            out["problems"] = list(section.problems)
        if section.notes:
            out["notes"] = list(section.notes)
        return out
    if isinstance(section, UsPrivacy):
        return {
            "id": section.section_id,
            "name": section.name,
            "Version": section.version,
            "Notice": section.notice,
            "OptOutSale": section.opt_out_sale,
            "LspaCovered": section.lspa_covered,
            "value": section.raw,
        }
    status = "undecodable" if isinstance(section, UndecodableSection) else "skipped"
    return {
        "id": section.section_id,
        "name": section.name,
        status: section.reason,
        "value": section.raw,
    }


def to_json_dict(decoded: DecodedGpp | GppSection) -> dict[str, object]:
    """A JSON-ready dict for a decoded GPP string or a single section, using spec field names."""
    if isinstance(decoded, DecodedGpp):
        return {
            "type": "gpp",
            "value": decoded.raw,
            "sectionIds": list(decoded.section_ids),
            "sections": [_section_json(s) for s in decoded.sections],
            "error": decoded.error,
        }
    return _section_json(decoded)


def decode_any(text: str) -> dict[str, object]:
    """Decode a US Privacy string or a GPP string and return a JSON-ready dict; never raises.

    Every GPP string starts with ``DB`` (Type=3, Version=1), so anything else of length 4 is
    read as a US Privacy string. GPP results include the request ``verdict`` for that string.
    """
    from .verdict import gpp_verdict  # local: verdict imports this module

    if not is_str(text):
        return {"type": "unknown", "error": "input is not a str"}
    stripped = text.strip(ASCII_WHITESPACE)
    if len(stripped) == 4 and not stripped.startswith("DB"):
        usp = decode_us_privacy(stripped)
        if isinstance(usp, UsPrivacy):
            return {"type": "usprivacy", **_section_json(usp), "error": None}
        return {"type": "usprivacy", "value": usp.raw, "error": usp.reason}
    out = to_json_dict(decode_gpp(text))
    verdict = gpp_verdict(text, None)
    out["verdict"] = {
        "outcome": verdict.outcome.value,
        "reason": verdict.reason,
        "sections": list(verdict.sections),
        "gpc": verdict.gpc,
    }
    return out


__all__ = [
    "MAX_GPP_LENGTH",
    "DecodedGpp",
    "decode_any",
    "decode_gpp",
    "to_json_dict",
]
