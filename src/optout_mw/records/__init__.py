"""Opt-out records: proof (11 CCR §7101, §7102) and memory across devices (§7025(c)).

A store with one schema and two implementations: SQLite (standard library, the default;
every worker process on one host shares the file) and PostgreSQL (``optout-mw[postgres]``;
every host of a fleet shares the database). :class:`Records` is what a site's middleware
holds: cached reads on the request path, writes queued to a background writer, and an
:class:`Ack` the opt-out page waits on before it says "saved". See docs/records.md.
"""

from __future__ import annotations

from optout_mw.records._errors import Contention, RecordsError, SchemaMismatch, StoreUnavailable
from optout_mw.records._model import (
    Change,
    Choice,
    Event,
    Forget,
    Link,
    Manner,
    Nature,
    Outcome,
    Response,
    Standing,
    Subject,
    SubjectKind,
    new_browser_id,
)
from optout_mw.records._records import ReadCounts, Records
from optout_mw.records._schema import SCHEMA_VERSION
from optout_mw.records._settings import ClientIPPolicy, RecordsSettings
from optout_mw.records._sql import PurgeResult, StatsRow, VerifyResult
from optout_mw.records._store import AsyncReads, Store, open_store
from optout_mw.records._writer import Ack, AckState, WriterCounts

__all__ = [
    "SCHEMA_VERSION",
    "Ack",
    "AckState",
    "AsyncReads",
    "Change",
    "Choice",
    "ClientIPPolicy",
    "Contention",
    "Event",
    "Forget",
    "Link",
    "Manner",
    "Nature",
    "Outcome",
    "PurgeResult",
    "ReadCounts",
    "Records",
    "RecordsError",
    "RecordsSettings",
    "Response",
    "SchemaMismatch",
    "Standing",
    "StatsRow",
    "Store",
    "StoreUnavailable",
    "Subject",
    "SubjectKind",
    "VerifyResult",
    "WriterCounts",
    "new_browser_id",
    "open_store",
]
