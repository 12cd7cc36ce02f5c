"""Field kinds: how a configuration value is checked, converted and spelled as text.

The model declares every field with :func:`setting`: its kind, its default, its own check
and the sentence the reference table shows. The same kinds tell the text sources how to
parse an environment variable and what a file cannot express, so a value's type is
checked in one place, :func:`coerce`, whatever the source.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from optout_mw.errors import describe_type

from ._rules import rules_from_value

__all__ = [
    "INVALID",
    "FieldKind",
    "Setting",
    "coerce",
    "parse_text",
    "setting",
    "setting_of",
]


class FieldKind(Enum):
    """How a field's value is written in text sources (the reference table's "type")."""

    BOOL = "boolean"
    INT = "integer"
    STR = "string"
    OPTIONAL_STR = "string or unset"
    STR_LIST = "list of strings"
    RULES = "list of rule tables"
    PYTHON = "Python object"


#: A field's own check on a value of the right type: a problem, or ``None`` when fine.
#: List fields check each item (the problem is keyed ``field[index]``).
Check = Callable[[Any], str | None]


@dataclass(frozen=True, slots=True)
class Setting:
    """What the model knows about one field, kept in the field's metadata."""

    kind: FieldKind
    #: The "why" column of the reference table.
    doc: str
    check: Check | None = None
    #: The enumeration a ``STR`` or ``OPTIONAL_STR`` value must name.
    choices: type[StrEnum] | None = None
    #: Never show the value in a message (``secret_keys``).
    secret: bool = False
    #: Applied before the type check, for spellings that are not strings in Python or TOML
    #: (a ``datetime.date``, a ``pathlib.Path``).
    convert: Callable[[object], object] | None = None


_METADATA_KEY: Final = "optout_mw"


def setting(
    default: object,
    kind: FieldKind,
    doc: str,
    *,
    check: Check | None = None,
    choices: type[StrEnum] | None = None,
    secret: bool = False,
    convert: Callable[[object], object] | None = None,
    compare: bool = True,
) -> Any:
    """A dataclass field carrying its :class:`Setting`.

    Typed ``Any`` on purpose: the annotation of a field may be an :class:`Accepts`
    (what ``__init__`` takes differs from what the attribute holds), and its default is
    a value of the attribute's type.
    """
    spec = Setting(kind, doc, check, choices, secret, convert)
    return dataclasses.field(default=default, compare=compare, metadata={_METADATA_KEY: spec})


def setting_of(field: dataclasses.Field[Any]) -> Setting:
    spec: Setting = field.metadata[_METADATA_KEY]
    return spec


class _Invalid:
    __slots__ = ()

    def __repr__(self) -> str:
        return "INVALID"


#: Returned by :func:`coerce` and :func:`parse_text` for a value that was reported.
INVALID: Final = _Invalid()

_Problems = list[tuple[str, str]]


def _shown(spec: Setting, value: object) -> str:
    """The value as a message shows it: its text (a string's quotes say what it is), with
    its type for anything else; a secret value only by its type."""
    if spec.secret:
        return describe_type(value)
    if isinstance(value, str):
        return repr(value)
    return f"{describe_type(value)} {value!r}"


def _choices_text(choices: type[StrEnum]) -> str:
    return ", ".join(member.value for member in choices)


def coerce(name: str, spec: Setting, value: object, problems: _Problems) -> object:
    """``value`` converted to the field's attribute type and checked, or :data:`INVALID`
    after appending every problem found to ``problems``."""
    if spec.convert is not None:
        value = spec.convert(value)
    kind = spec.kind
    if kind is FieldKind.OPTIONAL_STR and value is None:
        return None
    if kind is FieldKind.BOOL:
        if not isinstance(value, bool):
            problems.append((name, f"expected true or false, got {_shown(spec, value)}"))
            return INVALID
    elif kind is FieldKind.INT:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append((name, f"expected an integer, got {_shown(spec, value)}"))
            return INVALID
    elif kind in (FieldKind.STR, FieldKind.OPTIONAL_STR):
        if spec.choices is not None:
            return _choice(name, spec, spec.choices, value, problems)
        if not isinstance(value, str):
            problems.append((name, f"expected a string, got {_shown(spec, value)}"))
            return INVALID
    elif kind is FieldKind.STR_LIST:
        return _string_tuple(name, spec, value, problems)
    elif kind is FieldKind.RULES:
        rules = rules_from_value(value, name, problems)
        return INVALID if rules is None else rules
    elif value is not None and not callable(value):
        problems.append((name, f"expected a callable, got {describe_type(value)}"))
        return INVALID
    if spec.check is not None:
        problem = spec.check(value)
        if problem is not None:
            problems.append((name, problem))
            return INVALID
    return value


