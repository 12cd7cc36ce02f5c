"""``RecordsSettings``: how the records store is reached, what it keeps and for how long.

Every key carries the ``records_`` prefix it has in the site configuration, so a problem
names the key an operator actually wrote. A URL may hold a password: messages name its
scheme only, never the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, Final

from optout_mw.errors import ConfigError, describe_type, did_you_mean

#: 11 CCR §7101(a): records of consumer requests are kept "for at least 24 months".
MIN_RETENTION_DAYS: Final = 730
#: Browsers cap cookie lifetimes at 400 days (RFC 6265bis §5.5); browser state lives no
#: longer than the cookie that carries the browser id.
MAX_BROWSER_DAYS: Final = 400

SQLITE_SCHEME: Final = "sqlite://"
POSTGRES_SCHEMES: Final = ("postgresql://", "postgres://")


class ClientIPPolicy(StrEnum):
    """How much of the client address an event keeps (none by default, §7025(d))."""

    NONE = "none"
    #: IPv4 to its /24, IPv6 to its /48: enough to tell networks apart, not people.
    TRUNCATED = "truncated"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class RecordsSettings:
    """Validated settings of the records store; every problem is reported at once."""

    #: ``sqlite:///var/lib/site/records.db`` (everything after ``sqlite://`` is the file
    #: path) or a libpq URL ``postgresql://user@host:port/db``.
    url: str = field(repr=False)
    #: Events older than this are removed by ``optout-mw records purge``.
    retention_days: int = MIN_RETENTION_DAYS
    #: A browser's state expires with its choice cookie (seconds; at most 400 days).
    browser_ttl: int = MAX_BROWSER_DAYS * 86400
    store_client_ip: ClientIPPolicy = ClientIPPolicy.NONE
    store_user_agent: bool = False
    #: Chain every event with an HMAC so that ``records verify`` detects edits and gaps.
    tamper_evidence: bool = False
    tamper_key: str | None = field(default=None, repr=False)
    #: How long a request-path read is remembered in this process (seconds).
    cache_ttl: float = 5.0
    cache_size: int = 10_000
    #: Writes waiting for the store; beyond this a write is refused, counted and logged.
    queue_size: int = 10_000
    #: Writes committed together in one transaction.
    batch_size: int = 256
    #: How long the opt-out page waits for "committed" before saying "this browser only".
    ack_timeout: float = 0.5
    #: A read on the request path never waits longer than this for the store (seconds).
    read_timeout: float = 0.25
    #: How long one write attempt waits for a lock or a connection (seconds).
    write_timeout: float = 5.0
    #: First and longest wait between write retries (exponential backoff with jitter).
    retry_base: float = 0.05
    retry_max: float = 5.0
    #: On shutdown, queued writes get this long to commit; the rest is counted as lost.
    shutdown_timeout: float = 5.0
    #: PostgreSQL connection pool bounds per process.
    pool_min_size: int = 1
    pool_max_size: int = 4
    #: Stamped on every event so a record says which rules were in force.
    config_version: str = ""

    def __post_init__(self) -> None:
        policy: object = self.store_client_ip
        if isinstance(policy, str) and policy in ClientIPPolicy.__members__.values():
            # The text forms a config file gives are accepted as the enum.
            object.__setattr__(self, "store_client_ip", ClientIPPolicy(policy))
        problems = _problems(self)
        if problems:
            raise ConfigError(problems)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith(SQLITE_SCHEME)

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith(POSTGRES_SCHEMES)

    @property
    def sqlite_path(self) -> str:
        return self.url[len(SQLITE_SCHEME):]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> RecordsSettings:
        """Settings from ``records_*`` keys (a config file's names); unknown keys are errors."""
        known = {f"records_{f.name}": f.name for f in fields(cls)}
        problems: list[tuple[str, str]] = []
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            name = known.get(key)
            if name is None:
                problems.append((key, did_you_mean(key, sorted(known))))
            else:
                kwargs[name] = value
        if "url" not in kwargs:
            problems.append(("records_url", "required: where the records are kept"))
        if problems:
            raise ConfigError(problems)
        return cls(**kwargs)


def _number(value: object, *, integer: bool) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) if integer else isinstance(value, int | float)


