"""``optout-mw csp``: the additional Content-Security-Policy from the command line.

Commands::

    optout-mw csp policy [--config FILE]        print the header(s) the policy sends
    optout-mw csp suggest FILE... [--config FILE] [--preset NAME ...] [--min-count N] [--json]
                                                propose known-good hosts from reports

The policy's settings are the ``[csp]`` table of the configuration file (next to
``[optout]``); the rules (which hosts are trackers) come from the configuration as for
``optout-mw scan``. ``suggest`` reads report bodies as browsers send them (a file of one
JSON document, or one per line, as a collector or log pipeline keeps them), the report
endpoint's JSON log records, or tally snapshots (:meth:`ReportAggregator.snapshot`).

Exit codes as ``optout-mw``'s: 0 ok, 2 invalid configuration or usage, 3 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from .csp import CspSettings, build_policy, new_nonce
from .errors import ConfigError
from .reports import (
    Classification,
    Kind,
    Layer,
    ReportAggregator,
    Violation,
    classify,
    parse_document,
    suggest_allowlist,
)
from .rules import RuleSet

__all__ = ["add_csp_command"]

_EXIT_OK: Final = 0
_EXIT_INVALID: Final = 2
_EXIT_UNREADABLE: Final = 3
#: A report file is read whole; past this size it is refused rather than exhausting memory.
_MAX_FILE: Final = 256 * 1024 * 1024


def _err(text: str) -> None:
    sys.stderr.write(f"optout-mw: {text}\n")


def _print_problems(error: ConfigError) -> None:
    _err("invalid configuration:")
    for key, message in error.problems:
        sys.stderr.write(f"  {key}: {message}\n")


def _csp_table(path: str | None) -> Mapping[str, object]:
    """The ``[csp]`` table (or ``[optout.csp]``) of a configuration file."""
    if path is None:
        return {}
    with open(path, "rb") as handle:
        document = tomllib.load(handle)
    section = document.get("optout")
    table = section.get("csp") if isinstance(section, dict) else None
    table = table if table is not None else document.get("csp", {})
    if not isinstance(table, dict):
        raise ConfigError([(f"{path}: csp", "expected a table [csp]")])
    return table


def _rules(config_file: str | None, presets: Sequence[str] | None) -> RuleSet:
    # Deferred: the configuration loader pulls in the whole package, which --help does not
    # need.
    from . import load_config

    if config_file is None and not presets:
        presets = ["all"]
    config = load_config(file=config_file, read_site_cookie=False)
    if presets:
        config = config.replace(presets=(*config.presets, *presets))
    return config.ruleset


def _documents(text: str) -> Iterator[object]:
    """The JSON documents of a file: the whole file, or else one per non-empty line."""
    try:
        yield json.loads(text)
        return
    except (ValueError, RecursionError):
        pass
    for line in text.splitlines():
        if line.strip():
            try:
                yield json.loads(line)
            except (ValueError, RecursionError):
                yield None


def _log_record(
    record: Mapping[str, Any], rules: RuleSet
) -> tuple[Violation, Classification] | None:
    """A JSON log record of the report endpoint (its ``optout_*`` fields)."""
    layer, mode, label = record.get("optout_layer"), record.get("optout_mode"), \
        record.get("optout_label")
    where = record.get("optout_where")
    if layer not in ("csp", "guard") or mode not in ("enforce", "report") \
            or not isinstance(label, str) or not isinstance(where, str):
        return None
    violation = Violation(layer=Layer(layer), enforced=mode == "enforce",
                          blocked=str(record.get("optout_url") or ""),
                          directive=where if layer == "csp" else "",
                          vector=where if layer == "guard" else "")
    kind, _, name = label.partition(":")
    if violation.blocked:
        return violation, classify(violation.blocked, rules)
    if kind in ("tracker", "unknown", "other") and name:
        return violation, Classification(Kind(kind), name[:256])
    return None


def _read(paths: Sequence[str], rules: RuleSet, aggregator: ReportAggregator) -> tuple[int, int]:
    """Tally every report in ``paths``; returns (documents read, documents skipped)."""
    read = skipped = 0
    for path in paths:
        if path == "-":
            text = sys.stdin.read(_MAX_FILE + 1)
        else:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read(_MAX_FILE + 1)
        if len(text) > _MAX_FILE:
            raise OSError(f"{path}: larger than {_MAX_FILE} bytes")
        for document in _documents(text):
            if isinstance(document, dict) and document.get("type") == "optout-report-tally":
                read += aggregator.merge(document, rules) > 0
                continue
            if isinstance(document, dict) and "optout_label" in document:
                found = _log_record(document, rules)
                if found is not None:
                    aggregator.add(*found)
                    read += 1
                else:
                    skipped += 1
                continue
            parsed = parse_document(document)
            if parsed.reason is not None:
                skipped += 1
                continue
            read += 1
            for violation in parsed.violations:
                aggregator.add(violation, classify(violation.blocked, rules))
    return read, skipped


def _cmd_suggest(args: argparse.Namespace) -> int:
    try:
        settings = CspSettings.from_mapping(_csp_table(args.config))
        rules = _rules(args.config, args.preset)
    except ConfigError as error:
        _print_problems(error)
        return _EXIT_INVALID
    except (OSError, tomllib.TOMLDecodeError) as error:
        _err(f"cannot read the configuration: {error}")
        return _EXIT_UNREADABLE
    if args.min_count < 1:
        _err("--min-count must be at least 1")
        return _EXIT_INVALID
    aggregator = ReportAggregator(max_entries=100_000)
    try:
        read, skipped = _read(args.files, rules, aggregator)
    except OSError as error:
        _err(f"cannot read reports: {error}")
        return _EXIT_UNREADABLE
    suggestion = suggest_allowlist(aggregator.entries(), rules, settings,
                                   min_count=args.min_count)
    if args.json:
        sys.stdout.write(json.dumps({**suggestion.as_dict(), "read": read, "skipped": skipped},
                                    indent=2) + "\n")
    else:
        sys.stdout.write(suggestion.toml())
    if skipped:
        _err(f"{skipped} document(s) were not reports and were skipped")
    return _EXIT_OK


def _cmd_policy(args: argparse.Namespace) -> int:
    try:
        settings = CspSettings.from_mapping(_csp_table(args.config))
    except ConfigError as error:
        _print_problems(error)
        return _EXIT_INVALID
    except (OSError, tomllib.TOMLDecodeError) as error:
        _err(f"cannot read the configuration: {error}")
        return _EXIT_UNREADABLE
    if settings.mode == "off":
        sys.stdout.write("# csp.mode is off: no policy is sent\n")
        return _EXIT_OK
    name = ("Content-Security-Policy" if settings.mode == "enforce"
            else "Content-Security-Policy-Report-Only")
    nonce = new_nonce() if settings.inline_scripts == "nonce" else None
    sys.stdout.write(f"{name}: {build_policy(settings, nonce=nonce)}\n")
    if settings.report_path is not None and settings.report_group is not None:
        sys.stdout.write(f'Reporting-Endpoints: {settings.report_group}="{settings.report_path}"\n')
    return _EXIT_OK


def add_csp_command(commands: Any) -> None:
    """Register ``csp`` on ``optout-mw``'s sub-command parsers."""
    csp = commands.add_parser(
        "csp", help="the additional Content-Security-Policy: show it, suggest an allowlist",
        description="The Content-Security-Policy optout-mw adds for opted-out visitors.",
    )
    sub = csp.add_subparsers(dest="csp_command", required=True, metavar="COMMAND")
    policy = sub.add_parser("policy", help="print the header(s) the [csp] table gives")
    policy.add_argument("--config", metavar="FILE", help="TOML configuration with a [csp] table")
    policy.set_defaults(handler=_cmd_policy)
    suggest = sub.add_parser(
        "suggest", help="propose known-good hosts from collected violation reports",
        description="Read violation reports and propose the hosts the policy blocked that no "
        "rule names, per directive, as a [csp] table. Tracker hosts are left out.",
    )
    suggest.add_argument("files", nargs="+", metavar="FILE",
                         help="reports: JSON documents, one per line or one per file; "
                         "'-' for stdin")
    suggest.add_argument("--config", metavar="FILE",
                         help="TOML configuration: the rules and the current [csp] table")
    suggest.add_argument("--preset", action="append", metavar="NAME",
                         help="enable a preset (repeatable); without --config and --preset, "
                         "all presets")
    suggest.add_argument("--min-count", type=int, default=1, metavar="N",
                         help="propose hosts reported at least N times (default 1)")
    suggest.add_argument("--json", action="store_true", help="print JSON")
    suggest.set_defaults(handler=_cmd_suggest)
