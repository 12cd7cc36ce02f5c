"""Which consent-tool cookies are read, and what in them means "opted out".

:class:`CmpSettings` is frozen and validated once: every problem is reported at once in a
:class:`~optout_mw.errors.ConfigError`, keyed by the configuration name it will have
(``cmp_cookies``, ``cmp_onetrust_categories``, ``cmp_cookie_rules[0].pattern``, …).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from typing import Final

from optout_mw.errors import ConfigError, describe_type, did_you_mean

__all__ = [
    "CMP_NAMES",
    "UNREADABLE_CMPS",
    "CmpSettings",
    "CookieRule",
]

#: The consent tools whose cookies optout-mw can read, by the name ``cmp_cookies`` takes.
CMP_NAMES: Final = (
    "onetrust", "cookiebot", "iubenda", "didomi", "ketch", "transcend", "fides",
)

#: Consent tools whose stored choice cannot be read from a cookie, and what to use instead.
UNREADABLE_CMPS: Final = {
    "usercentrics": (
        "Usercentrics keeps its consent in localStorage (uc_settings, uc_usprivacy), which "
        "never reaches the server; its US choice reaches optout-mw as the usprivacy cookie "
        "or a GPP string when those are enabled in Usercentrics"
    ),
    "osano": (
        "osano_consentmanager is encrypted by Osano and cannot be read; Osano writes the "
        "Do Not Sell choice to the usprivacy cookie, which read_us_privacy already reads"
    ),
    "termly": (
        "Termly documents no consent cookie; describe the site's own cookie with a "
        "cmp_cookie_rules entry instead"
    ),
}

#: OneTrust categories that mean targeting or sale: C0004 is the "Targeting Cookies"
#: category of every OneTrust template; SPD_BG ("Sale of Personal Data") and SSPD_BG
#: ("Share or Sale of Personal Data") are the groups of its CCPA/CPRA templates.
ONETRUST_CATEGORIES: Final = ("C0004", "SPD_BG", "SSPD_BG")
#: iubenda purpose 5 is "Targeting & Advertising" (1 necessary, 2 functionality,
#: 3 experience, 4 measurement).
IUBENDA_PURPOSES: Final = ("5",)
#: Keys of iubenda's US preference cookie (``_iub_cs-<id>-uspr``): sale, share, targeted
#: advertising.
IUBENDA_US_KEYS: Final = ("s", "sh", "adv")
#: Ketch's canonical purpose for targeted advertising.
KETCH_CANONICAL: Final = ("behavioral_advertising",)
#: Transcend's default purposes for sale and advertising.
TRANSCEND_PURPOSES: Final = ("SaleOfInfo", "Advertising")
#: Fides privacy-notice keys (prefixes) for sale/sharing and targeted advertising; Fides
#: appends the jurisdiction (``targeted_advertising_gpp_us_national``).
FIDES_NOTICE_PREFIXES: Final = ("data_sales", "targeted_advertising")

_RULE_TEXT_MAX = 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class CookieRule:
    """A site's own cookie that means "opted out", e.g. ``acme_optout=1``.

    Exactly one of ``value`` (the whole value, or the field's value, compared exactly) and
    ``pattern`` (a regular expression that must match all of it) is given. ``field`` reads a
    field of the cookie first: a dotted path into a JSON object (``ads.optout``; list items
    by index) or the key of a form-encoded value (``a=1&optout=1``); ``format`` says which,
    ``auto`` deciding from the value (a JSON object starts with ``{``). Booleans and numbers
    of JSON compare as JSON writes them (``true``, ``1``).
    """

    name: str
    value: str | None = None
    pattern: str | None = None
    field: str | None = None
    format: str = "auto"
    #: How the rule is named in a signal's reason; the cookie name by default.
    label: str = ""
    _compiled: re.Pattern[str] | None = dataclass_field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        problems = self.problems("cmp_cookie_rules")
        if problems:
            raise ConfigError(problems)
        if self.pattern is not None:
            object.__setattr__(self, "_compiled", re.compile(self.pattern))

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], key: str) -> CookieRule:
        """A rule from one ``[[cmp_cookie_rules]]`` table; problems are keyed under
        ``key`` (``cmp_cookie_rules[2]``), every one at once."""
        allowed = ("name", "value", "pattern", "field", "format", "label")
        problems = [
            (f"{key}.{name}", did_you_mean(name, allowed)) for name in data if name not in allowed
        ]
        if "name" not in data:
            problems.append((f"{key}.name", "is required"))
        if problems:
            raise ConfigError(problems)
        values = {name: data[name] for name in allowed if name in data}
        draft = object.__new__(cls)
        for name in allowed:
            object.__setattr__(draft, name, values.get(name, "auto" if name == "format"
                                                             else "" if name == "label"
                                                             else None))
        found = draft.problems(key)
        if found:
            raise ConfigError(found)
        return cls(**values)  # type: ignore[arg-type]

    def problems(self, key: str) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        # Values come from configuration files: check types even where annotations agree.
        name: object = self.name
        if not isinstance(name, str) or not _cookie_name_ok(name):
            found.append((f"{key}.name", "must be a cookie name (letters, digits, -_.)"))
        given = [k for k in ("value", "pattern") if getattr(self, k) is not None]
        if len(given) != 1:
            found.append((key, "give exactly one of 'value' and 'pattern'"))
        for attribute in ("value", "pattern", "field", "label"):
            text = getattr(self, attribute)
            if text is not None and not isinstance(text, str):
                found.append((f"{key}.{attribute}", f"must be a string, not {describe_type(text)}"))
            elif isinstance(text, str) and len(text) > _RULE_TEXT_MAX:
                found.append((f"{key}.{attribute}", f"longer than {_RULE_TEXT_MAX} characters"))
        if isinstance(self.pattern, str):
            try:
                re.compile(self.pattern)
            except re.error as error:
                found.append((f"{key}.pattern", f"not a regular expression: {error}"))
        if self.format not in ("auto", "json", "form"):
            found.append((f"{key}.format", "must be 'auto', 'json' or 'form'"))
        path: object = self.field
        if isinstance(path, str) and not path.strip("."):
            found.append((f"{key}.field", "must name a field"))
        return found

    def matches(self, text: str) -> bool:
        if self._compiled is not None:
            return self._compiled.fullmatch(text) is not None
        return text == self.value

    @property
    def title(self) -> str:
        return self.label or self.name


_COOKIE_NAME = re.compile(r"[A-Za-z0-9!#$&'*+.^_`|~-]+")


def _cookie_name_ok(name: str) -> bool:
    # RFC 6265 §4.1.1: a cookie-name is an HTTP token.
    return bool(_COOKIE_NAME.fullmatch(name))


@dataclass(frozen=True, slots=True, kw_only=True)
class CmpSettings:
    """What the consent-tool cookie signals read. Nothing is read unless named in
    ``enabled`` (``cmp_cookies``) or given as a rule."""

    enabled: tuple[str, ...] = ()
    onetrust_categories: tuple[str, ...] = ONETRUST_CATEGORIES
    iubenda_purposes: tuple[str, ...] = IUBENDA_PURPOSES
    iubenda_us_keys: tuple[str, ...] = IUBENDA_US_KEYS
    didomi_purposes: tuple[str, ...] = ()
    didomi_vendors: tuple[str, ...] = ()
    ketch_purposes: tuple[str, ...] = ()
    ketch_canonical_purposes: tuple[str, ...] = KETCH_CANONICAL
    transcend_cookie: str = "tcm"
    transcend_purposes: tuple[str, ...] = TRANSCEND_PURPOSES
    fides_notices: tuple[str, ...] = ()
    fides_notice_prefixes: tuple[str, ...] = FIDES_NOTICE_PREFIXES
    rules: tuple[CookieRule, ...] = ()

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        for item in fields(self):
            value = getattr(self, item.name)
            key = _KEYS[item.name]
            if item.name == "transcend_cookie":
                if not isinstance(value, str) or not _cookie_name_ok(value):
                    problems.append((key, "must be a cookie name (letters, digits, -_.)"))
            elif item.name == "rules":
                problems += _rule_problems(value, key)
            else:
                problems += _names_problems(value, key)
        if not problems:
            for index, name in enumerate(self.enabled):
                if name in UNREADABLE_CMPS:
                    problems.append((f"cmp_cookies[{index}]",
                                     f"{name!r} cannot be read: {UNREADABLE_CMPS[name]}"))
                elif name not in CMP_NAMES:
                    problems.append((f"cmp_cookies[{index}]", _unknown(name)))
            if len(set(self.enabled)) != len(self.enabled):
                problems.append(("cmp_cookies", "names a consent tool twice"))
        if problems:
            raise ConfigError(problems)

    def reads(self, name: str) -> bool:
        return name in self.enabled

    @property
    def active(self) -> bool:
        """Whether any cookie is read at all (the decision skips the scan otherwise)."""
        return bool(self.enabled or self.rules)


#: The configuration key each field is reported under.
_KEYS: Final = {
    "enabled": "cmp_cookies",
    "onetrust_categories": "cmp_onetrust_categories",
    "iubenda_purposes": "cmp_iubenda_purposes",
    "iubenda_us_keys": "cmp_iubenda_us_keys",
    "didomi_purposes": "cmp_didomi_purposes",
    "didomi_vendors": "cmp_didomi_vendors",
    "ketch_purposes": "cmp_ketch_purposes",
    "ketch_canonical_purposes": "cmp_ketch_canonical_purposes",
    "transcend_cookie": "cmp_transcend_cookie",
    "transcend_purposes": "cmp_transcend_purposes",
    "fides_notices": "cmp_fides_notices",
    "fides_notice_prefixes": "cmp_fides_notice_prefixes",
    "rules": "cmp_cookie_rules",
}


def _unknown(name: str) -> str:
    known = [*CMP_NAMES, *UNREADABLE_CMPS]
    hint = did_you_mean(name, known).replace("unknown key", "unknown consent tool")
    return f"{hint} (known: {', '.join(CMP_NAMES)})"


def _names_problems(value: object, key: str) -> list[tuple[str, str]]:
    # A bare string would be iterated character by character.
    if isinstance(value, str) or not isinstance(value, Sequence):
        return [(key, f"must be a list of strings, not {describe_type(value)}")]
    problems: list[tuple[str, str]] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item or len(item) > _RULE_TEXT_MAX:
            problems.append((f"{key}[{index}]", "must be a non-empty string"))
    return problems


def _rule_problems(value: object, key: str) -> list[tuple[str, str]]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        return [(key, f"must be a list of rules, not {describe_type(value)}")]
    problems: list[tuple[str, str]] = []
    for index, rule in enumerate(value):
        if not isinstance(rule, CookieRule):
            problems.append((f"{key}[{index}]", f"must be a CookieRule, not {describe_type(rule)}"))
    return problems
