"""``BoundedCache``: the one bounded memo every cache in optout-mw uses.

Caches here remember pure results (a ``Content-Type`` verdict, a tag's verdict, a decision
for a repeated ``Cookie`` header), so losing an entry only costs recomputing it. Memory is
bounded by evicting the oldest entry when full (insertion order), which keeps a working
set that fits and, unlike clearing everything, does not throw a warm cache away when a
page brings many new keys. Hits are a plain ``dict.get``: :attr:`get` is the dict's own
bound method. Safe to share between threads under the GIL: a racing eviction at worst
drops an entry another thread was adding.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable
from typing import Final, Generic, Literal, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Missing(enum.Enum):
    MISSING = enum.auto()


#: ``cache.get(key, MISSING)`` tells a missing entry from a remembered ``None``.
MISSING: Final = _Missing.MISSING
Missing = Literal[_Missing.MISSING]


class BoundedCache(Generic[K, V]):
    """A mapping of at most ``maxsize`` entries; the oldest goes first when full."""

    __slots__ = ("_data", "get", "maxsize")

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self._data: dict[K, V] = {}
        #: ``get(key)`` / ``get(key, default)``: the dict's own method, as fast as a lookup.
        self.get = self._data.get

    def put(self, key: K, value: V) -> V:
        """Remember ``value`` under ``key`` and return it."""
        data = self._data
        if len(data) >= self.maxsize and key not in data:
            try:
                del data[next(iter(data))]
            except (StopIteration, KeyError, RuntimeError):
                # Another thread changed the dict mid-eviction; any entry may go.
                data.clear()
        data[key] = value
        return value

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def clear(self) -> None:
        self._data.clear()
