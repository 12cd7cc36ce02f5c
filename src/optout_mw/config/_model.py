"""``OptOutConfig``: the one validated, immutable configuration object.

Every way of configuring optout-mw (keyword arguments, a TOML file, environment variables,
Flask's ``app.config``) ends up here, and one validation pass in ``__post_init__`` checks
every field, the secrets and the preset names together, so an operator sees every problem
at once. Each field carries its own check and its reference text (:func:`.setting`).
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from optout_mw._cache import BoundedCache
from optout_mw.errors import ConfigError
from optout_mw.presets import build_ruleset
from optout_mw.rules import Action, Rule, RuleSet

from ._fields import INVALID, FieldKind, coerce, setting, setting_of

__all__ = ["MAX_COOKIE_AGE", "Mode", "OptOutConfig", "development_config"]

#: Browsers cap cookie lifetimes at 400 days (RFC 6265bis §5.5, Chrome since M104).
MAX_COOKIE_AGE: Final = 400 * 24 * 3600


class Mode(StrEnum):
    """What the middleware does for opted-out visitors."""

    #: Rewrite HTML responses: strip or block tracker tags.
    ENFORCE = "enforce"
    #: Detect and log what would be removed; change no byte of any response.
    REPORT = "report"
    #: Change no response at all (the decision is still stored for application code).
    OFF = "off"


# What each field's __init__ parameter accepts versus what the attribute holds: the
# documented calls (secret_keys=[...], mode="report") type-check, and readers still see
# tuple[str, ...] and Mode. See _fields.Accepts.
if TYPE_CHECKING:
    from ._fields import Accepts

    _ModeField = Accepts[Mode | str, Mode]
    _ActionField = Accepts[Action | str | None, Action | None]
    _Strings = Accepts[Sequence[str], tuple[str, ...]]
    _Rules = Accepts[Sequence[Rule | Mapping[str, object]], tuple[Rule, ...]]
    _FilePath = Accepts[str | os.PathLike[str] | None, str | None]
    _Date = Accepts[str | datetime.date | None, str | None]
else:
    _ModeField = Mode
    _ActionField = Action | None
    _Strings = tuple[str, ...]
    _Rules = tuple[Rule, ...]
    _FilePath = str | None
    _Date = str | None

ChoiceCallback = Callable[[Any], object]


# --- the checks each field names -----------------------------------------------------------

_COOKIE_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token
_ATTR_PREFIX: Final = re.compile(r"[a-z][a-z0-9-]*-")
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Shorter keys are guessable; itsdangerous signs with HMAC-SHA1 over the key.
MIN_SECRET_LENGTH: Final = 16


def _secret_key(key: str) -> str | None:
    # Never show the key: these messages reach logs and `optout-mw check` output.
    if not key:
        return "expected a non-empty string"
    if len(key) < MIN_SECRET_LENGTH:
        return f"too short: use at least {MIN_SECRET_LENGTH} characters"
    return None


def _cookie_name(name: str) -> str | None:
    return None if _COOKIE_NAME.fullmatch(name) else f"not a valid cookie name: {name!r}"


def _seconds_of_cookie_life(age: int) -> str | None:
    if 0 < age <= MAX_COOKIE_AGE:
        return None
    return (f"expected seconds between 1 and {MAX_COOKIE_AGE} (browsers cap cookies at 400 "
            f"days), got {age!r}")


def _path(path: str) -> str | None:
    return None if path.startswith("/") else f"expected a path starting with '/', got {path!r}"


def _path_or_off(path: str) -> str | None:
    if not path or path.startswith("/"):
        return None
    return f"expected a path starting with '/' or '' (off), got {path!r}"


def _attr_prefix(prefix: str) -> str | None:
    if _ATTR_PREFIX.fullmatch(prefix):
        return None
    return ("expected lowercase letters, digits and dashes ending in '-', like "
            f"'data-optout-'; got {prefix!r}")


def _at_least_1024(size: int) -> str | None:
    return None if size >= 1024 else f"expected bytes >= 1024, got {size!r}"


def _form_size(size: int) -> str | None:
    if 256 <= size <= 1 << 20:
        return None
    return f"expected bytes between 256 and 1048576, got {size!r}"


def _date(text: str) -> str | None:
    try:
        if _DATE.fullmatch(text):
            datetime.date.fromisoformat(text)
            return None
    except ValueError:
        pass
    return f"expected a date YYYY-MM-DD, got {text!r}"


def _usp_character(char: str) -> str | None:
    return None if char in ("Y", "N", "-") else f"expected 'Y', 'N' or '-', got {char!r}"


def _name(name: str) -> str | None:
    return None if name else "expected a name, got an empty string"


def _iso_date(value: object) -> object:
    # TOML reads a bare 2025-01-31 as a date; the field holds its ISO text.
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def _file_path(value: object) -> object:
    return os.fspath(value) if isinstance(value, os.PathLike) else value


_BOOL, _INT, _STR = FieldKind.BOOL, FieldKind.INT, FieldKind.STR
_OPTIONAL_STR, _LIST = FieldKind.OPTIONAL_STR, FieldKind.STR_LIST


@dataclass(frozen=True, slots=True, kw_only=True)
class OptOutConfig:
    """Validated configuration. Invalid values raise :class:`~optout_mw.errors.ConfigError`
    naming every offending field at once.

    Lists may be given as any sequence of strings and are held as tuples; ``mode`` and
    ``action`` may be given as their string values.

    .. versionchanged:: 0.2
        ``__init__`` accepts sequences, strings for ``mode``/``action``, rule tables
        (dicts) in ``rules``, a path object for ``optout_page_template`` and a date for
        ``gpc_json_last_update``; unknown presets and a missing secret are reported
        together with every other problem.
    """

    mode: _ModeField = setting(
        Mode.ENFORCE, _STR, "`enforce`, `report` or `off`.", choices=Mode
    )
    secret_keys: _Strings = setting(
        (), _LIST,
        "Secrets for the signed choice cookie, oldest to newest: the newest signs, all "
        "verify, so keys can be rotated. Required while `read_site_cookie` is on; there is "
        "no random per-process fallback because it would break multi-worker deployments.",
        check=_secret_key, secret=True,
    )

    # --- which signals are read -------------------------------------------------------
    read_gpc: bool = setting(
        True, _BOOL, "The `Sec-GPC` request header (Global Privacy Control)."
    )
    read_site_cookie: bool = setting(
        True, _BOOL, "The site's own signed choice cookie, set by the opt-out page."
    )
    read_us_privacy: bool = setting(
        True, _BOOL,
        "The IAB US Privacy string cookie (legacy, deprecated by IAB in 2024, still written).",
    )
    read_gpp: bool = setting(True, _BOOL, "The IAB GPP string cookies.")
    strict: bool = setting(
        False, _BOOL,
        "Treat malformed or undecodable cookie signals as an opt-out (fail closed).",
    )

    # --- cookie names -------------------------------------------------------------------
    choice_cookie_name: str = setting(
        "optout_choice", _STR, "Name of the site's signed choice cookie.", check=_cookie_name
    )
    choice_cookie_max_age: int = setting(
        MAX_COOKIE_AGE, _INT,
        "Lifetime of the choice cookie in seconds; refreshed on visits, at most 400 days.",
        check=_seconds_of_cookie_life,
    )
    cookie_secure: bool = setting(
        True, _BOOL, "Send cookies with `Secure`. Turn off only for plain-HTTP development."
    )
    us_privacy_cookie: str = setting(
        "usprivacy", _STR, "Name of the cookie holding the IAB US Privacy string.",
        check=_cookie_name,
    )
    gpp_cookie: str = setting(
        "__gpp", _STR,
        "GPP has no standard cookie; `__gpp`/`__gpp_sid` are a common convention.",
        check=_cookie_name,
    )
    gpp_sid_cookie: str = setting(
        "__gpp_sid", _STR,
        "Name of the cookie holding the GPP section ids (`__gpp_sid` by convention).",
        check=_cookie_name,
    )

    # --- enforcement --------------------------------------------------------------------
    presets: _Strings = setting(
        (), _LIST,
        "Preset vendor rules enabled by name (see docs/rules.md); `all` enables the catalog.",
        check=_name,
    )
    rules: _Rules = setting(
        (), FieldKind.RULES,
        "The site's own rules: `Rule` objects, or tables with the keys of docs/rules.md.",
    )
    disabled_rules: _Strings = setting(
        (), _LIST, "Rule or preset names switched off.", check=_name
    )
    action: _ActionField = setting(
        None, _OPTIONAL_STR, "Overrides every rule's action when set.", choices=Action
    )
    block_attr_prefix: str = setting(
        "data-optout-", _STR, "Prefix for attributes renamed by the `block` action.",
        check=_attr_prefix,
    )
    include_paths: _Strings = setting(
        (), _LIST,
        "Only paths starting with one of these are rewritten (empty: every path).",
        check=_path,
    )
    exclude_paths: _Strings = setting(
        (), _LIST, "Paths starting with one of these are never rewritten.", check=_path
    )
    max_pending: int = setting(
        1 << 20, _INT,
        "Largest construct (an unfinished tag, an inline script being judged) held in "
        "memory; beyond it the construct passes through unchanged with a logged reason.",
        check=_at_least_1024,
    )
    refuse_unrewritable: bool = setting(
        False, _BOOL,
        "Refuse (`502`) instead of passing through an HTML response that should be "
        "rewritten but cannot be (unknown encoding, unsupported charset).",
    )

    # --- the opt-out surface (pages and endpoints served by the middleware) ------------
    optout_page_path: str = setting(
        "/privacy/opt-out", _STR,
        'The "Do Not Sell or Share My Personal Information" page and its POST handlers; '
        '`""` switches it off.',
        check=_path_or_off,
    )
    optout_page_template: _FilePath = setting(
        None, _OPTIONAL_STR,
        "A file replacing the built-in page template (see docs/endpoints.md for variables).",
        convert=_file_path,
    )
    status_path: str = setting(
        "/privacy/status.json", _STR,
        'JSON status of the decision for client-side code; `""` switches it off.',
        check=_path_or_off,
    )
    serve_gpc_json: bool = setting(
        True, _BOOL, "Serve `/.well-known/gpc.json` stating that the site honours GPC."
    )
    gpc_json_last_update: _Date = setting(
        None, _OPTIONAL_STR,
        "The `lastUpdate` date (`YYYY-MM-DD`) of `gpc.json`; omitted when unset.",
        check=_date, convert=_iso_date,
    )
    max_form_bytes: int = setting(
        8192, _INT, "Largest form body accepted by the POST handlers, in bytes.",
        check=_form_size,
    )

    # --- writing the choice back for downstream vendors ---------------------------------
    write_us_privacy: bool = setting(
        False, _BOOL, "Set the `usprivacy` cookie on opt-out and for visitors sending GPC."
    )
    us_privacy_notice: str = setting(
        "Y", _STR,
        "Second character of the written US Privacy string: notice given (`Y`/`N`/`-`).",
        check=_usp_character,
    )
    us_privacy_lspa: str = setting(
        "N", _STR,
        "Fourth character: covered by the IAB Limited Service Provider Agreement.",
        check=_usp_character,
    )
    write_gpp: bool = setting(
        False, _BOOL,
        "Set the GPP cookies (`gpp_cookie`/`gpp_sid_cookie`) on opt-out and with GPC.",
    )
    inject_stubs: bool = setting(
        False, _BOOL,
        "Inject a tiny inline `__uspapi`/`__gpp` stub before the first script of opted-out "
        "visitors' pages, answering from the server's decision.",
    )
    on_choice: ChoiceCallback | None = setting(
        None, FieldKind.PYTHON,
        "Called with every `ChoiceEvent` (opt-out, opt-in).",
        compare=False,
    )

    def __post_init__(self) -> None:
        # The one validation pass. Values may come from untyped sources (TOML, the
        # environment, app.config), so every field is checked whatever its annotation says;
        # the checks that span fields then run on the fields that passed, so no problem
        # waits for another to be fixed.
        problems: list[tuple[str, str]] = []
        valid: set[str] = set()
        for f in fields(self):
            value = coerce(f.name, setting_of(f), getattr(self, f.name), problems)
            if value is not INVALID:
                object.__setattr__(self, f.name, value)
                valid.add(f.name)
        problems.extend(self._problems_across_fields(valid))
        if problems:
            raise ConfigError(problems)

    def _problems_across_fields(self, valid: set[str]) -> list[tuple[str, str]]:
        """The checks that need several fields, on the fields that passed their own."""
        problems: list[tuple[str, str]] = []
        if {"read_site_cookie", "secret_keys"} <= valid and (
            self.read_site_cookie and not self.secret_keys
        ):
            problems.append(
                ("secret_keys", "required while read_site_cookie is on (the choice cookie is "
                 "signed); set OPTOUT_SECRET_KEYS or pass secret_keys=[...]")
            )
        try:
            # Unknown presets fail here, at construction, rather than mid-request.
            if {"presets", "rules", "disabled_rules", "action"} <= valid:
                compiled_ruleset(self)
            elif "presets" in valid:
                # The site's rules are broken (and reported): the presets can still be.
                _build(self.presets, (), (), None)
        except ConfigError as error:
            problems.extend(error.problems)
        return problems

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if setting_of(f).secret:
                parts.append(f"{f.name}=<{len(value)} redacted>")
            else:
                parts.append(f"{f.name}={value!r}")
        return f"OptOutConfig({', '.join(parts)})"

    @property
    def ruleset(self) -> RuleSet:
        """The compiled rules: the enabled presets plus the site's own rules.

        Built once per distinct rule configuration and shared, so a reload that changes
        only, say, ``mode`` keeps the warm caches of the rule set in force.
        """
        return compiled_ruleset(self)

    @property
    def reads_cookies(self) -> bool:
        return self.read_site_cookie or self.read_us_privacy or self.read_gpp

    @property
    def vary(self) -> tuple[str, ...]:
        """Request headers an HTML response depends on, for the ``Vary`` header."""
        names: list[str] = []
        if self.read_gpc:
            names.append("Sec-GPC")
        if self.reads_cookies:
            names.append("Cookie")
        return tuple(names)

    def warnings(self) -> tuple[str, ...]:
        """Configurations that are valid but almost certainly not what was meant.

        Each is one sentence that names the fields involved and what to change.
        ``optout-mw check`` prints them, and fails with ``--strict``.
        """
        found: list[str] = []
        if self.mode is not Mode.OFF and not self.ruleset:
            if self.inject_stubs and self.mode is Mode.ENFORCE:
                effect = ("no tracker is removed from opted-out visitors' pages (only the "
                          "stubs are injected)")
            else:
                effect = "opted-out visitors' pages are not changed"
            found.append(f"no rules are enabled: {effect}; enable presets or add rules")
        if self.optout_page_path and not (
            self.read_site_cookie or self.write_us_privacy or self.write_gpp
        ):
            found.append(
                "the opt-out page cannot record a choice: read_site_cookie is off and neither "
                "write_us_privacy nor write_gpp is on; turn one of them on, or set "
                'optout_page_path = "" to switch the page off'
            )
        return tuple(found)

    def replace(self, **changes: Any) -> OptOutConfig:
        """A copy with ``changes`` applied and validated."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return OptOutConfig(**values)


