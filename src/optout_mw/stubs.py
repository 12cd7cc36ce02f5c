"""The inline script added to opted-out visitors' pages, and the CSP logic that decides
whether (and how) an inline script may be added to a page.

:class:`StubInjector` joins named parts into one ``<script>`` element. Today's part,
:class:`IabApiStubs`, defines ``__uspapi``/``__gpp`` answering from the server's decision:
vendor scripts that ask the IAB APIs (US Privacy API, GPP CMP API v1.1) get the opt-out
synchronously, before any consent tool has loaded. Plain ES5, no network access, a few
hundred bytes.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ._cache import BoundedCache
from .config import OptOutConfig
from .decision import Decision

logger = logging.getLogger("optout_mw")

#: The directives that govern an inline ``<script>`` element, most specific first
#: (CSP Level 3 §6.8.1 "Get the effective directive for inline checks").
_SCRIPT_DIRECTIVES = ("script-src-elem", "script-src", "default-src")

#: CSP ``base64-value`` (CSP3 §2.3.1): what a nonce may look like. Anything else is ignored,
#: which also guarantees the nonce can be written into an attribute unescaped.
_NONCE_VALUE = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")

_ASCII_WHITESPACE = " \t\n\f\r"

# ES5 on purpose (no arrow functions, let/const or template literals): the stub must run in
# every browser vendors' tags still support. ``__DATA__`` is replaced by a JSON object.
_USP_JS = (
    "(function(w){var D=__DATA__;"
    # IAB USP API: __uspapi(command, version, callback); the callback runs synchronously,
    # exactly once (USP API.md).
    "if(typeof w.__uspapi!=='function'){w.__uspapi=function(c,v,f){"
    "if(typeof f!=='function'){return;}"
    "if(c==='getUSPData'){f({version:1,uspString:D.usp},true);}"
    "else if(c==='ping'){f({version:1,uspapiLoaded:true},true);}"
    "else{f(null,false);}};}"
)
_GPP_JS = (
    # IAB GPP CMP API v1.1: __gpp(command, callback, parameter); generic commands answer
    # immediately (Core/CMP API Specification.md).
    "if(D.gpp&&typeof w.__gpp!=='function'){var n=0,live={},"
    "own=function(o,k){return Object.prototype.hasOwnProperty.call(o,k);},"
    "sec=function(){return JSON.parse(JSON.stringify(D.sec));},"
    "ping=function(){return {gppVersion:'1.1',cmpStatus:'loaded',cmpDisplayStatus:'disabled',"
    "signalStatus:'ready',supportedAPIs:D.apis,cmpId:0,sectionList:D.sids,"
    "applicableSections:D.sids,gppString:D.gpp,parsedSections:sec()};};"
    "w.__gpp=function(c,f,p){if(typeof f!=='function'){return;}"
    "var s=sec(),i,k,j,r=null,has=typeof p==='string'&&own(s,p);"
    "if(c==='ping'){f(ping(),true);}"
    "else if(c==='addEventListener'){n+=1;live[n]=true;"
    "f({eventName:'listenerRegistered',listenerId:n,data:true,pingData:ping()},true);"
    "f({eventName:'signalStatus',listenerId:n,data:'ready',pingData:ping()},true);}"
    "else if(c==='removeEventListener'){k=live[p]===true;if(k){delete live[p];}f(k,true);}"
    "else if(c==='hasSection'){f(has,true);}"
    "else if(c==='getSection'){f(has?s[p]:null,true);}"
    "else if(c==='getField'){i=typeof p==='string'?p.indexOf('.'):-1;"
    "if(i>0&&own(s,p.slice(0,i))){k=s[p.slice(0,i)];"
    "for(j=0;j!==k.length;j+=1){if(own(k[j],p.slice(i+1))){r=k[j][p.slice(i+1)];break;}}}"
    "f(r,true);}"
    "else{f(null,false);}};}"
)
_END_JS = "})(window);"


def parse_csp(header: str | None) -> list[dict[str, list[str]]]:
    """The policies of a ``Content-Security-Policy`` value (CSP3 §2.2.1); never raises.

    Several header fields joined with ``,`` are several policies, all enforced. Directive
    names are lower-cased; the first occurrence of a repeated directive wins.
    """
    policies: list[dict[str, list[str]]] = []
    if not header or not isinstance(header, str):
        return policies
    for serialized in header.split(","):
        policy: dict[str, list[str]] = {}
        for token in serialized.split(";"):
            parts = token.strip(_ASCII_WHITESPACE).split()
            if not parts:
                continue
            name = parts[0].lower()
            if name not in policy:
                policy[name] = parts[1:]
        if policy:
            policies.append(policy)
    return policies


def _inline_script_sources(header: str | None) -> list[list[str]]:
    """For each policy that restricts scripts: the source list governing inline scripts."""
    restricting: list[list[str]] = []
    for policy in parse_csp(header):
        for directive in _SCRIPT_DIRECTIVES:
            if directive in policy:
                restricting.append(policy[directive])
                break
    return restricting


def _nonce_of(source: str) -> str | None:
    if len(source) > 8 and source[:7].lower() == "'nonce-" and source.endswith("'"):
        value = source[7:-1]
        if _NONCE_VALUE.fullmatch(value):
            return value
    return None


def csp_nonce(header: str | None) -> str | None:
    """The nonce an inline script needs under ``header``: the first well-formed
    ``'nonce-…'`` source of the directive governing inline scripts (``script-src-elem``,
    else ``script-src``, else ``default-src``). ``None`` when there is none."""
    for sources in _inline_script_sources(header):
        for source in sources:
            nonce = _nonce_of(source)
            if nonce is not None:
                return nonce
    return None


def _allows(sources: list[str], nonce: str | None, hashes: frozenset[str]) -> bool:
    lowered = [source.lower() for source in sources]
    if nonce is not None and any(_nonce_of(source) == nonce for source in sources):
        return True
    if any(source in hashes for source in sources):
        return True
    # A nonce or hash source makes browsers ignore 'unsafe-inline' (CSP3 §6.7.3.3).
    has_nonce_or_hash = any(
        source.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for source in lowered
    )
    return "'unsafe-inline'" in lowered and not has_nonce_or_hash


def inline_script_permission(header: str | None, script_hash: str) -> tuple[bool, str | None]:
    """Whether an inline script whose ``'sha256-…'`` source is ``script_hash`` would run
    under ``header``, and the nonce to put on it. Never raises on malformed input."""
    policies = _inline_script_sources(header)
    if not policies:
        return True, None
    nonce = csp_nonce(header)
    hashes = frozenset((script_hash,))
    return all(_allows(sources, nonce, hashes) for sources in policies), nonce


def sha256_source(script: str) -> str:
    """The CSP hash source (``'sha256-…'``) of an inline script's text."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _json_for_script(value: object) -> str:
    # ``<`` never appears raw, so neither ``</script`` nor ``<!--`` can end or confuse the
    # script element (HTML "script data" state).
    return json.dumps(value, separators=(",", ":"), sort_keys=True).replace("<", "\\u003c")


