"""The per-request decision drawn from a GPP string (and its ``gpp_sid``).

Rules (SIGNALS.md sections 3.4-3.9 and 5; DESIGN.md "fail closed on privacy"):

* In any applicable US section, ``SaleOptOut``, ``SharingOptOut`` or
  ``TargetedAdvertisingOptOut`` equal to 1, or a GPC sub-section with ``Gpc`` true, is an
  opt-out; so is a ``uspv1`` section whose third character is ``Y``/``y``.
* Opt-out wins over everything, including undecodable neighbours.
* Otherwise anything undecodable or undefined (value 3, unknown version, sections 24-27) makes
  the outcome UNKNOWN: it never grants consent.
* ``gpp_sid`` (comma- or underscore-separated ids) narrows the applicable sections when it
  parses; a malformed one is ignored so that every section is considered.

The hot path reads only the opt-out bits of each section (precomputed shifts) instead of
building the full typed result; ``tests/test_gpp_verdict.py`` checks it against the full
decoder.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass
from typing import Final

from ._bits import InvalidBits, b64_to_int, is_str
from .decode import ASCII_WHITESPACE, MAX_GPP_LENGTH
from .header import decode_header
from .sections import (
    LAYOUTS,
    OPT_OUT_FIELDS,
    SECTION_NAMES,
    UNSETTLED_SECTION_IDS,
    US_SECTION_IDS,
    USNAT_V1,
    USNAT_V2,
    Layout,
    UsPrivacy,
    decode_us_privacy,
    known_versions,
    layout_for,
    parse_gpc,
)


class GppOutcome(enum.StrEnum):
    """What a GPP string says about sale, sharing and targeted advertising."""

    ABSENT = "absent"
    """No GPP string was sent."""
    OPTED_OUT = "opted_out"
    """An applicable US section records an opt-out (or Gpc true)."""
    NOT_OPTED_OUT = "not_opted_out"
    """Every applicable decision says "did not opt out" and no Gpc is true."""
    NOT_APPLICABLE = "not_applicable"
    """No applicable US section, or all opt-out fields are 0 (not applicable)."""
    UNKNOWN = "unknown"
    """Something applicable could not be decoded or holds undefined values."""


@dataclass(frozen=True, slots=True)
class GppVerdict:
    """The decision for one request. ``sections`` names the US sections considered; ``gpc`` is
    true when a considered GPC sub-section said true."""

    outcome: GppOutcome
    reason: str
    sections: tuple[str, ...] = ()
    gpc: bool = False

    @property
    def opted_out(self) -> bool:
        return self.outcome is GppOutcome.OPTED_OUT


MAX_GPP_SID_LENGTH: Final = 256
_SID_SPLIT: Final = re.compile(r"[,_]")
_CACHE_MAX_INPUT: Final = 1024


def parse_gpp_sid(gpp_sid: str | None) -> frozenset[int] | None:
    """Parse ``gpp_sid`` (``"7"``, ``"2,6"``, ``"2_6"``, ``"-1"``).

    Returns ``None`` when it is absent or malformed (the caller then considers every section).
    """
    if gpp_sid is None or not is_str(gpp_sid):
        return None
    text = gpp_sid.strip(ASCII_WHITESPACE)
    if not text or len(text) > MAX_GPP_SID_LENGTH or not text.isascii():
        return None
    ids: set[int] = set()
    for part in _SID_SPLIT.split(text):
        item = part.strip(ASCII_WHITESPACE)
        # isdigit() also accepts non-ASCII digits; the isascii() check above rules those out.
        if item.startswith("-"):
            digits = item[1:]
            if not digits.isdigit():
                return None
        elif not item.isdigit():
            return None
        if len(item) > 4:
            return None
        ids.add(int(item))
    return frozenset(ids)


# Per-layout (field name, shift) for the opt-out fields, relative to the layout's bit length.
def _opt_out_shifts(layout: Layout) -> tuple[tuple[str, int], ...]:
    shifts: list[tuple[str, int]] = []
    pos = 6
    for name, count in layout.fields:
        width = 2 * (count or 1)
        if name in OPT_OUT_FIELDS:
            shifts.append((name, layout.bits - pos - width))
        pos += width
    return tuple(shifts)


_SHIFTS: Final[dict[str, tuple[tuple[str, int], ...]]] = {
    layout.key: _opt_out_shifts(layout) for layout in (USNAT_V1, USNAT_V2, *LAYOUTS.values())
}
_MAX_EXCESS_BITS: Final = 24

_OPT, _NOT, _NA, _UNK = "opt", "not", "na", "unk"


def _evaluate(section_id: int, name: str, raw: str) -> tuple[str, str, bool]:
    """Return (state, reason, gpc_true) for one applicable US section."""
    if section_id == 6:
        usp = decode_us_privacy(raw)
        if not isinstance(usp, UsPrivacy):
            # Fail closed on a malformed string whose third character still says "Y".
            if len(raw) >= 3 and raw[2] in "Yy":
                return _OPT, "uspv1 OptOutSale=Y (malformed string)", False
            return _UNK, f"uspv1 malformed: {raw[:16]!r}", False
        sale = usp.opt_out_sale
        if sale == "Y":
            return _OPT, "uspv1 OptOutSale=Y", False
        if usp.version != "1":
            return _UNK, f"uspv1 Version={usp.version} is not defined", False
        if sale == "N":
            return _NOT, "uspv1 OptOutSale=N", False
        return _NA, "uspv1 OptOutSale=-", False
    if section_id in UNSETTLED_SECTION_IDS:
        return _UNK, f"{name} (id {section_id}) is not decodable yet", False
    core_text, _, rest = raw.partition(".")
    try:
        value, nbits = b64_to_int(core_text)
        layout = layout_for(section_id, nbits)
        total = layout.bits
        if nbits < total:
            raise InvalidBits(f"truncated ({nbits} of {total} bits)")
        if nbits - total >= _MAX_EXCESS_BITS:
            raise InvalidBits(f"too long ({nbits} bits, needs {total})")
    except InvalidBits as exc:
        return _UNK, f"{name} undecodable: {exc}", False
    core = value >> (nbits - total)
    problems: list[str] = []
    version = core >> (total - 6)
    if version not in known_versions(section_id):
        problems.append(f"{name} Version={version} is not defined")
    opted: list[str] = []
    declined: list[str] = []
    for field, shift in _SHIFTS[layout.key]:
        field_value = (core >> shift) & 3
        if field_value == 1:
            opted.append(f"{field}=1")
        elif field_value == 2:
            declined.append(f"{field}=2")
        elif field_value == 3:
            problems.append(f"{name} {field}=3 is undefined")
    gpc = False
    if rest and layout.has_gpc:
        for sub in rest.split("."):
            try:
                if parse_gpc(sub):
                    gpc = True
            except InvalidBits as exc:
                problems.append(f"{name} sub-section malformed: {exc}")
    if gpc:
        opted.append("Gpc=true")
    if opted:
        return _OPT, f"{name} " + ", ".join(opted), gpc
    if problems:
        return _UNK, "; ".join(problems), False
    if declined:
        return _NOT, f"{name} " + ", ".join(declined), False
    return _NA, f"{name} opt-out fields are 0 (not applicable)", False


def _compute(gpp: str | None, gpp_sid: str | None) -> GppVerdict:
    if gpp is None or not is_str(gpp):
        return GppVerdict(GppOutcome.ABSENT, "no GPP string")
    if len(gpp) > MAX_GPP_LENGTH:
        return GppVerdict(GppOutcome.UNKNOWN, f"GPP string longer than {MAX_GPP_LENGTH} characters")
    text = gpp.strip(ASCII_WHITESPACE)
    if not text:
        return GppVerdict(GppOutcome.ABSENT, "empty GPP string")
    if not text.isascii():
        return GppVerdict(GppOutcome.UNKNOWN, "GPP string contains non-ASCII characters")
    header, *parts = text.split("~")
    try:
        ids = decode_header(header, max_ids=len(parts))
    except InvalidBits as exc:
        return GppVerdict(GppOutcome.UNKNOWN, f"GPP header undecodable: {exc}")
    if len(ids) != len(parts):
        return GppVerdict(
            GppOutcome.UNKNOWN,
            f"GPP header lists {len(ids)} section(s) but the string has {len(parts)}",
        )
    wanted = parse_gpp_sid(gpp_sid)
    notes = ""
    if (
        wanted is None
        and gpp_sid is not None
        and is_str(gpp_sid)
        and gpp_sid.strip(ASCII_WHITESPACE)
    ):
        notes = " (malformed gpp_sid ignored)"
    considered: list[str] = []
    opted: list[str] = []
    unknown: list[str] = []
    declined: list[str] = []
    gpc = False
    for section_id, raw in zip(ids, parts, strict=True):
        if section_id not in US_SECTION_IDS:
            continue
        if wanted is not None and section_id not in wanted:
            continue
        name = SECTION_NAMES[section_id]
        considered.append(name)
        if not raw:
            unknown.append(f"{name} is empty")
            continue
        state, reason, section_gpc = _evaluate(section_id, name, raw)
        gpc = gpc or section_gpc
        if state == _OPT:
            opted.append(reason)
        elif state == _UNK:
            unknown.append(reason)
        elif state == _NOT:
            declined.append(reason)
    names = tuple(considered)
    if opted:
        return GppVerdict(GppOutcome.OPTED_OUT, "; ".join(opted) + notes, names, gpc)
    if unknown:
        return GppVerdict(GppOutcome.UNKNOWN, "; ".join(unknown) + notes, names, gpc)
    if declined:
        return GppVerdict(GppOutcome.NOT_OPTED_OUT, "; ".join(declined) + notes, names, gpc)
    if not names:
        scope = "in gpp_sid" if wanted is not None else "in the string"
        return GppVerdict(GppOutcome.NOT_APPLICABLE, f"no US section {scope}{notes}", names, gpc)
    return GppVerdict(
        GppOutcome.NOT_APPLICABLE, "all opt-out fields are 0 (not applicable)" + notes, names, gpc
    )


@functools.lru_cache(maxsize=2048)
def _cached(gpp: str, gpp_sid: str | None) -> GppVerdict:
    return _compute(gpp, gpp_sid)


def gpp_verdict(gpp: str | None, gpp_sid: str | None) -> GppVerdict:
    """Decide what a GPP string (plus optional ``gpp_sid``) says about this request.

    Never raises, whatever the input (huge, non-ASCII, NUL bytes, wrong types): problems become
    an ``UNKNOWN`` outcome with a reason. Short inputs are memoised (bounded LRU), since a
    visitor sends the same cookie on every request.
    """
    try:
        if (
            is_str(gpp)
            and (gpp_sid is None or is_str(gpp_sid))
            and len(gpp or "") <= _CACHE_MAX_INPUT
            and len(gpp_sid or "") <= MAX_GPP_SID_LENGTH
        ):
            return _cached(gpp or "", gpp_sid)
        return _compute(gpp, gpp_sid)
    except Exception as exc:  # pragma: no cover - defence in depth; no known path gets here
        return GppVerdict(GppOutcome.UNKNOWN, f"internal error while reading GPP: {exc!r}")


__all__ = ["GppOutcome", "GppVerdict", "gpp_verdict", "parse_gpp_sid"]