def _choice(
    name: str, spec: Setting, choices: type[StrEnum], value: object, problems: _Problems
) -> object:
    if isinstance(value, choices):
        return value
    if isinstance(value, str):
        try:
            return choices(value)
        except ValueError:
            pass
    unset = " or unset" if spec.kind is FieldKind.OPTIONAL_STR else ""
    problems.append(
        (name, f"expected one of {_choices_text(choices)}{unset}; got {_shown(spec, value)}")
    )
    return INVALID


def _string_tuple(name: str, spec: Setting, value: object, problems: _Problems) -> object:
    if isinstance(value, str | bytes | bytearray):
        # The classic trap: a bare string iterated per character.
        if spec.secret:
            hint = '(not shown: it is secret); write ["..."]'
        else:
            hint = f"{value!r}; write [{value!r}]"
        problems.append((name, f"expected a list of strings, got a single string {hint}"))
        return INVALID
    if not isinstance(value, Sequence):
        problems.append((name, f"expected a list of strings, got {describe_type(value)}"))
        return INVALID
    items = tuple(value)
    ok = True
    for index, item in enumerate(items):
        key = f"{name}[{index}]"
        if not isinstance(item, str):
            problems.append((key, f"expected a string, got {_shown(spec, item)}"))
            ok = False
        elif spec.check is not None:
            problem = spec.check(item)
            if problem is not None:
                problems.append((key, problem))
                ok = False
    return items if ok else INVALID


_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def parse_text(spec: Setting, text: str) -> tuple[object, str | None]:
    """A value of a text kind from its environment-variable spelling: ``(value, None)``,
    or ``(INVALID, problem)``. Only for kinds where :attr:`FieldKind` says text works."""
    # Values often come from `$(cat secret)` or YAML block scalars: surrounding
    # whitespace is never meaningful.
    value = text.strip()
    kind = spec.kind
    if kind is FieldKind.BOOL:
        lowered = value.lower()
        if lowered in _TRUE:
            return True, None
        if lowered in _FALSE:
            return False, None
        shown = "" if spec.secret else f", got {text!r}"
        return INVALID, f"expected a boolean (1/0, true/false, yes/no, on/off){shown}"
    if kind is FieldKind.INT:
        try:
            return int(value), None
        except ValueError:
            shown = "" if spec.secret else f", got {text!r}"
            return INVALID, f"expected an integer{shown}"
    if kind is FieldKind.STR:
        return value, None
    if kind is FieldKind.OPTIONAL_STR:
        return value or None, None
    if kind is FieldKind.STR_LIST:
        return tuple(item.strip() for item in value.split(",") if item.strip()), None
    raise ValueError(f"{kind} has no text form")  # pragma: no cover - callers check first


if TYPE_CHECKING:
    In = TypeVar("In", contravariant=True)
    Out = TypeVar("Out", covariant=True)

    class Accepts(Generic[In, Out]):
        """A field that ``__init__`` accepts as ``In`` and the instance holds as ``Out``.

        Seen only by type checkers: a dataclass field typed with a descriptor takes its
        ``__init__`` parameter type from ``__set__`` and its attribute type from
        ``__get__`` (the typing spec's "descriptor-typed fields"; mypy and pyright follow
        it). At run time the field is a plain slot and ``__post_init__`` converts the value,
        which is exactly what these signatures promise.
        """

        def __get__(self, instance: object, owner: type[object] | None = None) -> Out: ...

        def __set__(self, instance: object, value: In) -> None: ...
