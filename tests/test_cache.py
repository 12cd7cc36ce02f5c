from __future__ import annotations

import threading

import pytest

from optout_mw._cache import BoundedCache


def test_hit_and_miss() -> None:
    cache: BoundedCache[str, int] = BoundedCache(4)
    assert cache.get("a") is None
    assert cache.put("a", 1) == 1
    assert cache.get("a") == 1
    assert cache.get("b", 7) == 7
    assert "a" in cache and len(cache) == 1


def test_oldest_entry_goes_first_when_full() -> None:
    cache: BoundedCache[int, int] = BoundedCache(3)
    for key in range(3):
        cache.put(key, key)
    cache.put(3, 3)
    assert [cache.get(k) for k in range(4)] == [None, 1, 2, 3]
    assert len(cache) == 3


def test_replacing_a_key_evicts_nothing() -> None:
    cache: BoundedCache[int, str] = BoundedCache(2)
    cache.put(1, "a")
    cache.put(2, "b")
    cache.put(2, "c")
    assert (cache.get(1), cache.get(2), len(cache)) == ("a", "c", 2)


def test_clear_keeps_get_working() -> None:
    cache: BoundedCache[int, int] = BoundedCache(2)
    cache.put(1, 1)
    cache.clear()
    assert cache.get(1) is None
    cache.put(1, 2)
    assert cache.get(1) == 2


def test_rejects_empty_capacity() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        BoundedCache(0)


def test_threads_never_exceed_the_bound() -> None:
    cache: BoundedCache[tuple[int, int], int] = BoundedCache(64)
    sizes: list[int] = []

    def fill(worker: int) -> None:
        for i in range(5000):
            cache.put((worker, i), i)
            sizes.append(len(cache))

    threads = [threading.Thread(target=fill, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A racing put may land between another's eviction and insertion: at most one extra
    # entry per thread, never growth.
    assert max(sizes) <= 64 + 8
    assert len(cache) <= 64 + 8
