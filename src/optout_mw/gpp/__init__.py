"""IAB Global Privacy Platform (GPP) codec and the request verdict drawn from it.

Pure and standard-library only. Decoders never raise: problems come back as values with a
reason. See ``docs/gpp.md`` for the format notes and how the middleware uses the verdict.
"""

from __future__ import annotations

from .decode import MAX_GPP_LENGTH, DecodedGpp, decode_any, decode_gpp, to_json_dict
from .encode import encode_gpp, encode_opt_out_gpp, encode_usca, encode_usnat
from .header import decode_header, encode_header
from .sections import (
    SECTION_IDS,
    SECTION_NAMES,
    SPEC_TO_ATTRIBUTE,
    GppSection,
    SkippedSection,
    UndecodableSection,
    UsPrivacy,
    UsSection,
    decode_section,
    decode_us_privacy,
    encode_section,
)
from .verdict import GppOutcome, GppVerdict, gpp_verdict, parse_gpp_sid

__all__ = [
    "MAX_GPP_LENGTH",
    "SECTION_IDS",
    "SECTION_NAMES",
    "SPEC_TO_ATTRIBUTE",
    "DecodedGpp",
    "GppOutcome",
    "GppSection",
    "GppVerdict",
    "SkippedSection",
    "UndecodableSection",
    "UsPrivacy",
    "UsSection",
    "decode_any",
    "decode_gpp",
    "decode_header",
    "decode_section",
    "decode_us_privacy",
    "encode_gpp",
    "encode_header",
    "encode_opt_out_gpp",
    "encode_section",
    "encode_usca",
    "encode_usnat",
    "gpp_verdict",
    "parse_gpp_sid",
    "to_json_dict",
]
