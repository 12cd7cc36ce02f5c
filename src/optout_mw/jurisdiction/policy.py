"""Policy: does Global Privacy Control opt this visitor out, here and today?

``gpc_scope`` decides. Only GPC is gated by location: the site's own choice, GPP, US
Privacy, CMP cookies and account state always apply, so a visitor who opted out any other
way stays opted out wherever they are. The answer is a small immutable
:class:`GpcApplicability` that says where the visitor was placed and which rule applied,
for the decision, its records, the status JSON and report mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from optout_mw._cache import BoundedCache
from optout_mw.jurisdiction.geo import (
    LONGEST_CACHED,
    NOT_READ,
    UNTRUSTED,
    GeoReader,
    HeaderGetter,
    Location,
    LocationStatus,
)
from optout_mw.jurisdiction.laws import Confidence, LawTable, StateLaw, shipped_law_table
from optout_mw.jurisdiction.settings import GpcScope, JurisdictionSettings
from optout_mw.jurisdiction.trust import GeoTrust, TrustBasis, parse_networks


class GpcRule(StrEnum):
    """Which rule decided whether GPC opts the visitor out."""

    #: ``gpc_scope = "everywhere"``: honoured wherever the visitor is.
    EVERYWHERE = "everywhere"
    #: No trusted, well-formed location: ``enforce_unknown`` decides.
    LOCATION_UNKNOWN = "location_unknown"
    #: ``gpc_scope = "us"`` and the visitor is in the United States.
    IN_US = "in_us"
    #: The visitor is outside the United States.
    OUTSIDE_US = "outside_us"
    #: The visitor's state requires honouring opt-out signals on the day.
    STATE_REQUIRES = "state_requires"
    #: The visitor's state will require it, but not yet on the day.
    STATE_NOT_YET = "state_not_yet"
    #: The visitor's state has no signal duty (or no comprehensive privacy law).
    NO_STATE_DUTY = "no_state_duty"
    #: The state's row is unverified and its law is in effect: honoured until reviewed
    #: (fail closed on privacy).
    UNREVIEWED_LAW = "unreviewed_law"


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """Where the visitor was placed, and on what grounds."""

    location: Location
    #: Why the geo headers were believed; ``None`` when they were not read or not trusted.
    trusted_by: TrustBasis | None = None
    #: The state's row in the law table, when the visitor is in a state that has one.
    law: StateLaw | None = None

    @property
    def code(self) -> str:
        """``"US-CA"``, ``"US"``, ``"GB"``, or ``"unknown"``."""
        return self.location.code or "unknown"


@dataclass(frozen=True, slots=True)
class GpcApplicability:
    """Whether GPC opts this visitor out, and why."""

    honour_gpc: bool
    rule: GpcRule
    jurisdiction: Jurisdiction
    #: The day the law was judged on (``as_of`` or the request's UTC date); ``None`` when
    #: no law was consulted.
    on: date | None = None
    #: The law table's version, when the law was consulted.
    law_table: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary: location codes and rule names only, never a header value,
        an address or a secret."""
        law, trusted_by = self.jurisdiction.law, self.jurisdiction.trusted_by
        return {
            "honour_gpc": self.honour_gpc,
            "rule": str(self.rule),
            "jurisdiction": self.jurisdiction.code,
            "location_status": str(self.jurisdiction.location.status),
            "trusted_by": str(trusted_by) if trusted_by is not None else None,
            "law": law.to_json() if law is not None else None,
            "on": self.on.isoformat() if self.on else None,
            "law_table": self.law_table,
        }


EVERYWHERE = GpcApplicability(True, GpcRule.EVERYWHERE, Jurisdiction(NOT_READ))


def utc_date(timestamp: float) -> date:
    """The UTC calendar date of a POSIX timestamp.

    Duties start at local midnight in the state; judging by the UTC date starts them up to
    a day early (US time zones are behind UTC), never late.
    """
    return datetime.fromtimestamp(timestamp, UTC).date()


