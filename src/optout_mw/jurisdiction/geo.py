"""Where the visitor is, from the geolocation headers a CDN or load balancer adds.

Every reader is total: a missing header is :attr:`LocationStatus.ABSENT`, anything not in
the provider's documented format is :attr:`LocationStatus.MALFORMED`, and neither ever
raises. Whether the headers may be believed at all is decided first, by
:mod:`optout_mw.jurisdiction.trust`. Header formats and sources: docs/jurisdiction.md.

A header getter takes a lowercase header name and returns the field value (repeated
fields joined with ``", "``, as WSGI and ASGI adapters both do) or ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from optout_mw._cache import BoundedCache

HeaderGetter = Callable[[str], str | None]


class GeoHeaders(StrEnum):
    """Which provider's geolocation headers to read."""

    #: ``CloudFront-Viewer-Country`` and ``CloudFront-Viewer-Country-Region``.
    CLOUDFRONT = "cloudfront"
    #: ``CF-IPCountry`` and ``cf-region-code`` (the "Add visitor location headers"
    #: managed transform).
    CLOUDFLARE = "cloudflare"
    #: ``x-vercel-ip-country`` and ``x-vercel-ip-country-region``.
    VERCEL = "vercel"
    #: A Google Cloud load balancer custom request header holding
    #: ``{client_region_subdivision}`` (``USCA``) or ``{client_region}`` (``US``).
    GCP = "gcp"
    #: ``X-Akamai-Edgescape`` (``country_code=US,region_code=CA,...``).
    AKAMAI = "akamai"
    #: A header set in VCL to ``CC`` or ``CC-RRR`` (ISO 3166-2), named by ``geo_header``.
    FASTLY = "fastly"
    #: Any header holding ``CC`` or ``CC-RRR`` (ISO 3166-2), named by ``geo_header``.
    CUSTOM = "custom"


class LocationStatus(StrEnum):
    #: The headers gave a country (and perhaps a region) in the documented format.
    LOCATED = "located"
    #: No geolocation header, or the provider's own "unknown" value (``XX``, ``T1``, ``**``).
    ABSENT = "absent"
    #: A header is present but not in the documented format; treated as unknown.
    MALFORMED = "malformed"
    #: The headers were not read: the request came neither from a trusted proxy nor with
    #: the shared secret.
    UNTRUSTED = "untrusted"
    #: The policy needs no location (``gpc_scope = "everywhere"``).
    NOT_READ = "not_read"


# ISO 3166-1 alpha-2, the 249 officially assigned codes (tests compare it with Debian's
# iso-codes). User-assigned codes (XX, ZZ...) and reserved ones (EU, AP) are not locations.
_ISO_COUNTRY_CODES = (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
    "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
    "DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS "
    "GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ "
    "MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
    "VN VU WF WS YE YT ZA ZM ZW"
)
ISO_COUNTRIES = frozenset(_ISO_COUNTRY_CODES.split())

# ISO 3166-2:US: the 50 states, DC and the six outlying areas.
_US_SUBDIVISION_CODES = (
    "AK AL AR AS AZ CA CO CT DC DE FL GA GU HI IA ID IL IN KS KY LA MA MD ME MI MN MO MP MS MT "
    "NC ND NE NH NJ NM NV NY OH OK OR PA PR RI SC SD TN TX UM UT VA VI VT WA WI WV WY"
)
US_SUBDIVISIONS = frozenset(_US_SUBDIVISION_CODES.split())

# The outlying areas have ISO 3166-1 codes of their own; a CDN may report either form.
US_COUNTRIES = frozenset({"US", "AS", "GU", "MP", "PR", "UM", "VI"})

