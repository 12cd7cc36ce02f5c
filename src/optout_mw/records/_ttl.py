"""``TTLCache``: :class:`optout_mw._cache.BoundedCache` whose entries also expire."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from optout_mw._cache import BoundedCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class TTLCache(Generic[K, V]):
    """At most ``maxsize`` entries, each remembered for ``ttl`` seconds of ``clock``.

    A value may be ``None`` (a remembered "nothing stored"), so :meth:`lookup` tells a
    miss apart with its ``found`` flag.
    """

    __slots__ = ("_clock", "_data", "ttl")

    def __init__(self, maxsize: int, ttl: float, clock: Callable[[], float]) -> None:
        self._data: BoundedCache[K, tuple[float, V]] = BoundedCache(maxsize)
        self.ttl = ttl
        self._clock = clock

    def lookup(self, key: K) -> tuple[bool, V | None]:
        entry = self._data.get(key)
        if entry is None or entry[0] <= self._clock():
            return False, None
        return True, entry[1]

    def put(self, key: K, value: V) -> V:
        if self.ttl > 0:
            self._data.put(key, (self._clock() + self.ttl, value))
        return value

    def invalidate(self, key: K) -> None:
        # BoundedCache has no delete: an entry that expired at the epoch is a miss.
        entry = self._data.get(key)
        if entry is not None:
            self._data.put(key, (0.0, entry[1]))

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()
