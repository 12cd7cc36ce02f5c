"""Configuration sources: a TOML file, a mapping (Flask's ``app.config``), environment
variables and keyword arguments, merged into one validated :class:`OptOutConfig`; and the
operator override, which beats them all.

Precedence, lowest to highest (a later source replaces a whole value, lists included)::

    built-in defaults < TOML file < mapping < environment variables < keyword overrides

The file is the ``file`` argument of :func:`load_config` or, when that is ``None``, the path
named by the ``OPTOUT_CONFIG`` environment variable (``<prefix>CONFIG``).

A source parses text where a value is text (environment variables), refuses what it
cannot express (a callback in a file), and checks each value with the model's own field
checks (:func:`._fields.coerce`); the merged values then pass the model's one validation
pass, which adds the checks across fields. Each problem is shown under a key naming
where its value came from:
``site.toml: rules[2].hosts``, ``env OPTOUT_MODE``, ``mapping OPTOUT_SECRET_KEYS[0]``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

from optout_mw.errors import ConfigError, did_you_mean
from optout_mw.rules import Rule

from ._fields import INVALID, FieldKind, Setting, coerce, parse_text, setting_of
from ._model import Mode, OptOutConfig

__all__ = [
    "DEFAULT_PREFIX",
    "FORCE_MODE_VARIABLE",
    "apply_operator_override",
    "config_from_env",
    "config_from_mapping",
    "config_from_toml",
    "env_var_name",
    "field_kinds",
    "load_config",
    "redacted",
]

logger = logging.getLogger("optout_mw")

#: Default prefix of environment variables and mapping keys.
DEFAULT_PREFIX: Final = "OPTOUT_"

#: The operator override: when set, the mode in force whatever any other source says
#: (see :func:`apply_operator_override`). A fixed name, whatever ``prefix`` the
#: application chose, so no code can move or shadow it.
FORCE_MODE_VARIABLE: Final = "OPTOUT_FORCE_MODE"

_Problems = list[tuple[str, str]]

_SETTINGS: Final[Mapping[str, Setting]] = {
    f.name: setting_of(f) for f in dataclasses.fields(OptOutConfig)
}
_FIELD_NAMES: Final = tuple(_SETTINGS)


def field_kinds() -> dict[str, FieldKind]:
    """Every :class:`OptOutConfig` field and how text sources spell its value."""
    return {name: spec.kind for name, spec in _SETTINGS.items()}


def env_var_name(field_name: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The environment variable (and mapping key) for a field: ``OPTOUT_EXCLUDE_PATHS``."""
    return f"{prefix}{field_name.upper()}"


# --- one source = one layer ------------------------------------------------------------


@dataclass
class _Layer:
    """Values read from one source, where each came from, and what was wrong."""

    label: Callable[[str, str], str]  # (field, rest of the key path) -> key shown to humans
    values: dict[str, object] = field(default_factory=dict)
    problems: _Problems = field(default_factory=list)
    # Fields this source could not read: reported here, so validation does not report
    # them a second time.
    broken: set[str] = field(default_factory=set)

    def fail(self, name: str, rest: str, message: str) -> None:
        self.problems.append((self.label(name, rest), message))
        self.broken.add(name)

    def take(self, name: str, value: object) -> None:
        """Check ``value`` as the model does and keep it if it passes. Each source is
        checked on its own, so a bad value is reported even where a higher source
        replaces it (it would break the day that source stops setting it)."""
        found: _Problems = []
        converted = coerce(name, _SETTINGS[name], value, found)
        for key, message in found:
            self.problems.append((self.label(name, key[len(name):]), message))
        if converted is INVALID:
            self.broken.add(name)
        else:
            self.values[name] = converted


def _read_toml(path: str | os.PathLike[str]) -> _Layer:
    where = os.fspath(path)

    def label(name: str, rest: str) -> str:
        return f"{where}: {name}{rest}" if name else where

    layer = _Layer(label)
    try:
        with open(where, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        layer.problems.append((where, f"cannot read the file: {error.strerror or error}"))
        return layer
    except tomllib.TOMLDecodeError as error:
        # tomllib's messages give the position, never the text of the line.
        layer.problems.append((where, f"not valid TOML: {error}"))
        return layer
    except UnicodeDecodeError as error:
        layer.problems.append((where, f"not valid UTF-8: {error.reason}"))
        return layer
    table: dict[str, object] = dict(document)
    prefix = ""
    rules_prefix = ""
    if "optout" in document:
        section = document["optout"]
        if not isinstance(section, dict):
            layer.problems.append((f"{where}: optout", "expected a table [optout]"))
            return layer
        # Only [optout] is read, so the file may hold other sections too; a top-level
        # [[rules]] next to it is accepted as the natural way to write rules.
        table = dict(section)
        prefix = rules_prefix = "optout."
        top_rules = document.get("rules")
        if top_rules is not None:
            if "rules" in section:
                layer.problems.append(
                    (f"{where}: rules", "given both at top level and under [optout]; keep one")
                )
            else:
                table["rules"] = top_rules
                rules_prefix = ""

    def section_label(name: str, rest: str) -> str:
        return f"{where}: {rules_prefix if name == 'rules' else prefix}{name}{rest}"

    layer.label = section_label
    for key, value in table.items():
        spec = _SETTINGS.get(key)
        if spec is None:
            layer.problems.append((f"{where}: {prefix}{key}", did_you_mean(key, _FIELD_NAMES)))
        elif spec.kind is FieldKind.PYTHON:
            layer.fail(key, "", "cannot be set from a file; pass it as a keyword argument "
                       "in Python code")
        else:
            layer.take(key, value)
    return layer


def _read_mapping(mapping: Mapping[str, object], prefix: str, source: str) -> _Layer:
    def label(name: str, rest: str) -> str:
        return f"{source} {env_var_name(name, prefix)}{rest}"

    layer = _Layer(label)
    known = [env_var_name(name, prefix) for name in _FIELD_NAMES]
    for key, value in mapping.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix):].lower()
        if key == FORCE_MODE_VARIABLE:
            layer.problems.append(
                (f"{source} {key}", "the operator override is read from the process "
                 f"environment only; set {env_var_name('mode', prefix)} here")
            )
        elif name not in _SETTINGS:
            layer.problems.append((f"{source} {key}", did_you_mean(key, known)))
        else:
            layer.take(name, value)
    return layer