class JurisdictionPolicy:
    """The compiled settings: build once per configuration; :meth:`applicability` is pure
    and safe to call from any thread."""

    __slots__ = (
        "_enforce_unknown", "_reader", "_results", "_trust", "_untrusted", "as_of", "scope",
        "table", "vary",
    )

    def __init__(self, settings: JurisdictionSettings, table: LawTable | None = None) -> None:
        self.scope = settings.gpc_scope
        self.as_of = settings.as_of
        self.table = table if table is not None else shipped_law_table()
        self._enforce_unknown = settings.enforce_unknown
        self._trust = GeoTrust(
            parse_networks(settings.trusted_proxies),
            settings.geo_secret_header,
            settings.geo_secret,
        )
        self._reader: GeoReader | None = None
        self._untrusted = self._unknown(Jurisdiction(UNTRUSTED))
        # Answers are immutable and a site sees few distinct (trust, header values, day)
        # combinations, so each is computed once.
        self._results: BoundedCache[
            tuple[TrustBasis, str | None, str | None, date | None], GpcApplicability
        ] = BoundedCache(2048)
        #: Request headers the response depends on through this policy (for ``Vary``).
        self.vary: tuple[str, ...] = ()
        if self.scope is not GpcScope.EVERYWHERE and settings.geo_headers is not None:
            self._reader = GeoReader(settings.geo_headers, settings.geo_header)
            self.vary = self._reader.header_names(self._reads_region)

    @property
    def reads_location(self) -> bool:
        """Whether :meth:`applicability` reads any request header."""
        return self._reader is not None

    @property
    def _reads_region(self) -> bool:
        # "us" needs the country only, so only the country header varies the page.
        return self.scope is GpcScope.REQUIRED

    def applicability(
        self, get: HeaderGetter, peer: str | None, today: date
    ) -> GpcApplicability:
        """Whether GPC opts the visitor out.

        :param get: the request's header getter (lowercase name -> value or ``None``).
        :param peer: the immediate peer's address as the server reported it.
        :param today: the request's date (see :func:`utc_date`); ``as_of`` overrides it.
        """
        reader = self._reader
        if reader is None:
            return EVERYWHERE
        trusted_by = self._trust.trusted_by(get, peer)
        if trusted_by is None:
            return self._untrusted
        reads_region = self._reads_region
        value, region = reader.values(get, reads_region)
        on = (self.as_of or today) if reads_region else None
        key = (trusted_by, value, region, on)
        found = self._results.get(key)
        if found is not None:
            return found
        answer = self._decide(reader.read(value, region, reads_region), trusted_by, on)
        if len(value or "") + len(region or "") <= LONGEST_CACHED:
            self._results.put(key, answer)
        return answer

    def _decide(
        self, location: Location, trusted_by: TrustBasis, on: date | None
    ) -> GpcApplicability:
        place = Jurisdiction(location, trusted_by)
        if location.status is not LocationStatus.LOCATED:
            return self._unknown(place)
        if not location.in_us:
            return GpcApplicability(False, GpcRule.OUTSIDE_US, place)
        if on is None:  # gpc_scope "us"
            return GpcApplicability(True, GpcRule.IN_US, place)
        if location.region is None:
            return self._unknown(place)
        return self._by_state(location, trusted_by, on)

    def _unknown(self, place: Jurisdiction) -> GpcApplicability:
        return GpcApplicability(self._enforce_unknown, GpcRule.LOCATION_UNKNOWN, place)

    def _by_state(self, location: Location, trusted_by: TrustBasis, on: date) -> GpcApplicability:
        assert location.region is not None
        law = self.table.get(location.region)
        place = Jurisdiction(location, trusted_by, law)
        version = self.table.version
        if law is None:
            return GpcApplicability(False, GpcRule.NO_STATE_DUTY, place, on, version)
        if law.requires_signal(on):
            return GpcApplicability(True, GpcRule.STATE_REQUIRES, place, on, version)
        if law.confidence is Confidence.UNVERIFIED and on >= law.effective:
            return GpcApplicability(True, GpcRule.UNREVIEWED_LAW, place, on, version)
        if law.uoom_from is not None:
            return GpcApplicability(False, GpcRule.STATE_NOT_YET, place, on, version)
        return GpcApplicability(False, GpcRule.NO_STATE_DUTY, place, on, version)
