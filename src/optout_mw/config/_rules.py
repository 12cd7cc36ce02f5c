"""The site's own rules from configuration data: ``[[rules]]`` tables (TOML, JSON, a dict)
validated into :class:`~optout_mw.rules.Rule` objects, every problem keyed by where it sits
(``rules[2].hosts[0]``)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Final

from optout_mw.errors import ConfigError, describe_type
from optout_mw.rules import Action, Rule
from optout_mw.urls import normalize_host

__all__ = ["rule_from_mapping", "rules_from_value"]

_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LABEL_RE: Final = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_KNOWN_KEYS: Final = (
    "name",
    "description",
    "hosts",
    "host_paths",
    "path_prefixes",
    "inline_markers",
    "action",
)
#: Shorter fragments would match ordinary code (``qp(`` alone is too common a name).
_MIN_MARKER_LEN: Final = 3

_Problems = list[tuple[str, str]]


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def rules_from_value(value: object, key: str, problems: _Problems) -> tuple[Rule, ...] | None:
    """The ``rules`` field from any source: a list of :class:`Rule` objects and rule
    tables, as a tuple of rules; or ``None`` after reporting every problem under ``key``
    (``rules[1].hosts[0]``)."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        problems.append(
            (key, f"expected an array of rule tables ([[rules]]), got {describe_type(value)}")
        )
        return None
    rules: list[Rule] = []
    ok = True
    for index, item in enumerate(value):
        if isinstance(item, Rule):
            rules.append(item)
            continue
        if not isinstance(item, Mapping):
            problems.append((f"{key}[{index}]", f"expected a rule table, got "
                             f"{describe_type(item)}"))
            ok = False
            continue
        try:
            rules.append(rule_from_mapping(item, f"{key}[{index}]"))
        except ConfigError as error:
            problems.extend(error.problems)
            ok = False
    # A partial list would shift the indices of later messages: all or nothing.
    return tuple(rules) if ok else None


def _string_list(
    data: Mapping[str, object],
    field_name: str,
    key: str,
    what: str,
    problems: _Problems,
) -> list[tuple[str, str]]:
    """``[(item key, item)]`` for a list of strings, or report why it is not one."""
    value = data.get(field_name, [])
    field_key = f"{key}.{field_name}"
    if isinstance(value, str) or not isinstance(value, list | tuple):
        problems.append((field_key, f"expected a list of {what}, got {describe_type(value)}"))
        return []
    items: list[tuple[str, str]] = []
    for index, item in enumerate(value):
        item_key = f"{field_key}[{index}]"
        if not isinstance(item, str):
            problems.append((item_key, f"expected a string, got {describe_type(item)}"))
        elif not item.strip():
            problems.append((item_key, "must not be empty"))
        else:
            items.append((item_key, item.strip()))
    return items


def _check_host(raw: str) -> tuple[str | None, str]:
    """``(normalised host, "")`` or ``(None, reason)`` for a user-supplied host."""
    host = raw.lower()
    if "://" in host or host.startswith(("http:", "https:", "//")):
        bare = re.sub(r"^(?:[a-z][a-z0-9+.-]*:)?/*", "", host).split("/")[0]
        return None, f"expected a hostname without a scheme, got {raw!r} (write {bare!r})"
    if host.startswith("*."):
        host = host[2:]
    if "*" in host:
        return None, f"wildcards are not supported ({raw!r}); subdomains always match"
    if "/" in host or "?" in host or "#" in host:
        return None, f"expected a hostname without a path, got {raw!r}; use path_prefixes"
    if ":" in host or "[" in host:
        return None, f"ports and IP literals are not supported, got {raw!r}"
    normalized = normalize_host(host)
    if normalized is None:
        return None, f"not a valid hostname: {raw!r}"
    normalized = normalized.rstrip(".")
    labels = normalized.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        return None, f"expected a hostname with at least two labels, got {raw!r}"
    if labels[-1].isdigit():
        return None, f"IP addresses are not supported, got {raw!r}"
    return normalized, ""


