"""Exceptions raised by optout-mw."""

from __future__ import annotations


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
