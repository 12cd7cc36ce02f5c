"""A site's own cookie that means "opted out" (``acme_optout=1``), read by a
:class:`~optout_mw.cmp.settings.CookieRule`.

A rule only knows one answer: a match is an opt-out; anything else (no match, no such
field) says nothing, so a legacy cookie can never be read as consent.
"""

from __future__ import annotations

import json
from typing import Any

from optout_mw.signals import Signal, SignalKind, Verdict

from ._decode import form_pairs, json_object, percent_decode, too_long
from .settings import CookieRule

_KIND = SignalKind.COOKIE_RULE
_MISSING = object()


def parse_cookie_rule(rule: CookieRule, value: str) -> Signal:
    """Whether ``value`` of ``rule.name`` means "opted out"; never raises. Reasons name the
    rule, never the cookie's value."""
    if too_long(value):
        return Signal(_KIND, Verdict.INVALID, f"cookie rule {rule.title}: value too long")
    if rule.field is None:
        if rule.matches(value) or rule.matches(percent_decode(value, until=())):
            return Signal(_KIND, Verdict.OPT_OUT, f"cookie rule {rule.title}: opted out")
        return Signal(_KIND, Verdict.NOT_APPLICABLE, f"cookie rule {rule.title}: no match")
    found = _field(rule, value)
    if found is None:
        return Signal(_KIND, Verdict.INVALID, f"cookie rule {rule.title}: value malformed")
    if found is _MISSING:
        return Signal(_KIND, Verdict.NOT_APPLICABLE,
                      f"cookie rule {rule.title}: no field {rule.field}")
    assert isinstance(found, str)
    if rule.matches(found):
        return Signal(_KIND, Verdict.OPT_OUT, f"cookie rule {rule.title}: opted out")
    return Signal(_KIND, Verdict.NOT_APPLICABLE, f"cookie rule {rule.title}: no match")


def _field(rule: CookieRule, value: str) -> object:
    """The field's text, :data:`_MISSING`, or ``None`` when the value cannot be read."""
    assert rule.field is not None
    fmt = rule.format
    text = value.strip()
    if fmt == "auto":
        fmt = "json" if percent_decode(text, until=("{",)).lstrip().startswith("{") else "form"
    if fmt == "json":
        record = json_object(percent_decode(text, until=("{", '"')).strip())
        if record is None:
            return None
        return _json_path(record, rule.field)
    pairs = form_pairs(percent_decode(text, until=("=",)))
    if not pairs:
        return None
    for key, item in pairs:
        if key == rule.field:
            return item
    return _MISSING


def _json_path(record: dict[str, Any], path: str) -> object:
    current: Any = record
    for step in path.split("."):
        if isinstance(current, dict) and step in current:
            current = current[step]
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return _MISSING
    if isinstance(current, str):
        return current
    if isinstance(current, bool | int | float) or current is None:
        return json.dumps(current)
    return _MISSING