_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@dataclass(frozen=True, slots=True)
class Location:
    """Where the headers say the visitor is; only :attr:`LocationStatus.LOCATED` has a
    country. Codes are upper case; ``region`` is the subdivision part of ISO 3166-2."""

    status: LocationStatus
    country: str | None = None
    region: str | None = None

    @property
    def code(self) -> str | None:
        """``"US-CA"``, ``"US"`` (no region), or ``None`` when not located."""
        if self.country is None:
            return None
        return f"{self.country}-{self.region}" if self.region else self.country

    @property
    def in_us(self) -> bool:
        """In the United States, its outlying areas included."""
        return self.country in US_COUNTRIES


#: ``read(country header value, region header value, read_region) -> Location``.
_Reader = Callable[[str, str | None, bool], Location]

ABSENT = Location(LocationStatus.ABSENT)
MALFORMED = Location(LocationStatus.MALFORMED)
UNTRUSTED = Location(LocationStatus.UNTRUSTED)
NOT_READ = Location(LocationStatus.NOT_READ)


def _country(value: str) -> str | None:
    code = value.strip(" \t").upper()
    return code if code in ISO_COUNTRIES else None


def _region(country: str, value: str, longest: int = 3) -> str | None:
    code = value.strip(" \t").upper()
    if not 1 <= len(code) <= longest or not set(code) <= _ALNUM:
        return None
    if country == "US" and code not in US_SUBDIVISIONS:
        return None
    return code


def _located(country: str, region: str | None) -> Location:
    # A territory reported as US-PR and as PR is the same place; keep the US form.
    if country != "US" and country in US_COUNTRIES and region is None:
        return Location(LocationStatus.LOCATED, "US", country)
    return Location(LocationStatus.LOCATED, country, region)


class GeoReader:
    """Reads one provider's headers. Build one per configuration; :meth:`locate` is pure."""

    __slots__ = ("_country_header", "_memo", "_read", "_region_header", "kind", "names")

    def __init__(self, kind: GeoHeaders, header: str | None = None) -> None:
        self.kind = kind
        country, region = _HEADERS.get(kind, (None, None))
        if kind in (GeoHeaders.GCP, GeoHeaders.FASTLY, GeoHeaders.CUSTOM):
            country = header or (_GCP_DEFAULT if kind is GeoHeaders.GCP else None)
            if country is None:
                raise ValueError(f"geo_headers {kind!s} needs geo_header")
        assert country is not None
        self._country_header = country.lower()
        self._region_header = region.lower() if region else None
        #: The header names read, as they are usually spelled: (all, country only).
        self.names: tuple[tuple[str, ...], tuple[str, ...]] = (
            (country, region) if region else (country,),
            (country,),
        )
        self._read = _READERS[kind]
        # A site sees a few hundred distinct header values; reading one is pure.
        self._memo: BoundedCache[tuple[str, str | None, bool], Location] = BoundedCache(1024)

    def header_names(self, read_region: bool) -> tuple[str, ...]:
        """The request headers :meth:`locate` reads (for ``Vary``)."""
        return self.names[0] if read_region else self.names[1]

    def values(self, get: HeaderGetter, read_region: bool) -> tuple[str | None, str | None]:
        """The raw header values :meth:`read` takes: ``(country, region)``."""
        value = get(self._country_header)
        if value is None or not read_region or self._region_header is None:
            return value, None
        return value, get(self._region_header)

    def locate(self, get: HeaderGetter, read_region: bool = True) -> Location:
        """The visitor's location from the headers; never raises."""
        value, region = self.values(get, read_region)
        return self.read(value, region, read_region)

    def read(self, value: str | None, region: str | None, read_region: bool) -> Location:
        """The location from raw header values (see :meth:`values`); never raises."""
        if value is None:
            return ABSENT
        key = (value, region, read_region)
        found = self._memo.get(key)
        if found is not None:
            return found
        location = self._read(value, region, read_region)
        if len(value) + len(region or "") <= LONGEST_CACHED:
            self._memo.put(key, location)
        return location


