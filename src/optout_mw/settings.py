"""Configuration sources: a TOML file, a mapping (Flask's ``app.config``), environment
variables and keyword arguments, merged into one validated :class:`OptOutConfig`.

Precedence, lowest to highest (a later source replaces a whole value, lists included)::

    built-in defaults < TOML file < mapping < environment variables < keyword overrides

The file is the ``file`` argument of :func:`load_config` or, when that is ``None``, the path
named by the ``OPTOUT_CONFIG`` environment variable (``<prefix>CONFIG``).

Every problem from every source is collected and raised as one
:class:`~optout_mw.errors.ConfigError`, each under a key naming where it came from:
``site.toml: rules[2].hosts``, ``env OPTOUT_MODE``, ``mapping OPTOUT_SECRET_KEYS[0]``.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import inspect
import os
import re
import sys
import tomllib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

from .config import OptOutConfig
from .errors import ConfigError, describe_type, did_you_mean
from .rules import Rule

__all__ = [
    "FieldKind",
    "config_from_env",
    "config_from_mapping",
    "config_from_toml",
    "config_reference_markdown",
    "env_var_name",
    "field_kinds",
    "load_config",
    "redacted",
]

#: Default prefix of environment variables and mapping keys.
DEFAULT_PREFIX: Final = "OPTOUT_"

_Problems = list[tuple[str, str]]


class FieldKind(Enum):
    """How a field's value is written in text sources."""

    BOOL = "boolean"
    INT = "integer"
    STR = "string"
    OPTIONAL_STR = "string or unset"
    STR_LIST = "list of strings"
    RULES = "list of rule tables"
    PYTHON = "Python object"


def _kind_of(hint: Any) -> FieldKind:
    if hint is bool:
        return FieldKind.BOOL
    if hint is int:
        return FieldKind.INT
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is tuple:
        return FieldKind.RULES if args and args[0] is Rule else FieldKind.STR_LIST
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        inner = [arg for arg in args if arg is not type(None)]
        if len(inner) == 1 and isinstance(inner[0], type) and issubclass(inner[0], str):
            return FieldKind.OPTIONAL_STR
        return FieldKind.PYTHON
    if isinstance(hint, type) and issubclass(hint, str):
        return FieldKind.STR
    # Anything else (a callable) cannot be written as text.
    return FieldKind.PYTHON


def field_kinds() -> dict[str, FieldKind]:
    """Every settable :class:`OptOutConfig` field and how text sources spell its value."""
    hints = typing.get_type_hints(OptOutConfig)
    return {f.name: _kind_of(hints[f.name]) for f in dataclasses.fields(OptOutConfig) if f.init}


_KINDS: Final = field_kinds()
_FIELD_NAMES: Final = tuple(_KINDS)

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


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
    # Fields with a parse problem: left out so validation does not report them twice.
    broken: set[str] = field(default_factory=set)

    def fail(self, name: str, rest: str, message: str) -> None:
        self.problems.append((self.label(name, rest), message))
        self.broken.add(name)


def _check_python_value(layer: _Layer, name: str, value: object, *, text_only: bool) -> None:
    """Type-check a value from TOML, a mapping or a keyword, and store it if it fits.

    Semantic checks (allowed modes, path shapes, secret lengths) are left to
    :class:`OptOutConfig`, so each rule lives in one place.
    """
    kind = _KINDS[name]
    if kind is FieldKind.PYTHON:
        if text_only:
            layer.fail(name, "", "cannot be set from a file; pass it as a keyword argument "
                       "in Python code")
            return
    elif kind is FieldKind.BOOL:
        if not isinstance(value, bool):
            layer.fail(name, "", f"expected true or false, got {describe_type(value)} {value!r}")
            return
    elif kind is FieldKind.INT:
        if isinstance(value, bool) or not isinstance(value, int):
            layer.fail(name, "", f"expected an integer, got {describe_type(value)} {value!r}")
            return
    elif kind is FieldKind.STR:
        if not isinstance(value, str):
            layer.fail(name, "", f"expected a string, got {describe_type(value)} {value!r}")
            return
    elif kind is FieldKind.OPTIONAL_STR:
        if isinstance(value, datetime.date):
            # TOML reads a bare 2025-01-31 as a date; the field holds its ISO text.
            value = value.isoformat()
        if value is not None and not isinstance(value, str):
            layer.fail(name, "", f"expected a string, got {describe_type(value)} {value!r}")
            return
    elif kind is FieldKind.STR_LIST:
        if isinstance(value, str):
            # The classic trap: a bare string iterated per character.
            layer.fail(name, "", f"expected a list of strings, got a single string {value!r}; "
                       f"write [{value!r}]")
            return
        if not isinstance(value, list | tuple):
            layer.fail(name, "", f"expected a list of strings, got {describe_type(value)}")
            return
        bad = False
        for index, item in enumerate(value):
            if not isinstance(item, str):
                layer.fail(name, f"[{index}]", f"expected a string, got {describe_type(item)} "
                           f"{item!r}")
                bad = True
        if bad:
            return
        value = tuple(value)
    elif kind is FieldKind.RULES:
        value = _convert_rules(layer, value)
        if value is None:
            return
    layer.values[name] = value


