"""The one schema, in the two dialects, as numbered migrations.

Migrations run only through ``optout-mw records migrate`` (or :meth:`Store.migrate`),
never on a request: a store whose schema is not the version this code expects refuses
writes and its reads fall back to the request's own signals.

Times are integer milliseconds since the epoch (UTC) in both dialects, so the same
arithmetic (retention, days to respond) runs everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    title: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]


_TABLES: Final = """
CREATE TABLE optout_subjects (
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('browser', 'account')),
    subject_id TEXT NOT NULL,
    opted_out {bool} NOT NULL,
    since_ms BIGINT NOT NULL,
    manner TEXT NOT NULL,
    jurisdiction TEXT,
    version BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    expires_ms BIGINT,
    PRIMARY KEY (subject_kind, subject_id)
);
CREATE INDEX optout_subjects_expiry ON optout_subjects (expires_ms);
CREATE TABLE optout_links (
    browser_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    linked_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (browser_id, account_id)
);
CREATE INDEX optout_links_account ON optout_links (account_id);
CREATE INDEX optout_links_expiry ON optout_links (expires_ms);
CREATE TABLE optout_events (
    seq {serial},
    event_id TEXT NOT NULL UNIQUE,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    nature TEXT NOT NULL,
    manner TEXT NOT NULL,
    requested_ms BIGINT NOT NULL,
    responded_ms BIGINT NOT NULL,
    response TEXT NOT NULL,
    denial_basis TEXT,
    signals TEXT NOT NULL,
    jurisdiction TEXT,
    config_version TEXT NOT NULL,
    client_ip TEXT,
    user_agent TEXT,
    prev_mac TEXT,
    mac TEXT
);
CREATE INDEX optout_events_requested ON optout_events (requested_ms);
CREATE TABLE optout_chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    head_mac TEXT NOT NULL,
    anchor_mac TEXT NOT NULL
);
INSERT INTO optout_chain (id, head_mac, anchor_mac) VALUES (1, '', '')
"""

# The event log is append-only: rows are never updated; only a purge deletes them.
_SQLITE_APPEND_ONLY: Final = (
    "CREATE TRIGGER optout_events_append_only BEFORE UPDATE ON optout_events "
    "BEGIN SELECT RAISE(ABORT, 'optout_events is append-only'); END"
)
_POSTGRES_APPEND_ONLY: Final = (
    "CREATE FUNCTION optout_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'optout_events is append-only'; END $$",
    "CREATE TRIGGER optout_events_append_only BEFORE UPDATE ON optout_events "
    "FOR EACH ROW EXECUTE FUNCTION optout_events_append_only()",
)


def _statements(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(";") if part.strip())


MIGRATIONS: Final = (
    Migration(
        1,
        "subjects, links, events, tamper-evidence chain",
        sqlite=(
            *_statements(
                _TABLES.format(bool="INTEGER", serial="INTEGER PRIMARY KEY AUTOINCREMENT")
            ),
            _SQLITE_APPEND_ONLY,
        ),
        postgres=(
            *_statements(_TABLES.format(bool="BOOLEAN", serial="BIGSERIAL PRIMARY KEY")),
            *_POSTGRES_APPEND_ONLY,
        ),
    ),
)

#: The schema version this code reads and writes.
SCHEMA_VERSION: Final = MIGRATIONS[-1].version

#: A schema found behind is looked at again this often (seconds), so a migration run while
#: the site is up takes effect without a restart.
SCHEMA_RECHECK: Final = 10.0

META_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS optout_records_meta "
    "(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
)
