"""``JurisdictionSettings``: the validated configuration of where GPC is honoured."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from optout_mw.errors import ConfigError, describe_type
from optout_mw.jurisdiction.geo import GeoHeaders
from optout_mw.jurisdiction.trust import parse_networks


class GpcScope(StrEnum):
    """Where Global Privacy Control opts a visitor out."""

    #: Everywhere, whatever the location (no geo header is read).
    EVERYWHERE = "everywhere"
    #: Visitors located in the United States (outlying areas included), and unknown ones
    #: unless ``enforce_unknown`` is off.
    US = "us"
    #: Where a state law in the shipped table requires it on the day, and unknown
    #: locations unless ``enforce_unknown`` is off.
    REQUIRED = "required"

# RFC 9110 §5.6.2 token: the characters a header name may use.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A shared secret shorter than this is guessable by anyone who can reach the origin.
MIN_SECRET_LENGTH = 16


@dataclass(frozen=True, slots=True)
class JurisdictionSettings:
    """Where Global Privacy Control opts a visitor out.

    Only GPC is gated: the site's own choice, GPP, US Privacy, CMP cookies and account
    state apply wherever the visitor is.

    :param gpc_scope: ``"everywhere"`` (the default, and what most sites do: no geo
        headers are read), ``"us"`` (visitors located in the United States), or
        ``"required"`` (where a state law in the shipped table requires it on the day).
    :param enforce_unknown: honour GPC when the location is unknown (no header, a
        malformed value, an untrusted peer). On by default: fail closed on privacy.
    :param geo_headers: which provider's headers say where the visitor is; required
        unless ``gpc_scope`` is ``"everywhere"``.
    :param geo_header: the header name for ``"fastly"`` and ``"custom"`` (required) and
        ``"gcp"`` (default ``X-Client-Geo-Region``).
    :param trusted_proxies: CIDR networks whose connections may carry geo headers.
    :param geo_secret_header: a header the CDN adds with :paramref:`geo_secret`, for
        origins that cannot list the CDN's addresses.
    :param geo_secret: the shared secret; never shown in messages or reprs.
    :param as_of: judge the law on this date instead of the request's (tests, audits,
        rehearsing a coming duty).
    """

    gpc_scope: GpcScope = GpcScope.EVERYWHERE
    enforce_unknown: bool = True
    geo_headers: GeoHeaders | None = None
    geo_header: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    geo_secret_header: str | None = None
    geo_secret: str | None = field(default=None, repr=False)
    as_of: date | None = None

    def __post_init__(self) -> None:
        problems = _check(self)
        if problems:
            raise ConfigError(problems)
        # Normalise the enums given as plain strings ("us", "cloudfront").
        object.__setattr__(self, "gpc_scope", GpcScope(self.gpc_scope))
        if self.geo_headers is not None:
            object.__setattr__(self, "geo_headers", GeoHeaders(self.geo_headers))
        object.__setattr__(self, "trusted_proxies", tuple(self.trusted_proxies))


def _choices(enum: type[GpcScope] | type[GeoHeaders]) -> str:
    return ", ".join(repr(str(member)) for member in enum)


def _check(settings: JurisdictionSettings) -> list[tuple[str, str]]:
    # Values arrive from configuration files as well as from typed code, so each is
    # checked as an object, whatever its annotation says.
    problems: list[tuple[str, str]] = []
    scope: object = settings.gpc_scope
    if not isinstance(scope, str) or scope not in _SCOPES:
        problems.append(("gpc_scope", f"expected one of {_choices(GpcScope)}"))
    enforce_unknown: object = settings.enforce_unknown
    if not isinstance(enforce_unknown, bool):
        found = describe_type(enforce_unknown)
        problems.append(("enforce_unknown", f"expected a boolean, got {found}"))
    kind: object = settings.geo_headers
    if kind is not None and (not isinstance(kind, str) or kind not in _KINDS):
        problems.append(("geo_headers", f"expected one of {_choices(GeoHeaders)}"))
        kind = None
    elif kind is None and scope in (GpcScope.US, GpcScope.REQUIRED):
        problems.append(("geo_headers", f"required when gpc_scope is {str(scope)!r}"))
    header: object = settings.geo_header
    if header is not None:
        if not isinstance(header, str) or not _TOKEN.fullmatch(header):
            problems.append(("geo_header", "expected an HTTP header name"))
        elif kind is not None and kind not in _NAMED:
            problems.append(("geo_header", f"not used with geo_headers {str(kind)!r}"))
    elif kind in (GeoHeaders.FASTLY, GeoHeaders.CUSTOM):
        problems.append(("geo_header", f"required with geo_headers {str(kind)!r}"))
    proxies: object = settings.trusted_proxies
    if isinstance(proxies, str) or not isinstance(proxies, tuple | list):
        problems.append(
            ("trusted_proxies", f"expected a list of CIDR networks, got {describe_type(proxies)}")
        )
        proxies = ()
    elif not all(isinstance(item, str) for item in proxies):
        problems.append(("trusted_proxies", "expected strings such as '10.0.0.0/8'"))
        proxies = ()
    else:
        try:
            parse_networks(proxies)
        except ValueError as exc:
            problems.append(("trusted_proxies", str(exc)))
    problems += _check_secret(settings)
    has_trust = bool(proxies) or settings.geo_secret is not None
    if scope in (GpcScope.US, GpcScope.REQUIRED) and kind is not None and not has_trust:
        problems.append(
            (
                "trusted_proxies",
                f"gpc_scope {str(scope)!r} needs trusted_proxies or geo_secret_header and "
                "geo_secret, or every location is unknown",
            )
        )
    as_of: object = settings.as_of
    if as_of is not None and (not isinstance(as_of, date) or isinstance(as_of, datetime)):
        problems.append(("as_of", f"expected a date, got {describe_type(as_of)}"))
    return problems


def _check_secret(settings: JurisdictionSettings) -> list[tuple[str, str]]:
    # Messages describe the secret, never quote it.
    header: object = settings.geo_secret_header
    secret: object = settings.geo_secret
    problems: list[tuple[str, str]] = []
    if header is not None and (not isinstance(header, str) or not _TOKEN.fullmatch(header)):
        problems.append(("geo_secret_header", "expected an HTTP header name"))
    if secret is not None:
        if not isinstance(secret, str):
            problems.append(("geo_secret", f"expected a string, got {describe_type(secret)}"))
        elif len(secret) < MIN_SECRET_LENGTH:
            problems.append(("geo_secret", f"must be at least {MIN_SECRET_LENGTH} characters"))
        elif not secret.isprintable() or secret != secret.strip():
            problems.append(
                ("geo_secret", "must be printable, without surrounding spaces (a header value)")
            )
    if (header is None) != (secret is None):
        missing = "geo_secret" if secret is None else "geo_secret_header"
        problems.append((missing, "geo_secret_header and geo_secret are set together"))
    return problems


_NAMED = frozenset({GeoHeaders.GCP, GeoHeaders.FASTLY, GeoHeaders.CUSTOM})
_SCOPES = frozenset(str(member) for member in GpcScope)
_KINDS = frozenset(str(member) for member in GeoHeaders)