def _convert_rules(layer: _Layer, value: object) -> tuple[Rule, ...] | None:
    from . import presets

    if isinstance(value, str) or not isinstance(value, list | tuple):
        layer.fail("rules", "", f"expected an array of rule tables ([[rules]]), got "
                   f"{describe_type(value)}")
        return None
    rules: list[Rule] = []
    ok = True
    for index, item in enumerate(value):
        if isinstance(item, Rule):
            rules.append(item)
            continue
        if not isinstance(item, Mapping):
            layer.fail("rules", f"[{index}]", f"expected a rule table, got {describe_type(item)}")
            ok = False
            continue
        try:
            rules.append(presets.rule_from_mapping(item, f"rules[{index}]"))
        except ConfigError as error:
            ok = False
            for key, message in error.problems:
                layer.fail("rules", key[len("rules"):], message)
    # A partial list would shift indices in later messages; keep all or nothing.
    return tuple(rules) if ok else None


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
        if key not in _KINDS:
            layer.problems.append((f"{where}: {prefix}{key}", did_you_mean(key, _FIELD_NAMES)))
            continue
        _check_python_value(layer, key, value, text_only=True)
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
        if name not in _KINDS:
            layer.problems.append((f"{source} {key}", did_you_mean(key, known)))
            continue
        _check_python_value(layer, name, value, text_only=False)
    return layer


def _read_env(environ: Mapping[str, str], prefix: str) -> _Layer:
    def label(name: str, rest: str) -> str:
        return f"env {env_var_name(name, prefix)}{rest}"

    layer = _Layer(label)
    known = [env_var_name(name, prefix) for name in _FIELD_NAMES]
    file_var = f"{prefix}CONFIG"
    for key, text in environ.items():
        if not key.startswith(prefix) or key == file_var:
            continue
        name = key[len(prefix):].lower()
        if name not in _KINDS:
            layer.problems.append((f"env {key}", did_you_mean(key, [*known, file_var])))
            continue
        _parse_env_value(layer, name, text, prefix)
    return layer


def _parse_env_value(layer: _Layer, name: str, text: str, prefix: str) -> None:
    kind = _KINDS[name]
    # Values often come from `$(cat secret)` or YAML block scalars: surrounding
    # whitespace is never meaningful.
    value = text.strip()
    if kind is FieldKind.BOOL:
        lowered = value.lower()
        if lowered in _TRUE:
            layer.values[name] = True
        elif lowered in _FALSE:
            layer.values[name] = False
        else:
            layer.fail(name, "", f"expected a boolean (1/0, true/false, yes/no, on/off), "
                       f"got {text!r}")
    elif kind is FieldKind.INT:
        try:
            layer.values[name] = int(value)
        except ValueError:
            layer.fail(name, "", f"expected an integer, got {text!r}")
    elif kind is FieldKind.STR:
        layer.values[name] = value
    elif kind is FieldKind.OPTIONAL_STR:
        layer.values[name] = value or None
    elif kind is FieldKind.STR_LIST:
        layer.values[name] = tuple(item.strip() for item in value.split(",") if item.strip())
    elif kind is FieldKind.RULES:
        layer.fail(name, "", "rules cannot be set from environment variables; write [[rules]] "
                   f"tables in the TOML file named by {prefix}CONFIG, or pass rules=[...] in "
                   "Python")
    else:
        layer.fail(name, "", "a Python object cannot be set from an environment variable; "
                   "pass it as a keyword argument")


def _read_overrides(overrides: Mapping[str, object]) -> _Layer:
    def label(name: str, rest: str) -> str:
        return f"{name}{rest}"

    layer = _Layer(label)
    for key, value in overrides.items():
        if key not in _KINDS:
            layer.problems.append((key, did_you_mean(key, _FIELD_NAMES)))
            continue
        _check_python_value(layer, key, value, text_only=False)
    return layer


_FIELD_OF_KEY: Final = re.compile(r"[a-z_]+")


