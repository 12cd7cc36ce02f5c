"""Exceptions of the records store."""

from __future__ import annotations

from optout_mw.errors import OptOutError


class RecordsError(OptOutError):
    """Base class of the records store's exceptions."""


class StoreUnavailable(RecordsError):
    """The store cannot be reached, is locked or too slow; the operation may succeed later."""


class SchemaMismatch(StoreUnavailable):
    """The store's schema is not the version this code reads and writes.

    Writes are refused (held in the queue) and reads fall back until ``optout-mw records
    migrate`` brings the schema to the expected version.
    """

    def __init__(self, found: int, expected: int) -> None:
        self.found = found
        self.expected = expected
        if found < expected:
            advice = "run `optout-mw records migrate`"
        else:
            advice = "this optout-mw is older than the schema; upgrade it"
        super().__init__(
            f"the records schema is at version {found}, this optout-mw needs {expected}: "
            f"{advice}"
        )


class Contention(StoreUnavailable):
    """A subject kept changing under optimistic concurrency; the change is retried."""
