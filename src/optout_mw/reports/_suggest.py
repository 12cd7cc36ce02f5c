"""``optout-mw csp suggest``: an allowlist proposal from collected violation reports.

Every host the policy blocked that no rule names is a candidate known-good host for the
directive that blocked it; hosts the rules name (trackers) are left out and listed
separately, so the proposal can never allow a tracker. Hosts the settings already allow
are not proposed again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from optout_mw.csp import CspSettings
from optout_mw.rules import RuleSet

from ._aggregate import Entry, Kind
from ._parse import Layer

__all__ = ["Suggestion", "suggest_allowlist"]

#: Which settings field a CSP directive's hosts belong to.
FIELD_OF_DIRECTIVE: Final = {
    "script-src-elem": "script_hosts", "script-src": "script_hosts",
    "connect-src": "connect_hosts", "frame-src": "frame_hosts", "child-src": "frame_hosts",
    "object-src": "frame_hosts", "img-src": "img_hosts",
}
_FIELDS: Final = ("script_hosts", "connect_hosts", "frame_hosts", "img_hosts")


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Hosts to add per settings field (most reported first, with their counts), and the
    tracker rules whose blocks were left out (with counts)."""

    add: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    trackers: tuple[tuple[str, int], ...] = ()
    existing: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def toml(self) -> str:
        """The ``[csp]`` host lists with the additions, as TOML."""
        lines = ["[csp]"]
        for name in _FIELDS:
            hosts = [*self.existing.get(name, ()), *(host for host, _ in self.add.get(name, ()))]
            if hosts or name in self.add:
                lines.append(f"{name} = {json.dumps(hosts)}")
        if self.trackers:
            left = ", ".join(f"{rule} ({count})" for rule, count in self.trackers)
            lines.append(f"# left out, trackers by the rules: {left}")
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict[str, object]:
        return {
            "add": {name: [{"host": h, "count": c} for h, c in hosts]
                    for name, hosts in self.add.items()},
            "trackers": [{"rule": r, "count": c} for r, c in self.trackers],
        }


def _allowed(host: str, sources: Iterable[str]) -> bool:
    """Whether a host source already allows ``host`` (CSP3 host-part matching)."""
    for source in sources:
        bare = source.partition("://")[2] if "://" in source else source
        bare = bare.split("/", 1)[0].split(":", 1)[0]
        if bare == host or (bare.startswith("*.") and host.endswith(bare[1:])):
            return True
    return False


def suggest_allowlist(
    entries: Iterable[Entry],
    rules: RuleSet,
    settings: CspSettings | None = None,
    *,
    min_count: int = 1,
) -> Suggestion:
    """Propose known-good hosts from tallied reports.

    Only the CSP's own violations count (the guard blocks trackers by definition), hosts
    reported fewer than ``min_count`` times are left out, and every host is judged again
    by ``rules``: a host a rule names is never proposed.
    """
    settings = settings or CspSettings()
    counts: dict[str, dict[str, int]] = {name: {} for name in _FIELDS}
    trackers: dict[str, int] = {}
    for entry in entries:
        if entry.kind is Kind.TRACKER:
            trackers[entry.name] = trackers.get(entry.name, 0) + entry.count
            continue
        name = FIELD_OF_DIRECTIVE.get(entry.where)
        if entry.layer is not Layer.CSP or entry.kind is not Kind.UNKNOWN or name is None:
            continue
        rule = rules.match_host(entry.name)
        if rule is not None:
            trackers[rule.name] = trackers.get(rule.name, 0) + entry.count
            continue
        counts[name][entry.name] = counts[name].get(entry.name, 0) + entry.count
    add: dict[str, tuple[tuple[str, int], ...]] = {}
    for name, hosts in counts.items():
        existing = getattr(settings, name) or ()
        fresh = sorted(((h, c) for h, c in hosts.items()
                        if c >= min_count and not _allowed(h, existing)),
                       key=lambda item: (-item[1], item[0]))
        if fresh:
            add[name] = tuple(fresh)
    existing_lists = {name: tuple(getattr(settings, name) or ()) for name in _FIELDS}
    return Suggestion(add, tuple(sorted(trackers.items(), key=lambda i: (-i[1], i[0]))),
                      existing_lists)