def _problems(settings: RecordsSettings) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    # Values as given (any type): the annotations are a promise this pass checks.
    s: Any = settings

    def bad(name: str, message: str) -> None:
        problems.append((f"records_{name}", message))

    if not isinstance(s.url, str):
        bad("url", f"expected a string, got {describe_type(s.url)}")
    elif s.url.startswith(SQLITE_SCHEME):
        path = s.url[len(SQLITE_SCHEME):]
        if not path:
            bad("url", "sqlite:// needs a file path, e.g. sqlite:///var/lib/site/records.db")
        elif ":memory:" in path or "mode=memory" in path:
            bad("url", "an in-memory database cannot be shared by the writer thread and "
                "other processes; give a file path")
    elif not s.url.startswith(POSTGRES_SCHEMES):
        scheme = s.url.partition("://")[0] if "://" in s.url else "(none)"
        bad("url", f"expected sqlite:// or postgresql://, got the scheme {scheme!r}")

    if not _number(s.retention_days, integer=True):
        bad("retention_days", f"expected a whole number of days, got "
            f"{describe_type(s.retention_days)}")
    elif s.retention_days < MIN_RETENTION_DAYS:
        bad("retention_days", f"must be at least {MIN_RETENTION_DAYS} (11 CCR §7101(a): "
            f"records are kept for at least 24 months), got {s.retention_days}")
    longest = MAX_BROWSER_DAYS * 86400
    if not _number(s.browser_ttl, integer=True) or not 1 <= s.browser_ttl <= longest:
        bad("browser_ttl", f"expected seconds between 1 and {MAX_BROWSER_DAYS * 86400} (the "
            f"choice cookie's lifetime), got {s.browser_ttl!r}")
    if not isinstance(s.store_client_ip, ClientIPPolicy):
        choices = ", ".join(repr(str(p)) for p in ClientIPPolicy)
        bad("store_client_ip", f"expected one of {choices}, got {s.store_client_ip!r}")
    for name in ("store_user_agent", "tamper_evidence"):
        if not isinstance(getattr(s, name), bool):
            bad(name, f"expected a boolean, got {describe_type(getattr(s, name))}")
    if s.tamper_evidence is True:
        if not isinstance(s.tamper_key, str) or len(s.tamper_key) < 16:
            # The value is a secret: say what is wrong with it, never what it is.
            bad("tamper_key", "required while records_tamper_evidence is on: a secret of at "
                "least 16 characters")
    elif s.tamper_key is not None and not isinstance(s.tamper_key, str):
        bad("tamper_key", f"expected a string, got {describe_type(s.tamper_key)}")

    for name, low, high in (
        ("cache_ttl", 0.0, 300.0),
        ("ack_timeout", 0.0, 30.0),
        ("read_timeout", 0.001, 10.0),
        ("write_timeout", 0.001, 60.0),
        ("retry_base", 0.001, 60.0),
        ("retry_max", 0.001, 600.0),
        ("shutdown_timeout", 0.0, 600.0),
    ):
        value = getattr(s, name)
        if not _number(value, integer=False) or not low <= value <= high:
            bad(name, f"expected seconds between {low:g} and {high:g}, got {value!r}")
    for name, low in (("cache_size", 1), ("queue_size", 1), ("batch_size", 1),
                      ("pool_min_size", 0), ("pool_max_size", 1)):
        value = getattr(s, name)
        if not _number(value, integer=True) or value < low:
            bad(name, f"expected a whole number of at least {low}, got {value!r}")
    if (
        _number(s.pool_min_size, integer=True)
        and _number(s.pool_max_size, integer=True)
        and s.pool_min_size > s.pool_max_size
    ):
        bad("pool_min_size", f"must not exceed records_pool_max_size ({s.pool_max_size}), "
            f"got {s.pool_min_size}")
    if (
        _number(s.retry_base, integer=False)
        and _number(s.retry_max, integer=False)
        and s.retry_base > s.retry_max
    ):
        bad("retry_base", f"must not exceed records_retry_max ({s.retry_max:g}), "
            f"got {s.retry_base:g}")
    if not isinstance(s.config_version, str):
        bad("config_version", f"expected a string, got {describe_type(s.config_version)}")
    return problems
