from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer

from optout_mw.cookies import (
    CHOICE_SALT,
    ChoiceCookieCodec,
    ChoiceStatus,
    CookieReader,
    StoredChoice,
    build_set_cookie,
    join_cookie_headers,
    parse_cookie_header,
)

KEY_OLD = "old-secret-0123456789"
KEY_NEW = "new-secret-0123456789"
NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("a=1; b=2", {"a": "1", "b": "2"}, id="simple"),
        pytest.param("a=1;b=2", {"a": "1", "b": "2"}, id="no space"),
        pytest.param('a="quoted"', {"a": "quoted"}, id="quoted value"),
        pytest.param("a=1; a=2", {"a": "1"}, id="duplicate: first wins"),
        pytest.param("junk; a=1", {"a": "1"}, id="valueless chunk skipped"),
        pytest.param("a=1; ;; =x; b=2", {"a": "1", "b": "2"}, id="empty chunks and names"),
        pytest.param("a=x=y", {"a": "x=y"}, id="equals in value"),
        pytest.param("a=\x00; b=2", {"a": "\x00", "b": "2"}, id="nul in value"),
        pytest.param("é=1; b=2", {"é": "1", "b": "2"}, id="non-ascii name"),
        pytest.param('a=1"; b=2', {"a": '1"', "b": "2"}, id="stray quote kept"),
        pytest.param("", {}, id="empty"),
    ],
)
def test_parse_cookie_header(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie_header(header) == expected


def test_join_repeated_cookie_headers() -> None:
    assert join_cookie_headers(["a=1", "", "b=2"]) == "a=1; b=2"


def test_reader_keeps_every_value_of_wanted_names_only() -> None:
    reader = CookieReader(["usprivacy", "__gpp"])
    header = "xusprivacy=1YNN; usprivacy=1YNN; other=1; usprivacy = 1YYN ; __gpp=DBAA; __gpp_sid=7"
    assert reader.read(header) == {"usprivacy": ["1YNN", "1YYN"], "__gpp": ["DBAA"]}


def test_reader_name_prefix_does_not_match() -> None:
    reader = CookieReader(["__gpp", "__gpp_sid"])
    assert reader.read("__gpp_sid=7; __gpp=DBAA") == {"__gpp_sid": ["7"], "__gpp": ["DBAA"]}


def test_reader_handles_16k_header() -> None:
    filler = "; ".join(f"c{i}={'x' * 150}" for i in range(100))
    header = filler + "; usprivacy=1YYN"
    assert len(header) > 15_000
    assert CookieReader(["usprivacy"]).read(header) == {"usprivacy": ["1YYN"]}


@given(st.text(), st.lists(st.text(min_size=1), max_size=4))
def test_parsers_never_raise(header: str, names: list[str]) -> None:
    parse_cookie_header(header)
    CookieReader(names).read(header)


def codec(*keys: str, max_age: int = 3600) -> ChoiceCookieCodec:
    return ChoiceCookieCodec(list(keys), max_age=max_age)


def test_choice_round_trip() -> None:
    c = codec(KEY_NEW)
    value = c.dumps(StoredChoice(opted_out=True, made_at=1_700_000_000))
    choice, status = c.loads(value, now=_signed_now())
    assert status is ChoiceStatus.VALID
    assert choice is not None
    assert (choice.opted_out, choice.made_at) == (True, 1_700_000_000)
    assert abs(choice.signed_at - _signed_now()) < 5


def _signed_now() -> float:
    import time

    return time.time()


def test_rotated_keys_old_cookie_still_verifies_new_cookie_uses_newest() -> None:
    old = codec(KEY_OLD).dumps(StoredChoice(opted_out=True, made_at=1))
    rotated = codec(KEY_OLD, KEY_NEW)
    assert rotated.loads(old, now=_signed_now())[1] is ChoiceStatus.VALID
    new = rotated.dumps(StoredChoice(opted_out=False, made_at=2))
    assert codec(KEY_NEW).loads(new, now=_signed_now())[1] is ChoiceStatus.VALID
    assert codec(KEY_OLD).loads(new, now=_signed_now())[1] is ChoiceStatus.BAD_SIGNATURE


def test_removed_key_no_longer_verifies() -> None:
    old = codec(KEY_OLD).dumps(StoredChoice(opted_out=True, made_at=1))
    assert codec(KEY_NEW).loads(old, now=_signed_now()) == (None, ChoiceStatus.BAD_SIGNATURE)


def test_expired() -> None:
    c = codec(KEY_NEW, max_age=60)
    value = c.dumps(StoredChoice(opted_out=True, made_at=1))
    assert c.loads(value, now=_signed_now() + 61) == (None, ChoiceStatus.EXPIRED)
    assert c.loads(value, now=_signed_now() + 30)[1] is ChoiceStatus.VALID


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"c": "maybe", "t": 1}, id="unknown choice"),
        pytest.param({"c": "out"}, id="missing time"),
        pytest.param({"c": "out", "t": "1"}, id="time as string"),
        pytest.param({"c": "out", "t": True}, id="time as bool"),
        pytest.param(["out", 1], id="list payload"),
    ],
)
def test_validly_signed_but_malformed_payload(payload: object) -> None:
    value = URLSafeTimedSerializer([KEY_NEW], salt=CHOICE_SALT).dumps(payload)
    assert codec(KEY_NEW).loads(value, now=_signed_now()) == (None, ChoiceStatus.MALFORMED)


def test_other_salt_is_rejected() -> None:
    value = URLSafeTimedSerializer([KEY_NEW], salt="session").dumps({"c": "out", "t": 1})
    assert codec(KEY_NEW).loads(value, now=_signed_now())[1] is ChoiceStatus.BAD_SIGNATURE


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("garbage", id="garbage"),
        pytest.param("a.b.c", id="three dots"),
        pytest.param("é" * 10, id="non-ascii"),
        pytest.param("\x00" * 10, id="nul bytes"),
        pytest.param("x" * 100_000, id="huge"),
    ],
)
def test_tampered_never_raises(value: str) -> None:
    choice, status = codec(KEY_NEW).loads(value, now=NOW)
    assert choice is None
    assert status in (ChoiceStatus.BAD_SIGNATURE, ChoiceStatus.MALFORMED)


def test_tampered_payload_with_valid_looking_signature() -> None:
    c = codec(KEY_NEW)
    value = c.dumps(StoredChoice(opted_out=False, made_at=1))
    payload, _, rest = value.partition(".")
    forged = c.dumps(StoredChoice(opted_out=True, made_at=1)).partition(".")[0] + "." + rest
    assert forged != value
    assert c.loads(forged, now=_signed_now())[1] is ChoiceStatus.BAD_SIGNATURE
    assert payload


@given(st.text(max_size=300))
def test_loads_total(value: str) -> None:
    choice, status = codec(KEY_NEW).loads(value, now=NOW)
    assert choice is None or status is ChoiceStatus.VALID


def test_build_set_cookie_defaults() -> None:
    assert build_set_cookie("c", "v", max_age=10) == (
        "c=v; Path=/; SameSite=Lax; Max-Age=10; Secure; HttpOnly"
    )
    assert build_set_cookie("c", "v", max_age=None, secure=False, http_only=False) == (
        "c=v; Path=/; SameSite=Lax"
    )


def test_reader_accepts_comma_joined_cookie_fields() -> None:
    reader = CookieReader(["usprivacy", "__gpp_sid"])
    assert reader.read("a=1,usprivacy=1YYN") == {"usprivacy": ["1YYN"]}
    assert reader.read("a=1, __gpp_sid=7,8") == {"__gpp_sid": ["7,8"]}
