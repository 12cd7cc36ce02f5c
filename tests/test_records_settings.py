from __future__ import annotations

import pytest

from optout_mw.errors import ConfigError
from optout_mw.records import ClientIPPolicy, RecordsSettings
from optout_mw.records._model import keep_client_ip
from optout_mw.records._ttl import TTLCache


def problems(**kwargs: object) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        RecordsSettings(**kwargs)  # type: ignore[arg-type]
    return dict(caught.value.problems)


def test_defaults_keep_24_months_and_no_client_data() -> None:
    s = RecordsSettings(url="sqlite:///var/lib/site/records.db")
    assert s.retention_days == 730
    assert s.store_client_ip is ClientIPPolicy.NONE and s.store_user_agent is False
    assert s.is_sqlite and s.sqlite_path == "/var/lib/site/records.db"
    assert RecordsSettings(url="postgresql://app@db/site").is_postgres


def test_retention_below_24_months_names_the_key_and_the_rule() -> None:
    found = problems(url="sqlite:///r.db", retention_days=729)
    assert list(found) == ["records_retention_days"]
    assert "at least 730" in found["records_retention_days"]
    assert "§7101" in found["records_retention_days"]


def test_every_problem_at_once() -> None:
    found = problems(url="mysql://u:hunter2@db/x", retention_days=30, cache_size=0,
                     store_client_ip="some", read_timeout=-1, pool_min_size=9)
    assert set(found) == {
        "records_url", "records_retention_days", "records_cache_size",
        "records_store_client_ip", "records_read_timeout", "records_pool_min_size",
    }
    # The URL may carry a password: the message names the scheme, never the value.
    assert "hunter2" not in str(found) and "'mysql'" in found["records_url"]


def test_tamper_key_is_required_and_never_shown() -> None:
    found = problems(url="sqlite:///r.db", tamper_evidence=True, tamper_key="short-secret")
    assert list(found) == ["records_tamper_key"]
    assert "short-secret" not in found["records_tamper_key"]
    settings = RecordsSettings(url="sqlite:///r.db", tamper_evidence=True,
                               tamper_key="a" * 32)
    assert "a" * 32 not in repr(settings)


def test_in_memory_sqlite_is_refused() -> None:
    assert "in-memory" in problems(url="sqlite://:memory:")["records_url"]
    assert "file path" in problems(url="sqlite://")["records_url"]


def test_booleans_and_numbers_are_not_confused() -> None:
    found = problems(url="sqlite:///r.db", retention_days=True, store_user_agent="yes",
                     cache_ttl="5")
    assert set(found) == {"records_retention_days", "records_store_user_agent",
                          "records_cache_ttl"}


def test_from_mapping_uses_config_names_and_suggests() -> None:
    settings = RecordsSettings.from_mapping({
        "records_url": "sqlite:///r.db", "records_retention_days": 1095,
        "records_store_client_ip": "truncated",
    })
    assert settings.retention_days == 1095
    assert settings.store_client_ip is ClientIPPolicy.TRUNCATED
    with pytest.raises(ConfigError) as caught:
        RecordsSettings.from_mapping({"records_url": "sqlite:///r.db",
                                      "records_retention_day": 800})
    assert caught.value.problems == [
        ("records_retention_day", "unknown key; did you mean 'records_retention_days'?")
    ]
    with pytest.raises(ConfigError) as missing:
        RecordsSettings.from_mapping({})
    assert missing.value.problems[0][0] == "records_url"
    bad_choice = problems(url="sqlite:///r.db", store_client_ip="partial")
    assert "'none', 'truncated', 'full'" in bad_choice["records_store_client_ip"]


@pytest.mark.parametrize(
    ("address", "policy", "kept"),
    [
        ("203.0.113.77", ClientIPPolicy.NONE, None),
        ("203.0.113.77", ClientIPPolicy.TRUNCATED, "203.0.113.0"),
        ("203.0.113.77", ClientIPPolicy.FULL, "203.0.113.77"),
        ("2001:db8:abcd:12:1:2:3:4", ClientIPPolicy.TRUNCATED, "2001:db8:abcd::"),
        ("2001:db8:abcd:12:1:2:3:4", ClientIPPolicy.FULL, "2001:db8:abcd:12:1:2:3:4"),
        ("not an address", ClientIPPolicy.FULL, None),
        (None, ClientIPPolicy.FULL, None),
    ],
)
def test_client_ip_policy(address: str | None, policy: ClientIPPolicy, kept: str | None) -> None:
    assert keep_client_ip(address, policy) == kept


def test_ttl_cache_expires_remembers_none_and_invalidates() -> None:
    now = [100.0]
    cache: TTLCache[str, int | None] = TTLCache(2, 5.0, lambda: now[0])
    cache.put("a", 1)
    cache.put("none", None)
    assert cache.lookup("a") == (True, 1)
    assert cache.lookup("none") == (True, None)  # "nothing stored" is remembered too
    assert cache.lookup("b") == (False, None)
    now[0] += 5.0
    assert cache.lookup("a") == (False, None)
    cache.put("a", 2)
    cache.invalidate("a")
    assert cache.lookup("a") == (False, None)
    cache.put("c", 3)
    cache.put("d", 4)
    assert len(cache) == 2  # bounded by BoundedCache underneath
    off: TTLCache[str, int] = TTLCache(2, 0.0, lambda: now[0])
    off.put("a", 1)
    assert off.lookup("a") == (False, None) and len(off) == 0
