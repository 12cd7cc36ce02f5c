"""The GPC scope policy: states x dates x headers x trust, spoofing, as_of, Vary, settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optout_mw.errors import ConfigError
from optout_mw.jurisdiction import (
    GeoHeaders,
    GpcRule,
    GpcScope,
    JurisdictionPolicy,
    JurisdictionSettings,
    LocationStatus,
    TrustBasis,
    parse_law_table,
    shipped_law_table,
    utc_date,
)

CDN = "10.0.0.5"  # inside trusted_proxies below
STRANGER = "198.51.100.20"
SECRET = "a-long-shared-secret-value"
TODAY = date(2026, 12, 4)
NO_HEADERS: dict[str, str] = {}


def settings(scope: GpcScope, kind: GeoHeaders = GeoHeaders.CLOUDFRONT, **extra: Any) -> (
    JurisdictionSettings
):
    values: dict[str, Any] = {"trusted_proxies": ("10.0.0.0/8",)}
    if kind in (GeoHeaders.FASTLY, GeoHeaders.CUSTOM):
        values["geo_header"] = "X-Geo"
    values.update(extra)
    return JurisdictionSettings(gpc_scope=scope, geo_headers=kind, **values)


# One request per provider placing the visitor in a given state (or abroad).
def headers_for(kind: GeoHeaders, country: str, region: str | None) -> dict[str, str]:
    if kind is GeoHeaders.CLOUDFRONT:
        found = {"cloudfront-viewer-country": country}
        if region:
            found["cloudfront-viewer-country-region"] = region
        return found
    if kind is GeoHeaders.CLOUDFLARE:
        return {"cf-ipcountry": country, **({"cf-region-code": region} if region else {})}
    if kind is GeoHeaders.VERCEL:
        return {"x-vercel-ip-country": country,
                **({"x-vercel-ip-country-region": region} if region else {})}
    if kind is GeoHeaders.GCP:
        return {"x-client-geo-region": country + (region or "")}
    if kind is GeoHeaders.AKAMAI:
        value = f"georegion=246,country_code={country}"
        return {"x-akamai-edgescape": value + (f",region_code={region}" if region else "")}
    return {"x-geo": country + (f"-{region}" if region else "")}


def gpc_honoured(policy: JurisdictionPolicy, headers: dict[str, str], peer: str | None,
                 on: date = TODAY) -> bool:
    return policy.applicability(headers.get, peer, on).honour_gpc


# state, date, honoured under "required"
STATE_DATES = [
    pytest.param("CA", date(2021, 1, 1), True, id="CA 2021"),
    pytest.param("CO", date(2024, 6, 30), False, id="CO day before"),
    pytest.param("CO", date(2024, 7, 1), True, id="CO first day"),
    pytest.param("NJ", date(2025, 7, 14), False, id="NJ day before"),
    pytest.param("NJ", date(2025, 7, 15), True, id="NJ first day"),
    pytest.param("OR", date(2025, 12, 31), False, id="OR day before"),
    pytest.param("OR", TODAY, True, id="OR today"),
    pytest.param("VT", TODAY, False, id="VT not yet"),
    pytest.param("VT", date(2028, 1, 1), True, id="VT 2028"),
    pytest.param("VA", TODAY, False, id="VA no duty"),
    pytest.param("WA", TODAY, False, id="WA no comprehensive law"),
    pytest.param("LA", date(2027, 1, 1), True, id="LA unverified, fail closed"),
    pytest.param("AL", date(2027, 5, 1), True, id="AL unreviewed law in effect"),
    pytest.param("AL", TODAY, False, id="AL before its law"),
]


@pytest.mark.parametrize("kind", list(GeoHeaders))
@pytest.mark.parametrize(("state", "on", "required"), STATE_DATES)
def test_states_dates_headers_trust(kind: GeoHeaders, state: str, on: date,
                                    required: bool) -> None:
    headers = headers_for(kind, "US", state)
    exact = JurisdictionPolicy(settings(GpcScope.REQUIRED, kind))
    us = JurisdictionPolicy(settings(GpcScope.US, kind))
    everywhere = JurisdictionPolicy(JurisdictionSettings())
    # Trusted peer: the law decides under "required"; "us" honours every US state.
    assert gpc_honoured(exact, headers, CDN, on) is required
    assert gpc_honoured(us, headers, CDN, on) is True
    assert gpc_honoured(everywhere, headers, CDN, on) is True
    # Untrusted peer: the headers are not read, the location is unknown: enforced.
    assert gpc_honoured(exact, headers, STRANGER, on) is True
    lax = JurisdictionPolicy(settings(GpcScope.REQUIRED, kind, enforce_unknown=False))
    assert gpc_honoured(lax, headers, STRANGER, on) is False
    assert gpc_honoured(lax, headers, CDN, on) is required


@pytest.mark.parametrize("kind", list(GeoHeaders))
def test_abroad(kind: GeoHeaders) -> None:
    headers = headers_for(kind, "DE", "BE")
    for scope in (GpcScope.US, GpcScope.REQUIRED):
        result = JurisdictionPolicy(settings(scope, kind)).applicability(headers.get, CDN, TODAY)
        assert (result.honour_gpc, result.rule) == (False, GpcRule.OUTSIDE_US)
        assert result.jurisdiction.code == ("DE-BE" if scope is GpcScope.REQUIRED else "DE")


def test_rules_and_records() -> None:
    policy = JurisdictionPolicy(settings(GpcScope.REQUIRED))
    ca = headers_for(GeoHeaders.CLOUDFRONT, "US", "CA")
    result = policy.applicability(ca.get, CDN, TODAY)
    assert result.rule is GpcRule.STATE_REQUIRES
    assert result.jurisdiction.trusted_by is TrustBasis.TRUSTED_PROXY
    assert result.to_json() == {
        "honour_gpc": True,
        "rule": "state_requires",
        "jurisdiction": "US-CA",
        "location_status": "located",
        "trusted_by": "trusted_proxy",
        "law": shipped_law_table().states["CA"].to_json(),
        "on": "2026-12-04",
        "law_table": "2026-12-04",
    }
    rules = {
        ("US", "VT"): GpcRule.STATE_NOT_YET,
        ("US", "VA"): GpcRule.NO_STATE_DUTY,
        ("US", "WA"): GpcRule.NO_STATE_DUTY,
        ("US", "PR"): GpcRule.NO_STATE_DUTY,
        ("US", None): GpcRule.LOCATION_UNKNOWN,
        ("GB", "ENG"): GpcRule.OUTSIDE_US,
    }
    for (country, region), rule in rules.items():
        found = policy.applicability(
            headers_for(GeoHeaders.CLOUDFRONT, country, region).get, CDN, TODAY
        )
        assert found.rule is rule, (country, region)
    unknown = policy.applicability(NO_HEADERS.get, STRANGER, TODAY)
    assert unknown.to_json() == {
        "honour_gpc": True, "rule": "location_unknown", "jurisdiction": "unknown",
        "location_status": "untrusted", "trusted_by": None, "law": None, "on": None,
        "law_table": None,
    }
    absent = policy.applicability(NO_HEADERS.get, CDN, TODAY)
    assert absent.jurisdiction.location.status is LocationStatus.ABSENT
    assert absent.jurisdiction.trusted_by is TrustBasis.TRUSTED_PROXY


def test_everywhere_reads_nothing() -> None:
    policy = JurisdictionPolicy(JurisdictionSettings())

    def get(name: str) -> str | None:
        raise AssertionError(f"read {name}")

    result = policy.applicability(get, None, TODAY)
    assert (result.honour_gpc, result.rule) == (True, GpcRule.EVERYWHERE)
    assert result.jurisdiction.location.status is LocationStatus.NOT_READ
    assert not policy.reads_location and policy.vary == ()


def test_shared_secret_earns_trust_without_a_known_address() -> None:
    policy = JurisdictionPolicy(settings(GpcScope.REQUIRED, trusted_proxies=(),
                                         geo_secret_header="X-Origin-Verify", geo_secret=SECRET))
    va = headers_for(GeoHeaders.CLOUDFRONT, "US", "VA")
    assert gpc_honoured(policy, {**va, "x-origin-verify": SECRET}, None) is False
    assert gpc_honoured(policy, {**va, "x-origin-verify": "wrong-secret-of-same-size"}, None)
    assert gpc_honoured(policy, va, CDN) is True  # no proxies configured: CDN is a stranger


@pytest.mark.parametrize("row", [r for r in shipped_law_table().states.values() if r.uoom_from])
def test_as_of_on_both_sides_of_each_duty(row: Any) -> None:
    assert row.uoom_from is not None
    headers = headers_for(GeoHeaders.CLOUDFRONT, "US", row.state)
    for on, expected in ((row.uoom_from - timedelta(days=1), False), (row.uoom_from, True)):
        policy = JurisdictionPolicy(settings(GpcScope.REQUIRED, as_of=on))
        # as_of wins over the request's own date, in both directions.
        for today in (date(2000, 1, 1), date(2100, 1, 1)):
            result = policy.applicability(headers.get, CDN, today)
            assert result.honour_gpc is expected, (row.state, on)
            assert result.on == on


def test_a_policy_can_use_another_table() -> None:
    table = parse_law_table(
        'version = "t"\n[[state]]\nstate = "WA"\nlaw = "L"\ncitation = "c"\n'
        'effective = 2026-01-01\nuoom_from = 2026-06-01\nscope = ["sale"]\n'
        'confidence = "verified"\nsource = "https://example.org/"\n'
    )
    policy = JurisdictionPolicy(settings(GpcScope.REQUIRED), table)
    wa = headers_for(GeoHeaders.CLOUDFRONT, "US", "WA")
    assert policy.applicability(wa.get, CDN, date(2026, 6, 1)).law_table == "t"
    assert gpc_honoured(policy, wa, CDN, date(2026, 6, 1))
    assert not gpc_honoured(policy, headers_for(GeoHeaders.CLOUDFRONT, "US", "CA"), CDN)


SPOOF_NAMES = st.sampled_from([
    "cloudfront-viewer-country", "cloudfront-viewer-country-region", "cf-ipcountry",
    "cf-region-code", "x-vercel-ip-country", "x-vercel-ip-country-region",
    "x-client-geo-region", "x-akamai-edgescape", "x-geo", "x-origin-verify",
])
SPOOF_VALUES = st.one_of(st.sampled_from(["US", "DE", "VA", "CA", "USVA", "US-VA",
                                          "country_code=US,region_code=VA", SECRET[:-1]]),
                         st.text(max_size=20))


@given(kind=st.sampled_from(list(GeoHeaders)),
       scope=st.sampled_from([GpcScope.US, GpcScope.REQUIRED]),
       spoofed=st.dictionaries(SPOOF_NAMES, SPOOF_VALUES, max_size=6),
       peer=st.sampled_from([STRANGER, "::1", "10.0.0.5:80", "", None]))
def test_spoofed_headers_from_an_untrusted_peer_change_nothing(
    kind: GeoHeaders, scope: GpcScope, spoofed: dict[str, str], peer: str | None
) -> None:
    policy = JurisdictionPolicy(settings(scope, kind, geo_secret_header="X-Origin-Verify",
                                         geo_secret=SECRET))
    assert policy.applicability(spoofed.get, peer, TODAY) == policy.applicability(
        NO_HEADERS.get, peer, TODAY
    )


def test_vary_names_the_headers_the_page_depends_on() -> None:
    assert JurisdictionPolicy(settings(GpcScope.REQUIRED)).vary == (
        "CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Region")
    assert JurisdictionPolicy(settings(GpcScope.US)).vary == ("CloudFront-Viewer-Country",)
    assert JurisdictionPolicy(settings(GpcScope.US, GeoHeaders.CUSTOM)).vary == ("X-Geo",)
    # The secret header is never named: it does not vary the page, and its name is private.
    secret = settings(GpcScope.REQUIRED, geo_secret_header="X-Origin-Verify", geo_secret=SECRET)
    assert "X-Origin-Verify" not in JurisdictionPolicy(secret).vary
    assert JurisdictionPolicy(JurisdictionSettings()).vary == ()


def test_utc_date() -> None:
    # 2026-01-01 00:30 UTC is still New Year's Eve in Oregon: a duty starts early, never late.
    assert utc_date(1767227400.0) == date(2026, 1, 1)


def problems(**values: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        JurisdictionSettings(**values)
    return info.value.problems


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param({"gpc_scope": "eu"}, [("gpc_scope", "expected one of 'everywhere', 'us', "
                                            "'required'")], id="scope"),
        pytest.param({"gpc_scope": "us"}, [("geo_headers", "required when gpc_scope is 'us'")],
                     id="no geo headers"),
        pytest.param({"geo_headers": "fastly"}, [("geo_header",
                                                  "required with geo_headers 'fastly'")],
                     id="fastly without header"),
        pytest.param({"geo_headers": "cloudfront", "geo_header": "X-Geo"},
                     [("geo_header", "not used with geo_headers 'cloudfront'")], id="needless"),
        pytest.param({"geo_headers": "custom", "geo_header": "X Geo"},
                     [("geo_header", "expected an HTTP header name")], id="bad header name"),
        pytest.param({"geo_headers": "akamia"}, [("geo_headers", "expected one of 'cloudfront', "
                     "'cloudflare', 'vercel', 'gcp', 'akamai', 'fastly', 'custom'")], id="typo"),
        pytest.param({"trusted_proxies": "10.0.0.0/8"},
                     [("trusted_proxies", "expected a list of CIDR networks, got a string")],
                     id="bare string"),
        pytest.param({"trusted_proxies": ("10.0.0.0/8", "cdn.example")},
                     [("trusted_proxies", "'cdn.example' is not an IP address or CIDR network")],
                     id="hostname"),
        pytest.param({"trusted_proxies": (10,)},
                     [("trusted_proxies", "expected strings such as '10.0.0.0/8'")], id="int"),
        pytest.param({"gpc_scope": "required", "geo_headers": "vercel"},
                     [("trusted_proxies", "gpc_scope 'required' needs trusted_proxies or "
                       "geo_secret_header and geo_secret, or every location is unknown")],
                     id="no trust"),
        pytest.param({"enforce_unknown": "no"},
                     [("enforce_unknown", "expected a boolean, got a string")], id="bool"),
        pytest.param({"as_of": "2026-01-01"}, [("as_of", "expected a date, got a string")],
                     id="as_of string"),
        pytest.param({"geo_secret_header": "X-Origin-Verify"},
                     [("geo_secret", "geo_secret_header and geo_secret are set together")],
                     id="header without secret"),
        pytest.param({"geo_secret_header": "X-Origin-Verify", "geo_secret": 12345},
                     [("geo_secret", "expected a string, got a number")], id="secret type"),
        pytest.param({"geo_secret_header": "X:V", "geo_secret": SECRET},
                     [("geo_secret_header", "expected an HTTP header name")], id="secret header"),
    ],
)
def test_settings_errors_name_each_key(values: dict[str, Any],
                                       expected: list[tuple[str, str]]) -> None:
    assert problems(**values) == expected


@pytest.mark.parametrize("secret", ["short-secret", " " + SECRET, SECRET + "\n"])
def test_secret_problems_never_quote_the_secret(secret: str) -> None:
    found = problems(geo_secret_header="X-Origin-Verify", geo_secret=secret)
    assert [key for key, _ in found] == ["geo_secret"]
    assert secret.strip() not in str(found)
    text = str(ConfigError(found))
    assert secret.strip() not in text


def test_every_problem_at_once() -> None:
    found = problems(gpc_scope="required", geo_headers="custom", trusted_proxies="x",
                     as_of=cast(Any, 1))
    assert [key for key, _ in found] == ["geo_header", "trusted_proxies", "trusted_proxies",
                                         "as_of"]


def test_settings_normalise_strings_and_hide_the_secret() -> None:
    made = JurisdictionSettings(
        gpc_scope=cast(GpcScope, "required"), geo_headers=cast(GeoHeaders, "cloudflare"),
        trusted_proxies=cast(tuple[str, ...], ["173.245.48.0/20"]),
        geo_secret_header="X-Origin-Verify", geo_secret=SECRET, as_of=date(2027, 1, 1),
    )
    assert made.gpc_scope is GpcScope.REQUIRED and made.geo_headers is GeoHeaders.CLOUDFLARE
    assert made.trusted_proxies == ("173.245.48.0/20",)
    assert SECRET not in repr(made)
    assert replace(made, as_of=None).as_of is None


def test_repeated_requests_get_the_same_answer_object() -> None:
    policy = JurisdictionPolicy(settings(GpcScope.REQUIRED))
    ca = headers_for(GeoHeaders.CLOUDFRONT, "US", "CA")
    first = policy.applicability(ca.get, CDN, TODAY)
    assert policy.applicability(dict(ca).get, CDN, TODAY) is first
    # A new day is judged afresh.
    later = policy.applicability(ca.get, CDN, TODAY + timedelta(days=1))
    assert later is not first and later.on == TODAY + timedelta(days=1)


def test_long_header_values_are_judged_every_time() -> None:
    policy = JurisdictionPolicy(settings(GpcScope.REQUIRED, GeoHeaders.AKAMAI))
    value = "country_code=US,region_code=VA," + ",".join(f"f{i}=x" for i in range(200))
    first = policy.applicability({"x-akamai-edgescape": value}.get, CDN, TODAY)
    again = policy.applicability({"x-akamai-edgescape": value}.get, CDN, TODAY)
    assert first == again and first is not again
    assert (first.rule, first.jurisdiction.code) == (GpcRule.NO_STATE_DUTY, "US-VA")
    long_peer = "10.0.0.5" + " " * 80
    assert policy.applicability(NO_HEADERS.get, long_peer, TODAY).jurisdiction.trusted_by is (
        TrustBasis.TRUSTED_PROXY
    )
