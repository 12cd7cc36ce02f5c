"""``optout-mw records``: migrate, purge, export, stats, verify.

The store is named by ``--url`` or ``OPTOUT_RECORDS_URL``; the tamper-evidence key is read
from an environment variable (``--key-env``, default ``OPTOUT_RECORDS_TAMPER_KEY``),
never from the command line, where other users of the machine could read it.

Exit codes follow ``optout-mw``'s: 0 success, 1 ``verify`` found a problem, 2 invalid
settings or usage, 3 the store could not be reached.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import IO, Any, Final

from optout_mw.errors import ConfigError
from optout_mw.records._errors import StoreUnavailable
from optout_mw.records._model import Event
from optout_mw.records._settings import RecordsSettings
from optout_mw.records._sql import stats
from optout_mw.records._store import Store, open_store

EXIT_OK: Final = 0
EXIT_FOUND: Final = 1
EXIT_INVALID: Final = 2
EXIT_UNREADABLE: Final = 3

URL_ENV: Final = "OPTOUT_RECORDS_URL"
KEY_ENV: Final = "OPTOUT_RECORDS_TAMPER_KEY"

EXPORT_FIELDS: Final = (
    "seq", "event_id", "subject_kind", "subject_id", "nature", "manner", "requested_at",
    "responded_at", "response", "denial_basis", "signals", "jurisdiction", "config_version",
    "client_ip", "user_agent", "mac",
)


def _err(text: str) -> None:
    sys.stderr.write(f"optout-mw records: {text}\n")


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def _moment(text: str) -> float:
    """``2026-01-01`` (midnight UTC) or an ISO 8601 date-time (UTC when no offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 date or date-time, got {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _settings(args: argparse.Namespace, **extra: Any) -> RecordsSettings:
    url = args.url or os.environ.get(URL_ENV)
    if not url:
        raise ConfigError([("records_url", f"required: pass --url or set {URL_ENV}")])
    return RecordsSettings(url=url, **extra)


def _run(args: argparse.Namespace) -> int:
    extra: dict[str, Any] = {}
    if getattr(args, "retention_days", None) is not None:
        extra["retention_days"] = args.retention_days
    try:
        settings = _settings(args, **extra)
    except ConfigError as error:
        for key, message in error.problems:
            _err(f"{key}: {message}")
        return EXIT_INVALID
    store = open_store(settings)
    try:
        code: int = args.records_handler(store, settings, args)
        return code
    except StoreUnavailable as error:
        _err(str(error))
        return EXIT_UNREADABLE
    finally:
        store.close()


def _migrate(store: Store, settings: RecordsSettings, args: argparse.Namespace) -> int:
    before, after = store.migrate()
    if before == after:
        print(f"records schema already at version {after} ({store.kind})")
    else:
        print(f"records schema migrated from version {before} to {after} ({store.kind})")
    return EXIT_OK


def _purge(store: Store, settings: RecordsSettings, args: argparse.Namespace) -> int:
    result = store.purge(now=time.time(), retention_days=settings.retention_days)
    print(f"purged {result.events} event(s) older than {settings.retention_days} days, "
          f"{result.browsers} expired browser state(s), {result.accounts} opted-in account "
          f"state(s), {result.links} expired link(s)")
    return EXIT_OK


def _export_row(event: Event) -> dict[str, object]:
    return {
        "seq": event.seq, "event_id": event.event_id, "subject_kind": event.subject_kind,
        "subject_id": event.subject_id, "nature": event.nature, "manner": event.manner,
        "requested_at": _iso(event.requested_at), "responded_at": _iso(event.responded_at),
        "response": event.response, "denial_basis": event.denial_basis,
        "signals": list(event.signals), "jurisdiction": event.jurisdiction,
        "config_version": event.config_version, "client_ip": event.client_ip,
        "user_agent": event.user_agent, "mac": event.mac,
    }


def write_export(events: Iterable[Event], out: IO[str], fmt: str) -> int:
    """Write ``events`` as JSON lines or CSV; the number written."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for event in events:
            row = _export_row(event)
            row["signals"] = " ".join(event.signals)
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
            count += 1
    else:
        for event in events:
            out.write(json.dumps(_export_row(event), ensure_ascii=False) + "\n")
            count += 1
    return count


def _export(store: Store, settings: RecordsSettings, args: argparse.Namespace) -> int:
    events = store.events(since=args.since, until=args.until)
    if args.output in (None, "-"):
        count = write_export(events, sys.stdout, args.format)
        sys.stdout.flush()
    else:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            count = write_export(events, out, args.format)
    _err(f"exported {count} event(s)")
    return EXIT_OK


def _stats(store: Store, settings: RecordsSettings, args: argparse.Namespace) -> int:
    year: int = args.year
    since = datetime(year, 1, 1, tzinfo=UTC).timestamp()
    until = datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()
    rows = stats(store.events(since=since, until=until))
    if args.json:
        print(json.dumps({"year": year, "rows": [
            {"nature": r.nature, "received": r.received, "complied": r.complied,
             "denied": r.denied, "median_days": r.median_days, "mean_days": r.mean_days}
            for r in rows]}, indent=2))
        return EXIT_OK
    print(f"11 CCR §7102(a)(1) metrics, requests received in {year} (UTC)")
    print(f"{'nature':<10} {'received':>9} {'complied':>9} {'denied':>7} "
          f"{'median days':>12} {'mean days':>10}")
    for r in rows:
        median = "-" if r.median_days is None else f"{r.median_days:.2f}"
        mean = "-" if r.mean_days is None else f"{r.mean_days:.2f}"
        print(f"{r.nature:<10} {r.received:>9} {r.complied:>9} {r.denied:>7} "
              f"{median:>12} {mean:>10}")
    if not rows:
        print("(no requests recorded)")
    return EXIT_OK


def _verify(store: Store, settings: RecordsSettings, args: argparse.Namespace) -> int:
    key = os.environ.get(args.key_env, "")
    if not key:
        _err(f"the tamper-evidence key is read from ${args.key_env}, which is not set")
        return EXIT_INVALID
    result = store.verify(key.encode("utf-8"))
    for problem in result.problems:
        print(f"PROBLEM {problem}")
    unchained = f"; {result.unchained} event(s) written without tamper evidence" \
        if result.unchained else ""
    verdict = "intact" if result.ok else f"{len(result.problems)} problem(s)"
    print(f"checked {result.checked} chained event(s): {verdict}{unchained}")
    return EXIT_OK if result.ok else EXIT_FOUND


def add_records_command(commands: Any) -> None:
    """Register ``records`` on ``optout-mw``'s sub-command parser."""
    records = commands.add_parser(
        "records", help="the opt-out records store: migrate, purge, export, stats, verify",
        description="Manage the opt-out records (11 CCR §7101, §7102). The store is named "
        f"by --url or ${URL_ENV}.",
    )
    actions = records.add_subparsers(dest="records_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text,
                                                             description=help_text)
        parser.add_argument("--url", help=f"the store (default: ${URL_ENV})")
        parser.set_defaults(handler=_run, records_handler=handler)
        return parser

    action("migrate", "apply pending schema migrations (never done on a request)", _migrate)
    purge = action("purge", "remove events past retention, expired browsers and links",
                   _purge)
    purge.add_argument("--retention-days", type=int, metavar="N",
                       help="keep events this many days (at least 730; default 730)")
    export = action("export", "export events for an auditor", _export)
    export.add_argument("--since", type=_moment, required=True, metavar="DATE",
                        help="requests made at or after (ISO 8601; UTC when no offset)")
    export.add_argument("--until", type=_moment, metavar="DATE", help="and before")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    stats_ = action("stats", "the §7102 table of one calendar year", _stats)
    stats_.add_argument("--year", type=int, default=date.today().year - 1,
                        help="calendar year (default: the previous one, as §7102 asks)")
    stats_.add_argument("--json", action="store_true", help="print JSON")
    verify = action("verify", "check the HMAC chain over the events", _verify)
    verify.add_argument("--key-env", default=KEY_ENV, metavar="NAME",
                        help=f"environment variable holding the key (default {KEY_ENV})")
