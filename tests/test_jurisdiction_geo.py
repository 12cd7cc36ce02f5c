"""Geo header readers: each provider's documented format, and malformed input as unknown.

Example values come from the providers' documentation (cited in docs/jurisdiction.md):
CloudFront's region is "the first-level subdivision of the ISO 3166-2 code" (up to three
characters); Cloudflare sends XX without country data and T1 for Tor; Google Cloud's
``{client_region_subdivision}`` is a CLDR subdivision id "such as USCA or CAON"; Fastly's
documented ``client_geo_code`` VCL yields AX, DE-BE, GB-BNH, JP-13, RU-MOW, SE-AB, US-CA.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optout_mw.jurisdiction import GeoHeaders, GeoReader, Location, LocationStatus
from optout_mw.jurisdiction.geo import ISO_COUNTRIES, US_SUBDIVISIONS

LOCATED = LocationStatus.LOCATED
ABSENT = Location(LocationStatus.ABSENT)
MALFORMED = Location(LocationStatus.MALFORMED)


def at(country: str, region: str | None = None) -> Location:
    return Location(LOCATED, country, region)


def getter(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


CASES = [
    # CloudFront
    pytest.param(GeoHeaders.CLOUDFRONT, {"CloudFront-Viewer-Country": "US",
                 "CloudFront-Viewer-Country-Region": "CA"}, at("US", "CA"), id="cloudfront US-CA"),
    pytest.param(GeoHeaders.CLOUDFRONT, {"CloudFront-Viewer-Country": "US"}, at("US"),
                 id="cloudfront country only"),
    pytest.param(GeoHeaders.CLOUDFRONT, {"CloudFront-Viewer-Country": "GB",
                 "CloudFront-Viewer-Country-Region": "ENG"}, at("GB", "ENG"),
                 id="cloudfront three-character region"),
    pytest.param(GeoHeaders.CLOUDFRONT, {"CloudFront-Viewer-Country": "PR"}, at("US", "PR"),
                 id="cloudfront territory as a country"),
    pytest.param(GeoHeaders.CLOUDFRONT, {"CloudFront-Viewer-Country-Region": "CA"}, ABSENT,
                 id="cloudfront region without country"),
    pytest.param(GeoHeaders.CLOUDFRONT, {"CloudFront-Viewer-Country": "US",
                 "CloudFront-Viewer-Country-Region": "ZZ"}, MALFORMED,
                 id="cloudfront unknown US state"),
    pytest.param(GeoHeaders.CLOUDFRONT, {"CloudFront-Viewer-Country": "US, DE"}, MALFORMED,
                 id="cloudfront two values joined"),
    pytest.param(GeoHeaders.CLOUDFRONT, {"CloudFront-Viewer-Country": "USA"}, MALFORMED,
                 id="cloudfront alpha-3"),
    pytest.param(GeoHeaders.CLOUDFRONT, {"CloudFront-Viewer-Country": " us "}, at("US"),
                 id="cloudfront whitespace and case"),
    # Cloudflare
    pytest.param(GeoHeaders.CLOUDFLARE, {"CF-IPCountry": "US", "cf-region-code": "TX"},
                 at("US", "TX"), id="cloudflare US-TX"),
    pytest.param(GeoHeaders.CLOUDFLARE, {"CF-IPCountry": "AU", "cf-region-code": "NSW"},
                 at("AU", "NSW"), id="cloudflare AU-NSW"),
    pytest.param(GeoHeaders.CLOUDFLARE, {"CF-IPCountry": "XX"}, ABSENT, id="cloudflare XX"),
    pytest.param(GeoHeaders.CLOUDFLARE, {"CF-IPCountry": "T1", "cf-region-code": "CA"}, ABSENT,
                 id="cloudflare Tor"),
    pytest.param(GeoHeaders.CLOUDFLARE, {"CF-IPCountry": "EU"}, MALFORMED,
                 id="cloudflare reserved code"),
    pytest.param(GeoHeaders.CLOUDFLARE, {}, ABSENT, id="cloudflare nothing"),
    # Vercel
    pytest.param(GeoHeaders.VERCEL, {"x-vercel-ip-country": "US",
                 "x-vercel-ip-country-region": "NJ"}, at("US", "NJ"), id="vercel US-NJ"),
    pytest.param(GeoHeaders.VERCEL, {"x-vercel-ip-country": "PE",
                 "x-vercel-ip-country-region": "ARE"}, at("PE", "ARE"), id="vercel PE-ARE"),
    pytest.param(GeoHeaders.VERCEL, {"x-vercel-ip-country": "US",
                 "x-vercel-ip-country-region": "C-A"}, MALFORMED, id="vercel bad region"),
    # Google Cloud load balancer
    pytest.param(GeoHeaders.GCP, {"X-Client-Geo-Region": "USCA"}, at("US", "CA"), id="gcp USCA"),
    pytest.param(GeoHeaders.GCP, {"X-Client-Geo-Region": "caon"}, at("CA", "ON"), id="gcp caon"),
    pytest.param(GeoHeaders.GCP, {"X-Client-Geo-Region": "US"}, at("US"), id="gcp region only"),
    pytest.param(GeoHeaders.GCP, {"X-Client-Geo-Region": "USCA, Mountain View"}, MALFORMED,
                 id="gcp with city appended"),
    pytest.param(GeoHeaders.GCP, {"X-Client-Geo-Region": "US-CA"}, MALFORMED,
                 id="gcp ISO form is not CLDR"),
    # Akamai EdgeScape
    pytest.param(GeoHeaders.AKAMAI, {"X-Akamai-Edgescape": "georegion=246,country_code=US,"
                 "region_code=CA,city=SANJOSE,dma=807,pmsa=7400,areacode=408,county=SANTACLARA,"
                 "fips=06085,lat=37.3353,long=-121.8938,timezone=PST,zip=95101-95103+95106"},
                 at("US", "CA"), id="akamai full basic set"),
    pytest.param(GeoHeaders.AKAMAI, {"X-Akamai-Edgescape": "country_code=DE"}, at("DE"),
                 id="akamai country only"),
    pytest.param(GeoHeaders.AKAMAI, {"X-Akamai-Edgescape": "country_code=US,region_code=CA,"
                 "city=WASHINGTON,DC"}, at("US", "CA"), id="akamai comma inside a field"),
    pytest.param(GeoHeaders.AKAMAI, {"X-Akamai-Edgescape": "country_code=US,region_code=TX, "
                 "country_code=US,region_code=CA"}, MALFORMED, id="akamai two headers joined"),
    pytest.param(GeoHeaders.AKAMAI, {"X-Akamai-Edgescape": "georegion=246,city=SANJOSE"},
                 MALFORMED, id="akamai without country"),
    pytest.param(GeoHeaders.AKAMAI, {"X-Akamai-Edgescape": "country_code=reserved"}, MALFORMED,
                 id="akamai obscured value"),
]


@pytest.mark.parametrize(("kind", "headers", "expected"), CASES)
def test_documented_formats(kind: GeoHeaders, headers: dict[str, str], expected: Location) -> None:
    header = "X-Client-Geo-Region" if kind is GeoHeaders.GCP else None
    assert GeoReader(kind, header).locate(getter(headers).get) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("AX", at("AX")),
        ("DE-BE", at("DE", "BE")),
        ("GB-BNH", at("GB", "BNH")),
        ("JP-13", at("JP", "13")),
        ("RU-MOW", at("RU", "MOW")),
        ("SE-AB", at("SE", "AB")),
        ("US-CA", at("US", "CA")),
        ("us-ny", at("US", "NY")),
        ("**", ABSENT),
        ("US-", MALFORMED),
        ("US-CALI", MALFORMED),
        ("USCA", MALFORMED),
        ("US-CA, US-TX", MALFORMED),
        ("", MALFORMED),
    ],
)
@pytest.mark.parametrize("kind", [GeoHeaders.FASTLY, GeoHeaders.CUSTOM])
def test_iso_3166_2_header(kind: GeoHeaders, value: str, expected: Location) -> None:
    reader = GeoReader(kind, "X-Geo-Region")
    assert reader.locate({"x-geo-region": value}.get) == expected


def test_country_only_reading_ignores_the_region() -> None:
    reader = GeoReader(GeoHeaders.CLOUDFRONT)
    seen: list[str] = []

    def get(name: str) -> str | None:
        seen.append(name)
        return {"cloudfront-viewer-country": "US"}.get(name)

    assert reader.locate(get, read_region=False) == at("US")
    assert seen == ["cloudfront-viewer-country"]
    fastly = GeoReader(GeoHeaders.FASTLY, "X-Geo")
    assert fastly.locate({"x-geo": "US-CA"}.get, read_region=False) == at("US")


def test_header_names_for_vary() -> None:
    assert GeoReader(GeoHeaders.CLOUDFLARE).header_names(True) == ("CF-IPCountry", "cf-region-code")
    assert GeoReader(GeoHeaders.CLOUDFLARE).header_names(False) == ("CF-IPCountry",)
    assert GeoReader(GeoHeaders.GCP).header_names(True) == ("X-Client-Geo-Region",)
    assert GeoReader(GeoHeaders.GCP, "X-Geo").header_names(True) == ("X-Geo",)
    assert GeoReader(GeoHeaders.AKAMAI).header_names(True) == ("X-Akamai-Edgescape",)


def test_named_presets_need_a_header() -> None:
    with pytest.raises(ValueError, match="needs geo_header"):
        GeoReader(GeoHeaders.FASTLY)


def test_location_codes() -> None:
    assert at("US", "CA").code == "US-CA"
    assert at("US").code == "US"
    assert ABSENT.code is None
    assert at("US", "PR").in_us and not at("CA", "ON").in_us


ISO_CODES = Path("/usr/share/iso-codes/json")


@pytest.mark.skipif(not ISO_CODES.is_dir(), reason="Debian's iso-codes is not installed")
def test_code_lists_match_debian_iso_codes() -> None:
    countries = json.loads((ISO_CODES / "iso_3166-1.json").read_text())["3166-1"]
    assert {entry["alpha_2"] for entry in countries} == ISO_COUNTRIES
    subdivisions = json.loads((ISO_CODES / "iso_3166-2.json").read_text())["3166-2"]
    us = {entry["code"].removeprefix("US-") for entry in subdivisions
          if entry["code"].startswith("US-")}
    assert us == US_SUBDIVISIONS


HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=40)
LOOKALIKES = st.sampled_from(["US", "us", "CA", "US-CA", "USCA", "XX", "T1", "**", "-", ",",
                              "country_code=US", "region_code=CA", " ", "\t", "ñ", "US-"])
VALUES = st.lists(st.one_of(HEADER_TEXT, LOOKALIKES), max_size=5).map("".join)


@given(kind=st.sampled_from(list(GeoHeaders)), country=VALUES, region=st.none() | VALUES,
       read_region=st.booleans())
def test_any_header_values_are_read_without_raising(
    kind: GeoHeaders, country: str, region: str | None, read_region: bool
) -> None:
    reader = GeoReader(kind, "X-Geo")
    names = [name.lower() for name in reader.header_names(True)]
    headers = {names[0]: country}
    if region is not None and len(names) > 1:
        headers[names[1]] = region
    location = reader.locate(headers.get, read_region)
    assert location.status in (LOCATED, LocationStatus.ABSENT, LocationStatus.MALFORMED)
    if location.status is LOCATED:
        assert location.country in ISO_COUNTRIES
        # A location is only ever made of characters the request carried.
        assert location.country in country.upper() or location.country == "US"
        if location.region is not None:
            assert location.region.isalnum() and location.region.isascii()
            assert 1 <= len(location.region) <= 4
            if location.country == "US":
                assert location.region in US_SUBDIVISIONS
    else:
        assert location.country is None and location.region is None
