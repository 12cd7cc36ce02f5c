"""The run-time guard: a small inline script, first in an opted-out visitor's page, that
stops page code from contacting the trackers the rules name (see ``docs/guard.md``).

:func:`build_guard` returns the script's text for a rule set; :class:`GuardScript` is the
same text as a named part of the one inline script the middleware adds to a page (the
``name`` / ``text(decision)`` / ``texts()`` shape of a stub part), always placed first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optout_mw.rules import RuleSet
from optout_mw.stubs import sha256_source

from ._build import DEFAULT_REPORT_PATH, GuardData, build_guard, guard_data, guard_template

if TYPE_CHECKING:
    from optout_mw.decision import Decision

__all__ = [
    "DEFAULT_REPORT_PATH",
    "GuardData",
    "GuardScript",
    "build_guard",
    "guard_data",
    "guard_template",
]


class GuardScript:
    """The guard for one configuration, built once.

    :param rules: the enabled rules; with no host and no inline marker there is nothing
        to guard and :meth:`text` is always ``None``.
    :param report_path: where the once-per-page report goes (``None``: no report).
    :param attr_prefix: the configuration's ``block_attr_prefix``.
    """

    __slots__ = ("_text", "source")

    #: The part's name among the inline script's parts.
    name = "guard"

    def __init__(
        self,
        rules: RuleSet,
        *,
        report_path: str | None = DEFAULT_REPORT_PATH,
        attr_prefix: str = "data-optout-",
    ) -> None:
        data = guard_data(rules)
        text = build_guard(rules, report_path=report_path, attr_prefix=attr_prefix)
        self._text: str | None = text if data["h"] or data["m"] else None
        #: The CSP hash source of the guard alone (``'sha256-…'``), ``None`` without text.
        self.source: str | None = sha256_source(text) if self._text is not None else None

    def text(self, decision: Decision) -> str | None:
        """The guard for this visitor: only for one who opted out."""
        if decision.sale_permitted:
            return None
        return self._text

    def texts(self) -> tuple[str, ...]:
        """Every text :meth:`text` can return (one, or none), for CSP hash sources."""
        return (self._text,) if self._text is not None else ()

    @property
    def size(self) -> int:
        """Bytes the guard adds to a page (UTF-8; it is ASCII), 0 when it is off."""
        return len(self._text) if self._text is not None else 0