class ScriptPart(Protocol):
    """One named piece of the inline script added to opted-out visitors' pages."""

    @property
    def name(self) -> str: ...

    def text(self, decision: Decision) -> str | None:
        """The JavaScript for this visitor (a complete statement, plain ES5), or ``None``
        when this part does not apply to them."""

    def texts(self) -> tuple[str, ...]:
        """Every text :meth:`text` can return, for the CSP hash sources."""


class IabApiStubs:
    """The ``__uspapi`` stub (and ``__gpp`` with ``write_gpp``) answering with the opt-out,
    for opted-out visitors. At most two variants exist (the GPP string records whether the
    visitor sends GPC); both are built here, once."""

    __slots__ = ("_by_gpc", "_gpp_encoder", "_usp")

    name = "iab-api-stubs"

    def __init__(
        self, config: OptOutConfig, gpp_encoder: Callable[[bool], tuple[str, str]] | None
    ) -> None:
        self._usp = "1" + config.us_privacy_notice + "Y" + config.us_privacy_lspa
        self._gpp_encoder = gpp_encoder
        without = self._build(False)
        #: The variant for a visitor sending GPC (index 1) or not (index 0).
        self._by_gpc = (without, self._build(True) if gpp_encoder is not None else without)

    def text(self, decision: Decision) -> str | None:
        if decision.sale_permitted:
            return None
        return self._by_gpc[decision.gpc]

    def texts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self._by_gpc))

    def _build(self, gpc: bool) -> str:
        data: dict[str, Any] = {"usp": self._usp}
        if self._gpp_encoder is not None:
            gpp, sid = self._gpp_encoder(gpc)
            data["gpp"] = gpp
            data["sids"] = [int(part) for part in sid.split(",") if part.strip().isdigit()]
            data["sec"] = _parsed_sections(gpp)
            data["apis"] = [f"{section_id}:{name}" for name, section_id in
                            _section_ids(data["sec"])]
            return _USP_JS.replace("__DATA__", _json_for_script(data)) + _GPP_JS + _END_JS
        return _USP_JS.replace("__DATA__", _json_for_script(data)) + _END_JS


