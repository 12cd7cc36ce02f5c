"""Inline ``__uspapi``/``__gpp`` stubs answering from the server's decision, and the CSP
logic that decides whether (and how) an inline script may be added to a page.

The stubs are for opted-out visitors only: vendor scripts that ask the IAB APIs
(US Privacy API, GPP CMP API v1.1) get the opt-out synchronously, before any consent tool
has loaded. Plain ES5, no network access, a few hundred bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .config import OptOutConfig
from .errors import ConfigError

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


@dataclass(frozen=True, slots=True)
class _Variant:
    text: str
    source: str


def _json_for_script(value: object) -> str:
    # ``<`` never appears raw, so neither ``</script`` nor ``<!--`` can end or confuse the
    # script element (HTML "script data" state).
    return json.dumps(value, separators=(",", ":"), sort_keys=True).replace("<", "\\u003c")


class StubBuilder:
    """Builds the stub script for one configuration; at most two variants exist (the GPP
    string records whether the visitor sends GPC), each built once."""

    __slots__ = ("_gpp_encoder", "_usp", "_variants", "_with_gpp")

    def __init__(
        self,
        config: OptOutConfig,
        gpp_encoder: Callable[[bool], tuple[str, str]] | None,
    ) -> None:
        self._usp = "1" + config.us_privacy_notice + "Y" + config.us_privacy_lspa
        self._with_gpp = gpp_encoder is not None
        self._gpp_encoder = gpp_encoder
        self._variants: dict[bool, _Variant] = {}

    def variant(self, gpc: bool) -> _Variant:
        key = gpc if self._with_gpp else False
        found = self._variants.get(key)
        if found is None:
            text = self._build(key)
            found = self._variants[key] = _Variant(text, sha256_source(text))
        return found

    def sources(self) -> tuple[str, ...]:
        """The hash source of every variant this configuration can produce."""
        keys = (False, True) if self._with_gpp else (False,)
        return tuple(self.variant(key).source for key in keys)

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


def _parsed_sections(gpp: str) -> dict[str, list[dict[str, Any]]]:
    """``getSection`` answers: per section, its sub-sections as spec-named field objects."""
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
    from .gpp import SECTION_IDS

    return [(name, SECTION_IDS[name]) for name in sections if name in SECTION_IDS]


def load_gpp_encoder() -> Callable[[bool], tuple[str, str]]:
    """``gpc -> (gpp_string, gpp_sid)`` for an opted-out visitor, from :mod:`optout_mw.gpp`.

    :raises ConfigError: when the GPP codec cannot be imported.
    """
    try:
        from .gpp import encode_opt_out_gpp
    except ImportError as error:  # pragma: no cover - the codec ships with the package
        raise ConfigError(
            [("write_gpp", f"the GPP codec (optout_mw.gpp) is not available: {error}")]
        ) from error

    def encode(gpc: bool) -> tuple[str, str]:
        return encode_opt_out_gpp(gpc=gpc, sections=("usnat",))

    return encode


def script_tag(text: str, nonce: str | None) -> bytes:
    """The ``<script>`` element for ``text``; ``nonce`` is already validated by
    :func:`csp_nonce` (base64 characters only), so it needs no escaping."""
    attribute = f' nonce="{nonce}"' if nonce else ""
    return f"<script{attribute}>{text}</script>".encode()