# --- the compiled rule set ---------------------------------------------------------------

_RuleKey = tuple[tuple[str, ...], tuple[tuple[Rule, str], ...], tuple[str, ...], Action | None]

#: Rule sets by what they are built from. Shared, so equal configurations (a reload that
#: changes another field, a test's copies) reuse one rule set and its caches. Few distinct
#: rule configurations live in a process; the bound only guards against a loop of them.
_RULESETS: Final[BoundedCache[_RuleKey, RuleSet]] = BoundedCache(16)


def _build(
    presets: tuple[str, ...], rules: tuple[Rule, ...], disabled: tuple[str, ...],
    action: Action | None,
) -> RuleSet:
    # Descriptions are not part of a rule's equality but are shown in findings, so they
    # are part of the key.
    key = (presets, tuple((rule, rule.description) for rule in rules), disabled, action)
    ruleset = _RULESETS.get(key)
    if ruleset is None:
        ruleset = _RULESETS.put(
            key, build_ruleset(presets=presets, rules=rules, disabled=disabled, action=action)
        )
    return ruleset


def compiled_ruleset(config: OptOutConfig) -> RuleSet:
    """The :class:`~optout_mw.rules.RuleSet` of ``config`` (also ``config.ruleset``)."""
    return _build(config.presets, config.rules, config.disabled_rules, config.action)


def development_config(**changes: Any) -> OptOutConfig:
    """A configuration for local demos and tests: a fixed, public secret and ``Secure`` off.

    Never use it in production: anyone can forge choice cookies signed with this secret.
    """
    values: dict[str, Any] = {
        "secret_keys": ("optout-mw-development-secret-not-for-production",),
        "cookie_secure": False,
        "presets": (),
    }
    values.update(changes)
    return OptOutConfig(**values)