def _build(layers: Sequence[_Layer]) -> OptOutConfig:
    """Merge layers (lowest precedence first) and validate once."""
    values: dict[str, object] = {}
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
        for name, value in layer.values.items():
            values[name] = value
            owner[name] = layer
            broken.discard(name)
    try:
        config = OptOutConfig(**values)  # type: ignore[arg-type]
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
    ``[[rules]]`` tables (see :func:`optout_mw.presets.rule_from_mapping`).

    :raises ConfigError: naming the file and key path of every problem.
    """
    return _build([_read_toml(path)])


def redacted(config: OptOutConfig) -> dict[str, object]:
    """A JSON-ready view of the effective configuration with secrets hidden."""
    out: dict[str, object] = {}
    for name in _FIELD_NAMES:
        value = getattr(config, name)
        if name == "secret_keys":
            out[name] = [f"<redacted, {len(key)} characters>" for key in value]
        elif name == "rules":
            out[name] = [_rule_json(rule) for rule in value]
        elif name == "on_choice":
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


# --- the configuration reference ------------------------------------------------------------

#: Descriptions for fields whose definition carries no ``#:`` comment.
_EXTRA_HELP: Final[Mapping[str, str]] = {
    "choice_cookie_name": "Name of the site's signed choice cookie.",
    "us_privacy_cookie": "Name of the cookie holding the IAB US Privacy string.",
    "gpp_sid_cookie": "Name of the cookie holding the GPP section ids (``__gpp_sid`` by "
    "convention).",
}

_BEGIN: Final = "<!-- BEGIN CONFIG REFERENCE (generated by python -m optout_mw.settings) -->"
_END: Final = "<!-- END CONFIG REFERENCE -->"


def _field_comments() -> dict[str, str]:
    """The ``#:`` comments above each field of :class:`OptOutConfig`, read from its source."""
    from . import config

    try:
        source = inspect.getsource(config)
    except (OSError, TypeError):  # pragma: no cover - only without source files
        return {}
    lines = source.splitlines()
    comments: dict[str, str] = {}
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "OptOutConfig":
            for statement in node.body:
                if isinstance(statement, ast.AnnAssign) and isinstance(
                    statement.target, ast.Name
                ):
                    text: list[str] = []
                    row = statement.lineno - 2
                    while row >= 0 and lines[row].strip().startswith("#:"):
                        text.insert(0, lines[row].strip()[2:].strip())
                        row -= 1
                    if text:
                        comments[statement.target.id] = " ".join(text)
    return comments


def _default_text(f: dataclasses.Field[Any]) -> str:
    if f.default is dataclasses.MISSING:
        return "—"
    value = f.default
    if value is None:
        return "unset"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, tuple):
        return "`[]`" if not value else "`" + ", ".join(map(str, value)) + "`"
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""` (off)'
    return f"`{value}`"


_RST_ROLE: Final = re.compile(r":[a-z]+:`~?(?:[\w.]+\.)?([^`.]+)`")


def _cell(text: str) -> str:
    # The comments are reStructuredText (for Sphinx); the reference is Markdown.
    text = _RST_ROLE.sub(r"`\1`", text).replace("``", "`")
    return text.replace("|", "\\|").replace("\n", " ")


def _type_text(name: str, hint: Any) -> str:
    kind = _KINDS[name]
    choices = [arg for arg in (hint, *typing.get_args(hint)) if isinstance(arg, type)
               and issubclass(arg, Enum)]
    if choices:
        values = ", ".join(f"`{member.value}`" for member in choices[0])
        return f"one of {values}" + (" or unset" if kind is FieldKind.OPTIONAL_STR else "")
    return kind.value


def config_reference_markdown(prefix: str = DEFAULT_PREFIX) -> str:
    """The Markdown table of every field, as embedded in ``docs/configuration.md``."""
    comments = {**_EXTRA_HELP, **_field_comments()}
    hints = typing.get_type_hints(OptOutConfig)
    rows = [
        "| key | type | default | environment variable | why |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in dataclasses.fields(OptOutConfig):
        if not f.init:
            continue
        kind = _KINDS[f.name]
        if kind is FieldKind.RULES:
            env = "— (TOML `[[rules]]` or Python)"
        elif kind is FieldKind.PYTHON:
            env = "— (Python only)"
        else:
            env = f"`{env_var_name(f.name, prefix)}`"
        why = comments.get(f.name, "")
        rows.append(
            f"| `{f.name}` | {_type_text(f.name, hints[f.name])} | {_cell(_default_text(f))} "
            f"| {env} | {_cell(why)} |"
        )
    return "\n".join(rows) + "\n"


def update_reference(path: str | os.PathLike[str]) -> bool:
    """Rewrite the generated block of a Markdown file; return whether it changed."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    start = text.index(_BEGIN) + len(_BEGIN)
    end = text.index(_END)
    new = text[:start] + "\n" + config_reference_markdown() + text[end:]
    if new == text:
        return False
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(new)
    return True


def reference_block(text: str) -> str:
    """The generated table inside a Markdown document (between the markers)."""
    start = text.index(_BEGIN) + len(_BEGIN)
    return text[start:text.index(_END)].strip("\n") + "\n"


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    target = sys.argv[1] if len(sys.argv) > 1 else "docs/configuration.md"
    print(f"{target}: {'updated' if update_reference(target) else 'up to date'}")
