"""Where the law applies: state opt-out-signal duties as data, geo headers, and the policy
that says whether Global Privacy Control opts a visitor out.

A leaf package: it imports nothing from optout-mw but :mod:`optout_mw.errors`, and no web
framework. See docs/jurisdiction.md.
"""

from __future__ import annotations

from optout_mw.jurisdiction.geo import GeoHeaders as GeoHeaders
from optout_mw.jurisdiction.geo import GeoReader as GeoReader
from optout_mw.jurisdiction.geo import HeaderGetter as HeaderGetter
from optout_mw.jurisdiction.geo import Location as Location
from optout_mw.jurisdiction.geo import LocationStatus as LocationStatus
from optout_mw.jurisdiction.laws import Confidence as Confidence
from optout_mw.jurisdiction.laws import LawTable as LawTable
from optout_mw.jurisdiction.laws import OptOutScope as OptOutScope
from optout_mw.jurisdiction.laws import StateLaw as StateLaw
from optout_mw.jurisdiction.laws import parse_law_table as parse_law_table
from optout_mw.jurisdiction.laws import shipped_law_table as shipped_law_table
from optout_mw.jurisdiction.policy import GpcApplicability as GpcApplicability
from optout_mw.jurisdiction.policy import GpcRule as GpcRule
from optout_mw.jurisdiction.policy import Jurisdiction as Jurisdiction
from optout_mw.jurisdiction.policy import JurisdictionPolicy as JurisdictionPolicy
from optout_mw.jurisdiction.policy import utc_date as utc_date
from optout_mw.jurisdiction.settings import GpcScope as GpcScope
from optout_mw.jurisdiction.settings import JurisdictionSettings as JurisdictionSettings
from optout_mw.jurisdiction.trust import GeoTrust as GeoTrust
from optout_mw.jurisdiction.trust import TrustBasis as TrustBasis

__all__ = [
    "Confidence",
    "GeoHeaders",
    "GeoReader",
    "GeoTrust",
    "GpcApplicability",
    "GpcRule",
    "GpcScope",
    "HeaderGetter",
    "Jurisdiction",
    "JurisdictionPolicy",
    "JurisdictionSettings",
    "LawTable",
    "Location",
    "LocationStatus",
    "OptOutScope",
    "StateLaw",
    "parse_law_table",
    "shipped_law_table",
    "utc_date",
]
