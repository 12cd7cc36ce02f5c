"""Cookie handling: lenient ``Cookie`` parsing, the signed choice cookie, ``Set-Cookie``.

The parser follows the lenient algorithm browsers and Starlette/Django use rather than
``http.cookies.SimpleCookie``, which rejects whole headers over one odd cookie.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from itsdangerous import BadData, URLSafeTimedSerializer

from ._cache import BoundedCache

#: Salt separating the choice cookie's signatures from any other use of the same secret.
CHOICE_SALT = "optout_mw.choice"


def join_cookie_headers(values: Iterable[str]) -> str:
    """Join repeated ``Cookie`` fields (HTTP/2 may split them) with ``"; "``."""
    return "; ".join(value for value in values if value)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def parse_cookie_header(header: str) -> dict[str, str]:
    """Every cookie of a ``Cookie`` header; the first of duplicate names wins.

    Never raises: a malformed pair is skipped without hiding the others.
    (Browsers send the most specific cookie first, RFC 6265 §5.4.)
    """
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        if not sep:
            continue
        name = name.strip()
        if name and name not in cookies:
            cookies[name] = _unquote(value.strip())
    return cookies


class CookieReader:
    """Extracts a few named cookies from a ``Cookie`` header.

    Faster than parsing the whole header when only the signal cookies matter (``str.find``
    runs at C speed over a 4 KB header); every value of a repeated name is kept, so a
    signal cannot hide behind a duplicate.
    """

    __slots__ = ("_names",)

    def __init__(self, names: Sequence[str]) -> None:
        self._names = tuple(dict.fromkeys(name for name in names if name))

    def read(self, header: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        size = len(header)
        for name in self._names:
            start = header.find(name)
            while start >= 0:
                after = start + len(name)
                if _starts_pair(header, start):
                    equals = after
                    while equals < size and header[equals] in " \t":
                        equals += 1
                    if equals < size and header[equals] == "=":
                        end = header.find(";", equals)
                        value = header[equals + 1 : end if end >= 0 else size].strip(" \t")
                        found.setdefault(name, []).append(_unquote(value))
                start = header.find(name, after)
        return found


def _starts_pair(header: str, index: int) -> bool:
    """Whether ``index`` starts a ``name=value`` pair: only spaces back to a ``;``.

    A ``,`` counts too: some servers join repeated ``Cookie`` fields with commas, and an
    opt-out must not hide behind that.
    """
    index -= 1
    while index >= 0 and header[index] in " \t":
        index -= 1
    return index < 0 or header[index] in ";,"


class ChoiceStatus(StrEnum):
    VALID = "valid"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class StoredChoice:
    """The visitor's choice as stored in the signed cookie."""

    #: ``True``: do not sell or share; ``False``: the visitor opted (back) in.
    opted_out: bool
    #: When the choice was made (seconds since the epoch); kept across cookie refreshes.
    made_at: int
    #: When this cookie value was signed (0 for a choice not yet signed).
    signed_at: int = 0


class ChoiceCookieCodec:
    """Signs and verifies the choice cookie with itsdangerous.

    :param secret_keys: oldest to newest; the newest signs, every key verifies.
    :param max_age: seconds after signing beyond which a cookie is ignored as expired.
    """

    __slots__ = ("_serializer", "_verified", "max_age")

    def __init__(self, secret_keys: Sequence[str], *, max_age: int) -> None:
        self._serializer = URLSafeTimedSerializer(list(secret_keys), salt=CHOICE_SALT)
        self.max_age = max_age
        # Verification does not depend on the clock, so its result can be reused for the
        # many requests of one page load; the expiry check runs every time.
        self._verified: BoundedCache[str, tuple[StoredChoice | None, ChoiceStatus]] = (
            BoundedCache(1024)
        )

    def dumps(self, choice: StoredChoice) -> str:
        payload = {"c": "out" if choice.opted_out else "in", "t": int(choice.made_at)}
        return self._serializer.dumps(payload)

    def loads(self, value: str, *, now: float) -> tuple[StoredChoice | None, ChoiceStatus]:
        """Verify ``value``; never raises. The clock is passed in so tests control it."""
        cached = self._verified.get(value)
        if cached is None:
            cached = self._verify(value)
            if len(value) <= 4096:  # junk that is never valid is not worth remembering
                self._verified.put(value, cached)
        choice, status = cached
        if choice is not None and now - choice.signed_at > self.max_age:
            return None, ChoiceStatus.EXPIRED
        return choice, status

    def _verify(self, value: str) -> tuple[StoredChoice | None, ChoiceStatus]:
        if len(value) > 4096:
            return None, ChoiceStatus.MALFORMED
        try:
            payload, signed_at = self._serializer.loads(value, return_timestamp=True)
        except BadData:
            return None, ChoiceStatus.BAD_SIGNATURE
        except (ValueError, TypeError, json.JSONDecodeError, UnicodeError):
            return None, ChoiceStatus.MALFORMED
        if not isinstance(payload, dict):
            return None, ChoiceStatus.MALFORMED
        choice, made_at = payload.get("c"), payload.get("t")
        if choice not in ("out", "in") or not isinstance(made_at, int) or isinstance(
            made_at, bool
        ):
            return None, ChoiceStatus.MALFORMED
        stored = StoredChoice(
            opted_out=choice == "out", made_at=made_at, signed_at=int(signed_at.timestamp())
        )
        return stored, ChoiceStatus.VALID


def build_set_cookie(
    name: str,
    value: str,
    *,
    max_age: int | None,
    path: str = "/",
    secure: bool = True,
    http_only: bool = True,
    same_site: str = "Lax",
) -> str:
    """A ``Set-Cookie`` value. ``max_age=0`` deletes the cookie."""
    parts = [f"{name}={value}", f"Path={path}", f"SameSite={same_site}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    if http_only:
        parts.append("HttpOnly")
    return "; ".join(parts)
