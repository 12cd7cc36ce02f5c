"""Whether a request's geolocation headers may be believed.

Anyone can send ``CF-IPCountry: DE``; only the CDN in front of the application should be
believed. Geo headers are trusted when the immediate peer (the TCP client the server saw,
not anything from ``X-Forwarded-For``) is inside a configured trusted-proxy network, or
when a configured shared-secret header matches, compared in constant time. Otherwise the
location is unknown. Nothing here raises on a malformed peer address or header value.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from enum import StrEnum

from optout_mw._cache import BoundedCache
from optout_mw.jurisdiction.geo import HeaderGetter

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TrustBasis(StrEnum):
    #: The immediate peer is in ``trusted_proxies``.
    TRUSTED_PROXY = "trusted_proxy"
    #: The request carried the ``geo_secret_header`` with the right value.
    SHARED_SECRET = "shared_secret"


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDR strings as networks (host bits allowed, ``10.0.0.1/8`` means ``10.0.0.0/8``).

    :raises ValueError: naming the first value that is not an address or network.
    """
    networks: list[IPNetwork] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or CIDR network") from None
    return tuple(networks)


def parse_peer(peer: str | None) -> IPAddress | None:
    """The peer address the server reported, or ``None`` when it is not an IP address
    (a Unix socket, a missing ``REMOTE_ADDR``, a value with a port)."""
    if not peer:
        return None
    text = peer.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; match them as IPv4.
        return address.ipv4_mapped
    return address


class GeoTrust:
    """The configured ways a request can earn trust in its geo headers."""

    __slots__ = ("_networks", "_peers", "_secret", "_secret_header")

    def __init__(
        self,
        networks: Iterable[IPNetwork] = (),
        secret_header: str | None = None,
        secret: str | None = None,
    ) -> None:
        self._networks = tuple(networks)
        # Peers repeat (a CDN reaches the origin from a few hundred addresses) and parsing
        # an address costs more than the rest of the policy: remember each verdict.
        self._peers: BoundedCache[str, bool] = BoundedCache(1024)
        if (secret_header is None) != (secret is None):
            raise ValueError("a shared secret needs both a header name and a value")
        self._secret_header = secret_header.lower() if secret_header else None
        self._secret = _as_bytes(secret) if secret is not None else None

    def __repr__(self) -> str:
        # The secret stays out of reprs, logs and tracebacks.
        secret = "set" if self._secret is not None else "unset"
        return f"GeoTrust(networks={len(self._networks)}, secret={secret})"

    @property
    def configured(self) -> bool:
        return bool(self._networks) or self._secret is not None

    def trusted_by(self, get: HeaderGetter, peer: str | None) -> TrustBasis | None:
        """Why this request's geo headers may be believed, or ``None``."""
        if self._networks and peer:
            inside = self._peers.get(peer)
            if inside is None:
                address = parse_peer(peer)
                inside = address is not None and any(address in net for net in self._networks)
                if len(peer) <= _LONGEST_ADDRESS:
                    self._peers.put(peer, inside)
            if inside:
                return TrustBasis.TRUSTED_PROXY
        if self._secret is not None and self._secret_header is not None:
            value = get(self._secret_header)
            if value is not None and hmac.compare_digest(_as_bytes(value), self._secret):
                return TrustBasis.SHARED_SECRET
        return None


# An IPv6 address with a zone id is at most ~60 characters; longer strings are not cached.
_LONGEST_ADDRESS = 64


def _as_bytes(value: str) -> bytes:
    # compare_digest on str accepts only ASCII; header values are latin-1 text.
    return value.encode("utf-8", "surrogateescape")