@dataclass(frozen=True, slots=True)
class _Script:
    text: str
    source: str


class StubInjector:
    """The one inline ``<script>`` inserted before a page's first script, for one
    configuration: an ordered list of named parts, each with its own condition, joined
    into a single element so the page's CSP is consulted once (one nonce, one hash).

    Today's part is :class:`IabApiStubs` (with ``inject_stubs``).

    :param gpp_encoder: the GPP opt-out encoder (shared with the write-back cookies), or
        ``None`` without ``write_gpp``.
    :param parts: replaces the parts the configuration enables, in order.
    """

    __slots__ = ("_scripts", "parts")

    def __init__(
        self,
        config: OptOutConfig,
        gpp_encoder: Callable[[bool], tuple[str, str]] | None,
        *,
        parts: Sequence[ScriptPart] | None = None,
    ) -> None:
        if parts is None:
            parts = [IabApiStubs(config, gpp_encoder)] if config.inject_stubs else []
        #: The parts, in the order their code runs.
        self.parts: tuple[ScriptPart, ...] = tuple(parts)
        # One entry per combination of part texts: a handful per configuration.
        self._scripts: BoundedCache[str | tuple[str, ...], _Script] = BoundedCache(64)

    def script(self, decision: Decision, csp: str | None) -> bytes | None:
        """The ``<script>`` element for this visitor, or ``None``: no part applies, or the
        page's ``Content-Security-Policy`` would block it (no nonce, no matching hash from
        :meth:`sources`, no ``'unsafe-inline'``). Blocked, it is left out entirely, so the
        page produces no CSP violation report."""
        parts = self.parts
        if len(parts) == 1:
            # The common case, on every opted-out visitor's page: no tuple to build.
            text = parts[0].text(decision)
            if text is None:
                return None
            script = self._scripts.get(text) or self._script((text,))
        else:
            texts = tuple(text for part in parts if (text := part.text(decision)) is not None)
            if not texts:
                return None
            script = self._script(texts)
        allowed, nonce = inline_script_permission(csp, script.source)
        if not allowed:
            logger.debug("optout_mw: inline script not injected: the page's CSP blocks it")
            return None
        return script_tag(script.text, nonce)

    def sources(self) -> str:
        """The CSP source(s) allowing every script this configuration can produce, e.g.
        ``"'sha256-…'"``, to add to ``script-src`` of a site whose CSP uses neither nonces
        nor ``'unsafe-inline'``; space-separated. With ``write_gpp`` the stub has two
        variants (the GPP string records GPC), so there are two sources."""
        choices = [(*part.texts(), None) for part in self.parts]
        found: dict[str, None] = {}
        for combination in itertools.product(*choices):
            texts = tuple(text for text in combination if text is not None)
            if texts:
                found[self._script(texts).source] = None
        return " ".join(found)

    def _script(self, texts: tuple[str, ...]) -> _Script:
        # A single text is its own key, so the common case looks it up without a tuple.
        key = texts[0] if len(texts) == 1 else texts
        found = self._scripts.get(key)
        if found is None:
            text = "".join(texts)
            found = self._scripts.put(key, _Script(text, sha256_source(text)))
        return found


def _parsed_sections(gpp: str) -> dict[str, list[dict[str, Any]]]:
    """``getSection`` answers: per section, its sub-sections as spec-named field objects."""
    # Deferred: only sites that write GPP load the GPP codec.
    from .gpp import UsSection, decode_gpp

    parsed: dict[str, list[dict[str, Any]]] = {}
    for section in decode_gpp(gpp).sections:
        if isinstance(section, UsSection):
            core = {
                name: list(value) if isinstance(value, tuple) else value
                for name, value in section.spec_fields().items()
            }
            subsections: list[dict[str, Any]] = [core]
            if section.gpc is not None:
                subsections.append({"SubsectionType": 1, "Gpc": section.gpc})
            parsed[section.name] = subsections
    return parsed


def _section_ids(sections: dict[str, list[dict[str, Any]]]) -> list[tuple[str, int]]:
    # Deferred: only sites that write GPP load the GPP codec.
    from .gpp import SECTION_IDS

    return [(name, SECTION_IDS[name]) for name in sections if name in SECTION_IDS]


def script_tag(text: str, nonce: str | None) -> bytes:
    """The ``<script>`` element for ``text``; ``nonce`` is already validated by
    :func:`csp_nonce` (base64 characters only), so it needs no escaping."""
    attribute = f' nonce="{nonce}"' if nonce else ""
    return f"<script{attribute}>{text}</script>".encode()
