"""The additional Content-Security-Policy sent with opted-out visitors' HTML.

The policy is a *second* policy next to whatever the site sends: a browser enforces every
policy it receives (CSP3 §4.1), so an additional one can only take permissions away, never
loosen or replace the site's own. It allows, per fetch kind, the site's own origin and the
hosts the site configured as known-good, and nothing else:

``script-src-elem``  script elements (loaded and inline) and ``<link rel=preload as=script>``
``connect-src``      fetch, XMLHttpRequest, sendBeacon, WebSocket, EventSource
``frame-src``        iframes; ``object-src`` (``<embed>``, ``<object>``) takes the same hosts
``img-src``          images, only when ``img_hosts`` is configured (images come from many
                     places on most sites)

It never contains ``'strict-dynamic'``: that keyword trusts every script an allowed script
inserts, which is exactly what an opted-out page must not do. Inline scripts are governed
by ``inline_scripts``:

* ``allow`` (default): ``'unsafe-inline'``, so the site's own inline scripts keep running;
  the server removes tracker snippets and the guard catches injected ones.
* ``hash``: only the middleware's own inline script (by its ``'sha256-…'`` sources) and the
  ``script_hashes`` the site lists; for sites without other inline scripts.
* ``nonce``: a fresh nonce per response (or the site's own, when its policy has one) that
  the rewriter puts on every script it keeps and on the middleware's own script; such
  responses must be ``Cache-Control: private``.

Everything here is pure: settings in, header values out.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from .errors import ConfigError, describe_type, did_you_mean
from .rules import RuleSet
from .stubs import csp_nonce
from .urls import normalize_host

if TYPE_CHECKING:
    from .decision import Decision

__all__ = [
    "CspHeaders",
    "CspMode",
    "CspPolicy",
    "CspSettings",
    "InlineScripts",
    "build_policy",
    "new_nonce",
    "private_cache_control",
]

#: The key of the settings' table in configuration files and error messages.
KEY: Final = "csp"

_SCHEMES: Final = ("https", "http", "wss", "ws")
# host-source (CSP3 §2.3.1) as this policy accepts it: a scheme, a host (a leading "*."
# for subdomains), a port and a path are optional; nothing that could end a source list
# or a directive (whitespace, ";" or ",") and no quotes.
_HOST_SOURCE: Final = re.compile(
    r"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?P<wild>\*\.)?(?P<host>[^/:*\s;,'\"]+)"
    r"(?::(?P<port>[0-9]{1,5}|\*))?(?P<path>/[A-Za-z0-9._~!$&()*+=:@%/-]*)?",
    re.IGNORECASE,
)
_HASH_SOURCE: Final = re.compile(r"'sha(?:256|384|512)-[A-Za-z0-9+/_-]+={0,2}'")
_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PATH: Final = re.compile(r"/[A-Za-z0-9._~!$&'()*+=:@%/-]*")


class CspMode(StrEnum):
    """Whether the additional policy is sent, and how."""

    #: No policy.
    OFF = "off"
    #: ``Content-Security-Policy-Report-Only``: nothing is blocked, violations are reported.
    REPORT_ONLY = "report-only"
    #: ``Content-Security-Policy``: violations are blocked and reported.
    ENFORCE = "enforce"


class InlineScripts(StrEnum):
    """How the policy treats inline scripts (see the module docstring)."""

    ALLOW = "allow"
    HASH = "hash"
    NONCE = "nonce"


def _text_list(value: object, key: str, problems: list[tuple[str, str]]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        problems.append((key, f"expected a list of strings, got {describe_type(value)}"))
        return ()
    items: list[str] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            items.append(item)
        else:
            problems.append((f"{key}[{index}]", f"expected a string, got {describe_type(item)}"))
    return tuple(items)


def _host_source(raw: str, *, images: bool) -> tuple[str | None, str | None]:
    """The source expression to write for a configured host, or the problem with it."""
    value = raw.strip()
    lowered = value.lower()
    if images and lowered in ("data:", "blob:"):
        return lowered, None
    if value in ("*", "") or lowered.rstrip("/").endswith(":") or value.startswith("'"):
        return None, (
            f"expected a host such as 'cdn.example.com', 'https://*.example.com' or "
            f"'api.example.com:8443'; got {raw!r} (a wildcard, scheme or keyword would "
            f"allow every host, and 'self' is always allowed)"
        )
    m = _HOST_SOURCE.fullmatch(value)
    if m is None:
        return None, f"not a CSP host source: {raw!r}"
    scheme = (m.group("scheme") or "").lower()
    if scheme and scheme not in _SCHEMES:
        return None, f"scheme {scheme!r} of {raw!r} is not one of {', '.join(_SCHEMES)}"
    host = normalize_host(m.group("host"))
    if host is None or host.startswith("["):
        return None, f"not a hostname: {raw!r}"
    port = m.group("port")
    if port is not None and port != "*" and not 0 < int(port) < 65536:
        return None, f"port out of range in {raw!r}"
    source = (f"{scheme}://" if scheme else "") + (m.group("wild") or "") + host.rstrip(".")
    return source + (f":{port}" if port else "") + (m.group("path") or ""), None


@dataclass(frozen=True, slots=True, kw_only=True)
class CspSettings:
    """What the additional policy allows. Invalid values raise
    :class:`~optout_mw.errors.ConfigError` naming every problem at once (keys
    ``csp.<field>``, ``csp.<field>[i]`` for list items). Host lists hold CSP host sources
    (``cdn.example.com``, ``*.example.com``, ``https://api.example.com:8443``); IDN hosts
    are written in punycode. Lists may be given as any sequence; they are stored as tuples.
    """

    #: ``off``, ``report-only`` or ``enforce``.
    mode: CspMode = CspMode.OFF
    #: Known-good hosts for ``script-src-elem`` (scripts a page may load).
    script_hosts: tuple[str, ...] = ()
    #: Known-good hosts for ``connect-src`` (fetch, XHR, beacons, WebSocket, EventSource).
    connect_hosts: tuple[str, ...] = ()
    #: Known-good hosts for ``frame-src`` and ``object-src``.
    frame_hosts: tuple[str, ...] = ()
    #: Known-good hosts for ``img-src`` (``data:`` and ``blob:`` allowed here); ``None``
    #: leaves images unrestricted.
    img_hosts: tuple[str, ...] | None = None
    #: ``allow``, ``hash`` or ``nonce``: see :class:`InlineScripts`.
    inline_scripts: InlineScripts = InlineScripts.ALLOW
    #: Extra ``'sha256-…'`` sources for the site's own inline scripts (``hash`` mode).
    script_hashes: tuple[str, ...] = ()
    #: Same-origin path violation reports go to (``report-uri``); ``None`` for none.
    report_path: str | None = "/privacy/csp-report"
    #: Reporting API endpoint name (``report-to`` and ``Reporting-Endpoints``) for the same
    #: path; ``None`` sends ``report-uri`` only.
    report_group: str | None = "optout-csp"

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        try:
            mode = CspMode(self.mode)
        except ValueError:
            mode = CspMode.OFF
            problems.append((f"{KEY}.mode", f"expected one of {', '.join(CspMode)}, "
                             f"got {self.mode!r}"))
        try:
            inline = InlineScripts(self.inline_scripts)
        except ValueError:
            inline = InlineScripts.ALLOW
            problems.append((f"{KEY}.inline_scripts", f"expected one of "
                             f"{', '.join(InlineScripts)}, got {self.inline_scripts!r}"))
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "inline_scripts", inline)
        for name in ("script_hosts", "connect_hosts", "frame_hosts", "img_hosts"):
            value = getattr(self, name)
            if value is None and name == "img_hosts":
                continue
            key = f"{KEY}.{name}"
            sources: list[str] = []
            for index, raw in enumerate(_text_list(value, key, problems)):
                source, problem = _host_source(raw, images=name == "img_hosts")
                if problem is not None:
                    problems.append((f"{key}[{index}]", problem))
                elif source is not None:
                    sources.append(source)
            object.__setattr__(self, name, tuple(dict.fromkeys(sources)))
        hashes = _text_list(self.script_hashes, f"{KEY}.script_hashes", problems)
        for index, source in enumerate(hashes):
            if not _HASH_SOURCE.fullmatch(source):
                problems.append((f"{KEY}.script_hashes[{index}]",
                                 f"expected a quoted hash source like 'sha256-…', got {source!r}"))
        object.__setattr__(self, "script_hashes", hashes)
        # Typed as str, but a configuration table can hold anything.
        path: object = self.report_path
        group: object = self.report_group
        if path is not None and (
            not isinstance(path, str) or not _PATH.fullmatch(path) or path.startswith("//")
        ):
            problems.append((f"{KEY}.report_path",
                             f"expected an absolute path like '/privacy/csp-report', "
                             f"got {self.report_path!r}"))
        if group is not None and (not isinstance(group, str) or not _NAME.fullmatch(group)):
            problems.append((f"{KEY}.report_group", f"expected letters, digits, '-' and '_', "
                             f"got {self.report_group!r}"))
        if problems:
            raise ConfigError(problems)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The settings' keys, for mapping a configuration table onto them."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_mapping(cls, table: Mapping[str, object]) -> CspSettings:
        """Settings from a configuration table (``[csp]`` in TOML): lists for the host
        lists, strings for the rest; unknown keys are problems (with "did you mean")."""
        known = cls.field_names()
        problems = [(f"{KEY}.{name}", did_you_mean(name, known))
                    for name in table if name not in known]
        if problems:
            raise ConfigError(problems)
        values: dict[str, Any] = dict(table)
        for name in ("script_hosts", "connect_hosts", "frame_hosts", "img_hosts",
                     "script_hashes"):
            value = values.get(name)
            if isinstance(value, list):
                values[name] = tuple(value)
        # Each value is checked in __post_init__, whatever its type.
        return cls(**values)

    def tracker_problems(self, rules: RuleSet) -> list[tuple[str, str]]:
        """Known-good hosts that the rules count as trackers, as ``(key, message)``
        problems: the policy applies only to opted-out visitors, so it must never allow a
        host whose whole traffic the rules block. (Hosts the rules block only under a path,
        such as ``facebook.com/tr``, are left to the guard and the rewriter.)"""
        whole_hosts = [
            (host.rstrip("."), rule.name)
            for rule in rules.rules
            if not rule.path_prefixes
            for raw in rule.hosts
            if (host := normalize_host(raw.strip().removeprefix("*."))) is not None
        ]
        problems: list[tuple[str, str]] = []
        for name in ("script_hosts", "connect_hosts", "frame_hosts", "img_hosts"):
            for index, source in enumerate(getattr(self, name) or ()):
                host, wildcard = _source_host(source)
                if not host:
                    continue
                found = rules.match_host(host)
                rule = found.name if found is not None else None
                if rule is None and wildcard:
                    # "*.a.example" allows every subdomain of a.example, trackers under it too.
                    rule = next((n for h, n in whole_hosts if h.endswith("." + host)), None)
                if rule is not None:
                    problems.append((f"{KEY}.{name}[{index}]",
                                     f"{source!r} is a tracker host of rule {rule!r}; an "
                                     f"opted-out visitor's page must not reach it"))
        return problems


def _source_host(source: str) -> tuple[str, bool]:
    """The host of a stored host source and whether it had a ``*.`` wildcard (``""`` for
    ``data:`` and ``blob:``)."""
    if source.endswith(":"):
        return "", False
    rest = source.partition("://")[2] or source
    host = re.split(r"[:/]", rest, maxsplit=1)[0]
    return host.removeprefix("*."), host.startswith("*.")


def new_nonce() -> str:
    """A fresh CSP nonce: 128 random bits, base64 (CSP3 §7.1 asks for at least 128)."""
    return base64.b64encode(secrets.token_bytes(16)).decode("ascii")


def build_policy(
    settings: CspSettings,
    *,
    nonce: str | None = None,
    inline_sources: Sequence[str] = (),
) -> str:
    """The policy's serialized value.

    :param nonce: the response's nonce (``nonce`` mode; required there, ignored otherwise).
    :param inline_sources: the hash sources of the middleware's own inline script
        (``hash`` mode), e.g. ``StubInjector.sources().split()``.
    :raises ValueError: for ``nonce`` mode without a nonce.
    """
    script = ["'self'", *settings.script_hosts]
    inline = settings.inline_scripts
    if inline is InlineScripts.ALLOW:
        script.append("'unsafe-inline'")
    elif inline is InlineScripts.HASH:
        script.extend(dict.fromkeys([*inline_sources, *settings.script_hashes]))
    else:
        if not nonce:
            raise ValueError("nonce mode needs the response's nonce")
        script.append(f"'nonce-{nonce}'")
    directives: list[tuple[str, list[str]]] = [
        ("script-src-elem", script),
        ("connect-src", ["'self'", *settings.connect_hosts]),
        ("frame-src", ["'self'", *settings.frame_hosts]),
        ("object-src", ["'self'", *settings.frame_hosts]),
    ]
    if settings.img_hosts is not None:
        directives.append(("img-src", ["'self'", *settings.img_hosts]))
    if inline is InlineScripts.NONCE:
        # A nonce is worth little if an injected <base> can point relative script URLs
        # at another host.
        directives.append(("base-uri", ["'self'"]))
    if settings.report_path is not None:
        directives.append(("report-uri", [settings.report_path]))
        if settings.report_group is not None:
            directives.append(("report-to", [settings.report_group]))
    return "; ".join(" ".join([name, *sources]) for name, sources in directives)


def private_cache_control(existing: str | None) -> str:
    """``Cache-Control`` for a response carrying a per-response nonce: ``private`` (no
    shared cache may reuse its nonce), without ``public`` or ``s-maxage``; the site's
    other directives are kept."""
    kept = []
    for part in (existing or "").split(","):
        directive = part.strip()
        name = directive.split("=", 1)[0].strip().lower()
        if directive and name not in ("public", "s-maxage", "private"):
            kept.append(directive)
    return ", ".join(["private", *kept])


@dataclass(frozen=True, slots=True)
class CspHeaders:
    """What the enforcer adds to one opted-out visitor's HTML response."""

    #: Header fields to *append* (never replacing the site's own policy).
    headers: tuple[tuple[str, str], ...]
    #: The policy value itself.
    policy: str
    #: ``True`` for ``Content-Security-Policy``, ``False`` for the report-only header.
    enforced: bool
    #: The nonce every kept script and the middleware's own script must carry (``nonce``
    #: mode), else ``None``.
    nonce: str | None

    def cache_control(self, existing: str | None) -> str | None:
        """The ``Cache-Control`` to set instead of ``existing``, or ``None`` to leave it."""
        return private_cache_control(existing) if self.nonce is not None else None

    def effective_csp(self, site_csp: str | None) -> str | None:
        """The enforced policies the page will run under (the site's and, when enforced,
        this one), to decide whether and with which nonce an inline script may be added."""
        parts = [site_csp] if site_csp else []
        if self.enforced:
            parts.append(self.policy)
        return ", ".join(parts) or None


class CspPolicy:
    """The additional policy of one configuration, built once.

    :param inline_sources: the hash sources of the middleware's own inline script (the
        injector's ``sources()``), for ``hash`` mode.
    """

    __slots__ = ("_static", "inline_sources", "settings")

    def __init__(self, settings: CspSettings, *, inline_sources: Sequence[str] = ()) -> None:
        self.settings = settings
        self.inline_sources = tuple(inline_sources)
        self._static: CspHeaders | None = None
        if settings.mode is not CspMode.OFF and settings.inline_scripts is not InlineScripts.NONCE:
            self._static = self._headers(build_policy(settings, inline_sources=inline_sources),
                                         None)

    def _headers(self, policy: str, nonce: str | None) -> CspHeaders:
        enforced = self.settings.mode is CspMode.ENFORCE
        name = "Content-Security-Policy" if enforced else "Content-Security-Policy-Report-Only"
        headers = [(name, policy)]
        if self.settings.report_path is not None and self.settings.report_group is not None:
            # A Dictionary structured field: a second field line adds members (RFC 8941
            # §3.2, RFC 9110 §5.3), so the site's own endpoints are kept.
            headers.append(("Reporting-Endpoints",
                            f'{self.settings.report_group}="{self.settings.report_path}"'))
        return CspHeaders(tuple(headers), policy, enforced, nonce)

    def for_response(self, decision: Decision, site_csp: str | None = None) -> CspHeaders | None:
        """The headers for one HTML response the middleware handles, or ``None``: the
        policy is off, or the visitor did not opt out. ``site_csp`` is the response's own
        ``Content-Security-Policy`` (its nonce is reused in ``nonce`` mode, so scripts
        the site already marked keep running)."""
        if self.settings.mode is CspMode.OFF or decision.sale_permitted:
            return None
        if self._static is not None:
            return self._static
        nonce = csp_nonce(site_csp) or new_nonce()
        return self._headers(build_policy(self.settings, nonce=nonce), nonce)