def _read_pair(sentinels: frozenset[str]) -> _Reader:
    """Country and region in two headers (CloudFront, Cloudflare, Vercel)."""

    def read(value: str, region_value: str | None, read_region: bool) -> Location:
        if value.strip(" \t").upper() in sentinels:
            return ABSENT
        country = _country(value)
        if country is None:
            return MALFORMED
        if region_value is None:
            return _located(country, None)
        region = _region(country, region_value)
        return MALFORMED if region is None else _located(country, region)

    return read


# Longer values (EdgeScape carries a dozen fields) are read every time, not remembered.
LONGEST_CACHED = 512

_ISO_3166_2 = re.compile(r"([A-Z]{2})(?:-([A-Z0-9]{1,3}))?")
_CLDR_SUBDIVISION = re.compile(r"([A-Z]{2})([A-Z0-9]{1,4})?")


def _read_iso(value: str, _: str | None, read_region: bool) -> Location:
    """``CC`` or ``CC-RRR`` (an ISO 3166-2 code), as Fastly's documented VCL builds it;
    ``**`` is Fastly's reserved (unknown) country."""
    code = value.strip(" \t").upper()
    if code == "**":
        return ABSENT
    return _from_match(_ISO_3166_2.fullmatch(code), read_region)


def _read_cldr(value: str, _: str | None, read_region: bool) -> Location:
    """Google Cloud's ``{client_region_subdivision}``, a CLDR subdivision id such as
    ``USCA``, or ``{client_region}`` alone (``US``)."""
    return _from_match(_CLDR_SUBDIVISION.fullmatch(value.strip(" \t").upper()), read_region)


def _from_match(match: re.Match[str] | None, read_region: bool) -> Location:
    if match is None:
        return MALFORMED
    country = _country(match[1])
    if country is None:
        return MALFORMED
    if match[2] is None or not read_region:
        return _located(country, None)
    region = _region(country, match[2], longest=4)
    return MALFORMED if region is None else _located(country, region)


def _read_edgescape(value: str, _: str | None, read_region: bool) -> Location:
    """Akamai EdgeScape: ``georegion=246,country_code=US,region_code=CA,city=...``."""
    fields: dict[str, str] = {}
    for item in value.split(","):
        key, equals, field = item.partition("=")
        key = key.strip(" \t").lower()
        if not equals or key not in ("country_code", "region_code"):
            continue  # other fields (a city may hold a comma) are not ours to judge
        if key in fields:
            return MALFORMED  # two headers joined into one: believe neither
        fields[key] = field
    if "country_code" not in fields:
        return MALFORMED
    country = _country(fields["country_code"])
    if country is None:
        return MALFORMED
    region_value = fields.get("region_code")
    if not read_region or not region_value:
        return _located(country, None)
    region = _region(country, region_value)
    return MALFORMED if region is None else _located(country, region)


_HEADERS: dict[GeoHeaders, tuple[str, str | None]] = {
    GeoHeaders.CLOUDFRONT: ("CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Region"),
    GeoHeaders.CLOUDFLARE: ("CF-IPCountry", "cf-region-code"),
    GeoHeaders.VERCEL: ("x-vercel-ip-country", "x-vercel-ip-country-region"),
    GeoHeaders.AKAMAI: ("X-Akamai-Edgescape", None),
}
_GCP_DEFAULT = "X-Client-Geo-Region"

_READERS: dict[GeoHeaders, _Reader] = {
    GeoHeaders.CLOUDFRONT: _read_pair(frozenset()),
    # Cloudflare: XX = no country data, T1 = Tor (Cloudflare HTTP headers reference).
    GeoHeaders.CLOUDFLARE: _read_pair(frozenset({"XX", "T1"})),
    GeoHeaders.VERCEL: _read_pair(frozenset()),
    GeoHeaders.GCP: _read_cldr,
    GeoHeaders.AKAMAI: _read_edgescape,
    GeoHeaders.FASTLY: _read_iso,
    GeoHeaders.CUSTOM: _read_iso,
}