def rule_from_mapping(data: Mapping[str, object], key: str) -> Rule:
    """Validate one user rule from configuration data (a TOML table, a JSON object).

    Keys: ``name`` (required), ``hosts``, ``host_paths`` (``"host/path"`` entries),
    ``path_prefixes``, ``inline_markers`` (lists of strings), ``action`` (``"strip"`` or
    ``"block"``, default ``"strip"``) and ``description``. A leading ``*.`` on a host is
    dropped, since subdomains always match.

    :param key: where the rule sits in the configuration, e.g. ``"rules[2]"``; problems
        are reported under it (``rules[2].hosts: ...``).
    :raises ConfigError: listing every problem found.
    """
    problems: _Problems = []
    if not isinstance(data, Mapping):
        raise ConfigError([(key, f"expected a table, got {describe_type(data)}")])
    for unknown in sorted(set(map(str, data)) - set(_KNOWN_KEYS)):
        problems.append(
            (f"{key}.{unknown}", f"unknown key{_suggest(unknown, _KNOWN_KEYS)}")
        )

    name = data.get("name")
    if name is None:
        problems.append((f"{key}.name", "required"))
        name = ""
    elif not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        problems.append(
            (
                f"{key}.name",
                "expected 1-64 letters, digits, '.', '_' or '-', starting with a letter or "
                f"digit, got {name!r}",
            )
        )
        name = ""

    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(
            (f"{key}.description", f"expected a string, got {describe_type(description)}")
        )
        description = ""

    hosts: list[str] = []
    for item_key, raw in _string_list(data, "hosts", key, "hostnames", problems):
        host, reason = _check_host(raw)
        if host is None:
            problems.append((item_key, reason))
        else:
            hosts.append(host)

    host_paths: list[str] = []
    for item_key, raw in _string_list(data, "host_paths", key, "'host/path' entries", problems):
        raw_host, slash, raw_path = raw.partition("/")
        host, reason = _check_host(raw_host) if slash and raw_path.strip("/") else (None, "")
        if host is None:
            problems.append((item_key, reason or f"expected 'host/path', got {raw!r}"))
        else:
            host_paths.append(f"{host}/{raw_path}")

    path_prefixes: list[str] = []
    for item_key, raw in _string_list(data, "path_prefixes", key, "paths", problems):
        if not raw.startswith("/") or "?" in raw or "#" in raw or "://" in raw:
            problems.append((item_key, f"expected a path starting with '/', got {raw!r}"))
        else:
            path_prefixes.append(raw)

    markers: list[str] = []
    for item_key, raw in _string_list(data, "inline_markers", key, "code fragments", problems):
        if len(raw) < _MIN_MARKER_LEN:
            problems.append(
                (item_key, f"too short to identify a vendor ({raw!r}); use at least 3 characters")
            )
        else:
            markers.append(raw)

    if path_prefixes and not hosts:
        problems.append((f"{key}.path_prefixes", "needs hosts to apply to"))
    if not (hosts or host_paths or markers) and not any(
        k.startswith((f"{key}.hosts", f"{key}.host_paths", f"{key}.inline_markers"))
        for k, _ in problems
    ):
        problems.append((key, "needs at least one of hosts, host_paths or inline_markers"))

    action_value = data.get("action", Action.STRIP.value)
    action = Action.STRIP
    if isinstance(action_value, str) and action_value in {a.value for a in Action}:
        action = Action(action_value)
    else:
        problems.append(
            (f"{key}.action", f"expected 'strip' or 'block', got {action_value!r}")
        )

    if problems:
        raise ConfigError(problems)
    return Rule(
        name=name,
        description=description,
        hosts=tuple(hosts),
        host_paths=tuple(host_paths),
        path_prefixes=tuple(path_prefixes),
        inline_markers=tuple(markers),
        action=action,
    )
