"""Tag rules: which third-party URLs and inline scripts count as trackers.

Interface used by the rewriter (keep stable):

* ``Action`` - what to do with a matching element (``strip`` or ``block``).
* ``Rule`` - a named rule: hosts, optional path prefixes, inline markers, action.
* ``RuleSet(rules)`` - compiled matcher with
  ``match_url(url, base_url=None) -> Rule | None`` (``url`` is the attribute value after
  character references were decoded; ``base_url`` is the document's ``<base href>`` if any)
  and ``match_inline(text) -> Rule | None`` (the text of an inline script or of a
  ``<noscript>`` block).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit


class Action(StrEnum):
    STRIP = "strip"
    BLOCK = "block"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One tracker rule.

    :param name: stable identifier, shown in findings and logs and written into blocked
        elements.
    :param hosts: hostnames; each matches itself and its subdomains on label boundaries.
    :param path_prefixes: when given, only URLs whose path starts with one of them match.
    :param inline_markers: code fragments that identify the vendor's inline snippet.
    :param action: ``strip`` removes the element, ``block`` neutralises it in place.
    """

    name: str
    hosts: tuple[str, ...] = ()
    path_prefixes: tuple[str, ...] = ()
    inline_markers: tuple[str, ...] = ()
    action: Action = Action.STRIP
    description: str = field(default="", compare=False)


class RuleSet:
    """A compiled, immutable set of rules."""

    __slots__ = ("rules",)

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def match_url(self, url: str, base_url: str | None = None) -> Rule | None:
        url = url.strip()
        if url.startswith("//"):
            url = "https:" + url
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        host = (parts.hostname or "").rstrip(".")
        if not host:
            return None
        for rule in self.rules:
            for suffix in rule.hosts:
                if host == suffix or host.endswith("." + suffix):
                    if not rule.path_prefixes or parts.path.startswith(rule.path_prefixes):
                        return rule
        return None

    def match_inline(self, text: str) -> Rule | None:
        for rule in self.rules:
            for marker in rule.inline_markers:
                if marker in text:
                    return rule
        return None
