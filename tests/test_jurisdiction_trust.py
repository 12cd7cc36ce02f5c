"""Trust in geo headers: the immediate peer in a trusted network, or the shared secret."""

from __future__ import annotations

import hmac
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optout_mw.jurisdiction import GeoTrust, TrustBasis
from optout_mw.jurisdiction.trust import parse_networks, parse_peer

SECRET = "s3cr3t-from-the-cdn-config"
NETWORKS = parse_networks(["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"])


def no_headers(name: str) -> str | None:
    return None


@pytest.mark.parametrize(
    ("peer", "expected"),
    [
        pytest.param("10.1.2.3", TrustBasis.TRUSTED_PROXY, id="inside IPv4 network"),
        pytest.param("192.0.2.7", TrustBasis.TRUSTED_PROXY, id="single address"),
        pytest.param("192.0.2.8", None, id="next address"),
        pytest.param("11.0.0.1", None, id="outside"),
        pytest.param("2001:db8::1", TrustBasis.TRUSTED_PROXY, id="inside IPv6 network"),
        pytest.param("[2001:db8::1]", TrustBasis.TRUSTED_PROXY, id="bracketed IPv6"),
        pytest.param("::ffff:10.9.9.9", TrustBasis.TRUSTED_PROXY, id="IPv4-mapped IPv6"),
        pytest.param("2001:db9::1", None, id="outside IPv6"),
        pytest.param("10.1.2.3:443", None, id="with a port"),
        pytest.param("unix:/run/app.sock", None, id="unix socket"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="no peer"),
    ],
)
def test_trusted_proxy_networks(peer: str | None, expected: TrustBasis | None) -> None:
    assert GeoTrust(NETWORKS).trusted_by(no_headers, peer) is expected


def test_scoped_link_local_peer() -> None:
    trust = GeoTrust(parse_networks(["fe80::/10"]))
    assert trust.trusted_by(no_headers, "fe80::1%eth0") is TrustBasis.TRUSTED_PROXY


def test_parse_networks_allows_host_bits_and_names_bad_values() -> None:
    assert parse_networks(["10.1.2.3/8"]) == (ipaddress.ip_network("10.0.0.0/8"),)
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33' is not an IP address or CIDR"):
        parse_networks(["10.0.0.0/33"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(SECRET, TrustBasis.SHARED_SECRET, id="match"),
        pytest.param(SECRET + "x", None, id="longer"),
        pytest.param(SECRET[:-1], None, id="shorter"),
        pytest.param(SECRET.upper(), None, id="case differs"),
        pytest.param(f"{SECRET}, {SECRET}", None, id="sent twice"),
        pytest.param("ñ" * 30, None, id="non-ASCII"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_shared_secret(value: str | None, expected: TrustBasis | None) -> None:
    trust = GeoTrust(secret_header="X-Origin-Verify", secret=SECRET)
    headers = {} if value is None else {"x-origin-verify": value}
    assert trust.trusted_by(headers.get, "203.0.113.9") is expected


def test_secret_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def compare_digest(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", compare_digest)
    trust = GeoTrust(secret_header="X-Origin-Verify", secret=SECRET)
    assert trust.trusted_by({"x-origin-verify": "guess"}.get, None) is None
    assert calls == [(b"guess", SECRET.encode())]


def test_proxy_is_tried_before_the_secret() -> None:
    trust = GeoTrust(NETWORKS, "X-Origin-Verify", SECRET)
    headers = {"x-origin-verify": SECRET}.get
    assert trust.trusted_by(headers, "10.0.0.1") is TrustBasis.TRUSTED_PROXY
    assert trust.trusted_by(headers, "203.0.113.9") is TrustBasis.SHARED_SECRET
    assert trust.trusted_by(no_headers, "203.0.113.9") is None


def test_the_secret_stays_out_of_repr() -> None:
    trust = GeoTrust(NETWORKS, "X-Origin-Verify", SECRET)
    assert SECRET not in repr(trust)
    assert repr(trust) == "GeoTrust(networks=3, secret=set)"
    assert trust.configured and not GeoTrust().configured


def test_secret_needs_both_parts() -> None:
    with pytest.raises(ValueError, match="both a header name and a value"):
        GeoTrust(secret_header="X-Origin-Verify")


@given(st.text(max_size=60))
def test_any_peer_string_is_parsed_without_raising(peer: str) -> None:
    address = parse_peer(peer)
    assert address is None or isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address)
    GeoTrust(NETWORKS).trusted_by(no_headers, peer)
