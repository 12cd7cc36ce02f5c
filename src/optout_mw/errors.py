"""Exceptions raised by optout-mw."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence


class OptOutError(Exception):
    """Base class of every exception optout-mw raises on purpose."""


class ConfigError(OptOutError, ValueError):
    """The configuration is invalid.

    :param problems: one ``(key, message)`` pair per problem found; every problem is
        reported at once so an operator can fix a file in one pass.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = list(problems)
        lines = [f"{key}: {message}" for key, message in self.problems]
        if len(lines) == 1:
            text = f"invalid optout-mw configuration: {lines[0]}"
        else:
            text = "invalid optout-mw configuration:\n  " + "\n  ".join(lines)
        super().__init__(text)


class MiddlewareNotInstalled(OptOutError, LookupError):
    """:func:`optout_mw.get_decision` found no decision on the request."""


def did_you_mean(name: str, known: Sequence[str]) -> str:
    """``"unknown key; did you mean 'x'?"`` for configuration messages."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"unknown key; did you mean {close[0]!r}?" if close else "unknown key"


def describe_type(value: object) -> str:
    """How a configuration value's type reads in an error message."""
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__