def _read_env(environ: Mapping[str, str], prefix: str) -> _Layer:
    def label(name: str, rest: str) -> str:
        return f"env {env_var_name(name, prefix)}{rest}"

    layer = _Layer(label)
    file_var = f"{prefix}CONFIG"
    known = [env_var_name(name, prefix) for name in _FIELD_NAMES]
    known += [file_var, FORCE_MODE_VARIABLE]
    for key, text in environ.items():
        if not key.startswith(prefix) or key in (file_var, FORCE_MODE_VARIABLE):
            continue
        name = key[len(prefix):].lower()
        spec = _SETTINGS.get(name)
        if spec is None:
            layer.problems.append((f"env {key}", did_you_mean(key, known)))
        elif spec.kind is FieldKind.RULES:
            layer.fail(name, "", "rules cannot be set from environment variables; write "
                       f"[[rules]] tables in the TOML file named by {file_var}, or pass "
                       "rules=[...] in Python")
        elif spec.kind is FieldKind.PYTHON:
            layer.fail(name, "", "a Python object cannot be set from an environment "
                       "variable; pass it as a keyword argument")
        else:
            value, problem = parse_text(spec, text)
            if problem is None:
                layer.take(name, value)
            else:
                layer.fail(name, "", problem)
    return layer


def _read_overrides(overrides: Mapping[str, object]) -> _Layer:
    def label(name: str, rest: str) -> str:
        return f"{name}{rest}"

    layer = _Layer(label)
    for key, value in overrides.items():
        if key not in _SETTINGS:
            layer.problems.append((key, did_you_mean(key, _FIELD_NAMES)))
        else:
            layer.take(key, value)
    return layer


_FIELD_OF_KEY: Final = re.compile(r"[a-z_]+")


def _build(layers: Sequence[_Layer]) -> OptOutConfig:
    """Merge layers (lowest precedence first) and validate once."""
    values: dict[str, Any] = {}
    owner: dict[str, _Layer] = {}
    problems: _Problems = []
    broken: set[str] = set()
    for layer in layers:
        problems.extend(layer.problems)
        for name in layer.broken:
            broken.add(name)
            # A broken higher layer hides lower values: merging them would validate a
            # value the operator meant to replace.
            values.pop(name, None)
            owner.pop(name, None)
        for name, value in layer.values.items():
            values[name] = value
            owner[name] = layer
            broken.discard(name)
    try:
        config = OptOutConfig(**values)
    except ConfigError as error:
        for key, message in error.problems:
            match = _FIELD_OF_KEY.match(key)
            name = match.group(0) if match else key
            if name in broken:
                continue  # a consequence of a value already reported
            layer_of = owner.get(name)
            if layer_of is None:
                problems.append((key, message))
            else:
                problems.append((layer_of.label(name, key[len(name):]), message))
    else:
        if not problems:
            return config
    raise ConfigError(problems)


# --- public API ---------------------------------------------------------------------------


