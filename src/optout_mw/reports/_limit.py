"""Token-bucket rate limiting for the report endpoint, in bounded memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Two token buckets: one per client (by the key the caller gives, e.g. the peer
    address) and one for all clients together. A request takes a token from both; either
    empty means "no". Buckets refill continuously at ``rate`` tokens per second up to
    ``burst``.

    At most ``max_clients`` client buckets are kept; the least recently seen goes first.
    Forgetting a client can only give it a full bucket back, so the total bucket still
    bounds the endpoint's work. Thread-safe.

    :param clock: monotonic seconds; replaceable in tests.
    """

    __slots__ = ("_clients", "_clock", "_lock", "_total", "burst", "max_clients", "rate",
                 "total_burst", "total_rate")

    def __init__(
        self,
        *,
        rate: float = 1.0,
        burst: float = 20.0,
        total_rate: float = 100.0,
        total_burst: float = 500.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min(rate, burst, total_rate, total_burst) <= 0 or max_clients < 1:
            raise ValueError("rates, bursts and max_clients must be positive")
        self.rate, self.burst = rate, burst
        self.total_rate, self.total_burst = total_rate, total_burst
        self.max_clients = max_clients
        self._clock = clock
        self._lock = threading.Lock()
        # client -> (tokens, time of that count); dict order is least recently seen first.
        self._clients: dict[str, tuple[float, float]] = {}
        self._total = (total_burst, clock())

    def allow(self, client: str) -> bool:
        """Whether one more request from ``client`` may be handled now."""
        with self._lock:
            now = self._clock()
            tokens, at = self._clients.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            total, total_at = self._total
            total = min(self.total_burst, total + (now - total_at) * self.total_rate)
            allowed = tokens >= 1.0 and total >= 1.0
            if allowed:
                tokens -= 1.0
                total -= 1.0
            self._clients[client] = (tokens, now)
            self._total = (total, now)
            while len(self._clients) > self.max_clients:
                del self._clients[next(iter(self._clients))]
            return allowed

    def __len__(self) -> int:
        return len(self._clients)
