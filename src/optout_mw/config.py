"""``OptOutConfig``: the one validated, immutable configuration object.

Every way of configuring optout-mw (keyword arguments, a TOML file, environment variables,
Flask's ``app.config``) ends up here, so both adapters always see the same fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from .errors import ConfigError
from .rules import Action, Rule, RuleSet

#: Browsers cap cookie lifetimes at 400 days (RFC 6265bis §5.5, Chrome since M104).
MAX_COOKIE_AGE = 400 * 24 * 3600

_COOKIE_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_ATTR_PREFIX = re.compile(r"^[a-z][a-z0-9-]*-$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Mode(StrEnum):
    """What the middleware does for opted-out visitors."""

    #: Rewrite HTML responses: strip or block tracker tags.
    ENFORCE = "enforce"
    #: Detect and log what would be removed; change no byte of any response.
    REPORT = "report"
    #: Change no response at all (the decision is still stored for application code).
    OFF = "off"


@dataclass(frozen=True, slots=True, kw_only=True)
class OptOutConfig:
    """Validated configuration. Invalid values raise :class:`~optout_mw.errors.ConfigError`
    naming every offending field at once.
    """

    #: ``enforce``, ``report`` or ``off``.
    mode: Mode = Mode.ENFORCE
    #: Secrets for the signed choice cookie, oldest to newest: the newest signs, all verify,
    #: so keys can be rotated. Required while ``read_site_cookie`` is on; there is no
    #: random per-process fallback because it would break multi-worker deployments.
    secret_keys: tuple[str, ...] = ()

    # --- which signals are read -------------------------------------------------------
    #: The ``Sec-GPC`` request header (Global Privacy Control).
    read_gpc: bool = True
    #: The site's own signed choice cookie, set by the opt-out page.
    read_site_cookie: bool = True
    #: The IAB US Privacy string cookie (legacy, deprecated by IAB in 2024, still written).
    read_us_privacy: bool = True
    #: The IAB GPP string cookies.
    read_gpp: bool = True
    #: Treat malformed or undecodable cookie signals as an opt-out (fail closed).
    strict: bool = False

    # --- cookie names -------------------------------------------------------------------
    choice_cookie_name: str = "optout_choice"
    #: Lifetime of the choice cookie in seconds; refreshed on visits, at most 400 days.
    choice_cookie_max_age: int = MAX_COOKIE_AGE
    #: Send cookies with ``Secure``. Turn off only for plain-HTTP development.
    cookie_secure: bool = True
    us_privacy_cookie: str = "usprivacy"
    #: GPP has no standard cookie; ``__gpp``/``__gpp_sid`` are a common convention.
    gpp_cookie: str = "__gpp"
    gpp_sid_cookie: str = "__gpp_sid"

    # --- enforcement --------------------------------------------------------------------
    #: Preset vendor rules enabled by name (see :mod:`optout_mw.presets`).
    presets: tuple[str, ...] = ()
    #: The site's own rules.
    rules: tuple[Rule, ...] = ()
    #: Rule or preset names switched off.
    disabled_rules: tuple[str, ...] = ()
    #: Overrides every rule's action when set.
    action: Action | None = None
    #: Prefix for attributes renamed by the ``block`` action.
    block_attr_prefix: str = "data-optout-"
    #: Only paths starting with one of these are rewritten (empty: every path).
    include_paths: tuple[str, ...] = ()
    #: Paths starting with one of these are never rewritten.
    exclude_paths: tuple[str, ...] = ()
    #: Largest construct (an unfinished tag, an inline script being judged) held in memory;
    #: beyond it the construct passes through unchanged with a logged reason.
    max_pending: int = 1 << 20
    #: Refuse (``502``) instead of passing through an HTML response that should be rewritten
    #: but cannot be (unknown encoding, unsupported charset).
    refuse_unrewritable: bool = False

    # --- the opt-out surface (pages and endpoints served by the middleware) ------------
    #: The "Do Not Sell or Share My Personal Information" page and its POST handlers;
    #: ``""`` switches it off.
    optout_page_path: str = "/privacy/opt-out"
    #: A file replacing the built-in page template (see docs/endpoints.md for variables).
    optout_page_template: str | None = None
    #: JSON status of the decision for client-side code; ``""`` switches it off.
    status_path: str = "/privacy/status.json"
    #: Serve ``/.well-known/gpc.json`` stating that the site honours GPC.
    serve_gpc_json: bool = True
    #: The ``lastUpdate`` date (``YYYY-MM-DD``) of ``gpc.json``; omitted when unset.
    gpc_json_last_update: str | None = None
    #: Largest form body accepted by the POST handlers, in bytes.
    max_form_bytes: int = 8192

    # --- writing the choice back for downstream vendors ---------------------------------
    #: Set the ``usprivacy`` cookie on opt-out and for visitors sending GPC.
    write_us_privacy: bool = False
    #: Second character of the written US Privacy string: notice given (``Y``/``N``/``-``).
    us_privacy_notice: str = "Y"
    #: Fourth character: covered by the IAB Limited Service Provider Agreement.
    us_privacy_lspa: str = "N"
    #: Set the GPP cookies (``gpp_cookie``/``gpp_sid_cookie``) on opt-out and with GPC.
    write_gpp: bool = False
    #: Inject a tiny inline ``__uspapi``/``__gpp`` stub before the first script of
    #: opted-out visitors' pages, answering from the server's decision.
    inject_stubs: bool = False
    #: Called with every :class:`~optout_mw.endpoints.ChoiceEvent` (opt-out, opt-in).
    on_choice: Callable[[Any], None] | None = field(default=None, compare=False)

    _ruleset_cache: dict[str, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        self._coerce(problems)
        if problems:
            raise ConfigError(problems)

    def _coerce(self, problems: list[tuple[str, str]]) -> None:
        # Values may come from untyped sources (TOML, environment, app.config), so every
        # field is checked at run time whatever its annotation says.
        raw: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        set_ = object.__setattr__
        try:
            set_(self, "mode", Mode(str(raw["mode"])))
        except ValueError:
            problems.append(("mode", f"expected one of enforce, report, off; got {raw['mode']!r}"))
        for name in ("secret_keys", "presets", "rules", "disabled_rules", "include_paths",
                     "exclude_paths"):
            value = raw[name]
            if isinstance(value, str | bytes):
                problems.append((name, f"expected a list, got a single string {value!r}"))
            elif not isinstance(value, Sequence):
                problems.append((name, f"expected a list, got {type(value).__name__}"))
            else:
                set_(self, name, tuple(value))
                raw[name] = tuple(value)
        for name in ("read_gpc", "read_site_cookie", "read_us_privacy", "read_gpp", "strict",
                     "cookie_secure", "refuse_unrewritable"):
            if not isinstance(raw[name], bool):
                problems.append((name, f"expected true or false, got {raw[name]!r}"))
        keys = raw["secret_keys"]
        for index, key in enumerate(keys if isinstance(keys, tuple) else ()):
            if not isinstance(key, str) or not key:
                problems.append((f"secret_keys[{index}]", "expected a non-empty string"))
            elif len(key) < 16:
                problems.append((f"secret_keys[{index}]", "too short: use at least 16 characters"))
        if raw["read_site_cookie"] is True and keys == ():
            problems.append(
                ("secret_keys", "required while read_site_cookie is on (the choice cookie is "
                 "signed); set OPTOUT_SECRET_KEYS or pass secret_keys=[...]")
            )
        for name in ("choice_cookie_name", "us_privacy_cookie", "gpp_cookie", "gpp_sid_cookie"):
            value = raw[name]
            if not isinstance(value, str) or not _COOKIE_NAME.match(value):
                problems.append((name, f"not a valid cookie name: {value!r}"))
        age = raw["choice_cookie_max_age"]
        if not isinstance(age, int) or isinstance(age, bool) or not 0 < age <= MAX_COOKIE_AGE:
            problems.append(
                ("choice_cookie_max_age", f"expected seconds between 1 and {MAX_COOKIE_AGE} "
                 f"(browsers cap cookies at 400 days), got {age!r}")
            )
        pending = raw["max_pending"]
        if not isinstance(pending, int) or isinstance(pending, bool) or pending < 1024:
            problems.append(("max_pending", f"expected bytes >= 1024, got {pending!r}"))
        if raw["action"] is not None:
            try:
                set_(self, "action", Action(str(raw["action"])))
            except ValueError:
                problems.append(("action", f"expected strip or block, got {raw['action']!r}"))
        prefix = raw["block_attr_prefix"]
        if not isinstance(prefix, str) or not _ATTR_PREFIX.match(prefix):
            problems.append(
                ("block_attr_prefix", "expected lowercase letters, digits and dashes ending in "
                 f"'-', like 'data-optout-'; got {prefix!r}")
            )
        for name in ("include_paths", "exclude_paths"):
            paths = raw[name]
            for index, path in enumerate(paths if isinstance(paths, tuple) else ()):
                if not isinstance(path, str) or not path.startswith("/"):
                    problems.append((f"{name}[{index}]", f"expected a path starting with '/', "
                                     f"got {path!r}"))
        rules = raw["rules"]
        for index, rule in enumerate(rules if isinstance(rules, tuple) else ()):
            if not isinstance(rule, Rule):
                problems.append((f"rules[{index}]", f"expected a Rule, got {type(rule).__name__}"))
        for name in ("presets", "disabled_rules"):
            names = raw[name]
            for index, item in enumerate(names if isinstance(names, tuple) else ()):
                if not isinstance(item, str):
                    problems.append((f"{name}[{index}]", f"expected a name, got {item!r}"))
        for name in ("optout_page_path", "status_path"):
            value = raw[name]
            if not isinstance(value, str) or (value and not value.startswith("/")):
                problems.append((name, f"expected a path starting with '/' or '' (off), "
                                 f"got {value!r}"))
        for name in ("serve_gpc_json", "write_us_privacy", "write_gpp", "inject_stubs"):
            if not isinstance(raw[name], bool):
                problems.append((name, f"expected true or false, got {raw[name]!r}"))
        last_update = raw["gpc_json_last_update"]
        if last_update is not None and (
            not isinstance(last_update, str) or not _DATE.match(last_update)
        ):
            problems.append(("gpc_json_last_update", f"expected a date YYYY-MM-DD, got "
                             f"{last_update!r}"))
        template = raw["optout_page_template"]
        if template is not None and not isinstance(template, str):
            problems.append(("optout_page_template", f"expected a file path, got {template!r}"))
        for name in ("us_privacy_notice", "us_privacy_lspa"):
            if raw[name] not in ("Y", "N", "-"):
                problems.append((name, f"expected 'Y', 'N' or '-', got {raw[name]!r}"))
        form = raw["max_form_bytes"]
        if not isinstance(form, int) or isinstance(form, bool) or not 256 <= form <= 1 << 20:
            problems.append(("max_form_bytes", f"expected bytes between 256 and 1048576, got "
                             f"{form!r}"))
        if raw["on_choice"] is not None and not callable(raw["on_choice"]):
            problems.append(("on_choice", "expected a callable"))
        if not problems:
            # Build the rule set now so unknown preset names fail at start-up, not mid-request.
            try:
                self._ruleset_cache["ruleset"] = self._build_ruleset()
            except ConfigError as error:
                problems.extend(error.problems)

    def _build_ruleset(self) -> RuleSet:
        from . import presets

        return presets.build_ruleset(
            presets=self.presets, rules=self.rules, disabled=self.disabled_rules,
            action=self.action,
        )

    @property
    def ruleset(self) -> RuleSet:
        """The compiled rules: the enabled presets plus the site's own rules."""
        ruleset: RuleSet = self._ruleset_cache["ruleset"]
        return ruleset

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

    def replace(self, **changes: Any) -> OptOutConfig:
        """A copy with ``changes`` applied and validated."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        values.update(changes)
        return OptOutConfig(**values)


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