def load_config(
    *,
    file: str | os.PathLike[str] | None = None,
    mapping: Mapping[str, object] | None = None,
    prefix: str = DEFAULT_PREFIX,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> OptOutConfig:
    """Build the configuration from every source, highest precedence last:
    built-in defaults, the TOML ``file``, ``mapping``, environment variables, ``overrides``.

    The operator override (``OPTOUT_FORCE_MODE``) is not applied here: the middleware
    applies it to whatever configuration it is given (:func:`apply_operator_override`).

    :param file: a TOML file; when ``None``, the file named by ``<prefix>CONFIG`` in
        ``environ`` (if set and non-empty).
    :param mapping: e.g. Flask's ``app.config``; keys ``<prefix><FIELD>``, other keys ignored.
    :param prefix: of environment variables and mapping keys.
    :param environ: defaults to :data:`os.environ`; pass a dict to keep tests hermetic.
    :param overrides: field values, applied last.
    :raises ConfigError: with every problem from every source at once.
    """
    env = os.environ if environ is None else environ
    layers: list[_Layer] = []
    if file is None:
        named = env.get(f"{prefix}CONFIG", "").strip()
        file = named or None
    if file is not None:
        layers.append(_read_toml(file))
    if mapping is not None:
        layers.append(_read_mapping(mapping, prefix, "mapping"))
    layers.append(_read_env(env, prefix))
    layers.append(_read_overrides(overrides))
    return _build(layers)


def config_from_mapping(
    mapping: Mapping[str, object], prefix: str = DEFAULT_PREFIX
) -> OptOutConfig:
    """Build the configuration from a mapping such as Flask's ``app.config``.

    Keys are ``<prefix><FIELD>`` (``OPTOUT_MODE``, ``OPTOUT_SECRET_KEYS``,
    ``OPTOUT_PRESETS``); keys without the prefix are ignored, and a prefixed key that names
    no field is an error. Values are Python values: lists for list fields, ``True``/``False``
    for switches; ``rules`` may hold :class:`~optout_mw.rules.Rule` objects or dicts.

    :raises ConfigError: with every problem at once.
    """
    return _build([_read_mapping(mapping, prefix, "mapping")])


def config_from_env(
    environ: Mapping[str, str] | None = None, prefix: str = DEFAULT_PREFIX
) -> OptOutConfig:
    """Build the configuration from environment variables only (``OPTOUT_<FIELD>``).

    Lists are comma-separated (``OPTOUT_SECRET_KEYS=old,new``, oldest first), switches take
    ``1/0``, ``true/false``, ``yes/no`` or ``on/off``, an empty value unsets an optional
    string. ``OPTOUT_CONFIG`` is not read here; :func:`load_config` reads it.

    :param environ: defaults to :data:`os.environ`.
    :raises ConfigError: with every problem at once.
    """
    return _build([_read_env(os.environ if environ is None else environ, prefix)])


def config_from_toml(path: str | os.PathLike[str]) -> OptOutConfig:
    """Build the configuration from a TOML file alone.

    Keys are the field names, at top level or in an ``[optout]`` table; the site's rules are
    ``[[rules]]`` tables (see :func:`optout_mw.config.rule_from_mapping`).

    :raises ConfigError: naming the file and key path of every problem.
    """
    return _build([_read_toml(path)])


def apply_operator_override(
    config: OptOutConfig, environ: Mapping[str, str] | None = None
) -> OptOutConfig:
    """``config`` with the operator's forced mode, if ``OPTOUT_FORCE_MODE`` is set.

    The variable beats every source, keyword arguments and an :class:`OptOutConfig` built
    in code included: the middleware calls this wherever a configuration becomes an
    engine (at start-up and on every reload), so no code path can shadow it. An empty or
    missing variable changes nothing.

    :param environ: defaults to :data:`os.environ`.
    :raises ConfigError: keyed ``env OPTOUT_FORCE_MODE`` for a value other than
        ``enforce``, ``report`` or ``off`` (any case). Nothing is guessed: a typo must not
        enforce when the operator asked to switch off, nor switch off when they asked to
        enforce, so the middleware refuses to start (and a reload keeps the configuration
        in force) until the variable is fixed or unset.
    """
    env = os.environ if environ is None else environ
    text = env.get(FORCE_MODE_VARIABLE, "").strip()
    if not text:
        return config
    try:
        forced = Mode(text.lower())
    except ValueError:
        choices = ", ".join(mode.value for mode in Mode)
        raise ConfigError(
            [(f"env {FORCE_MODE_VARIABLE}", f"expected one of {choices} (the operator "
              f"override), got {text!r}; fix or unset it")]
        ) from None
    if forced is config.mode:
        return config
    logger.warning(
        "optout_mw: %s=%s overrides the configured mode %s",
        FORCE_MODE_VARIABLE,
        forced.value,
        config.mode.value,
        extra={"optout_mode": forced.value, "optout_configured_mode": config.mode.value},
    )
    return config.replace(mode=forced)


def redacted(config: OptOutConfig) -> dict[str, object]:
    """A JSON-ready view of the effective configuration with secrets hidden."""
    out: dict[str, object] = {}
    for name, spec in _SETTINGS.items():
        value = getattr(config, name)
        if spec.secret:
            out[name] = [f"<redacted, {len(key)} characters>" for key in value]
        elif spec.kind is FieldKind.RULES:
            out[name] = [_rule_json(rule) for rule in value]
        elif spec.kind is FieldKind.PYTHON:
            out[name] = None if value is None else getattr(value, "__qualname__", repr(value))
        elif isinstance(value, tuple):
            out[name] = list(value)
        elif isinstance(value, Enum):
            out[name] = value.value
        else:
            out[name] = value
    return out


def _rule_json(rule: Rule) -> dict[str, object]:
    return {
        "name": rule.name,
        "hosts": list(rule.hosts),
        "host_paths": list(rule.host_paths),
        "path_prefixes": list(rule.path_prefixes),
        "inline_markers": list(rule.inline_markers),
        "action": rule.action.value,
    }

