"""Shared builders for the opt-out surface tests (no tests of its own)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from optout_mw.config import OptOutConfig, development_config
from optout_mw.cookies import ChoiceCookieCodec, StoredChoice
from optout_mw.decision import Decider, Decision
from optout_mw.endpoints import EndpointRequest, EndpointResponse, Endpoints
from optout_mw.stubs import StubInjector
from optout_mw.writeback import WriteBack

SECRET = "optout-mw-development-secret-not-for-production"
PAGE = "/privacy/opt-out"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def ts(text: str) -> float:
    """Seconds since the epoch for an ISO date-time read as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def config(**changes: Any) -> OptOutConfig:
    return development_config(**changes)


def choice_cookie(opted_out: bool, made_at: float) -> str:
    """A ``Cookie`` pair holding a real signed choice made at ``made_at``."""
    codec = ChoiceCookieCodec([SECRET], max_age=400 * 86400)
    return "optout_choice=" + codec.dumps(StoredChoice(opted_out=opted_out, made_at=int(made_at)))


def decide(
    cfg: OptOutConfig, *, gpc: bool = False, cookie: str | None = None, now: float | None = None
) -> Decision:
    return Decider(cfg).decide(["1"] if gpc else [], cookie, time.time() if now is None else now)


def request(
    method: str = "GET",
    path: str = PAGE,
    *,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    too_large: bool = False,
    scheme: str = "https",
) -> EndpointRequest:
    return EndpointRequest(
        method=method, path=path, query=query, headers=dict(headers or {}), body=body,
        body_too_large=too_large, scheme=scheme,
    )


def post(
    body: bytes | str,
    *,
    headers: Mapping[str, str] | None = None,
    query: str = "",
) -> EndpointRequest:
    merged = {**FORM, "host": "shop.test", **(headers or {})}
    data = body.encode() if isinstance(body, str) else body
    return request("POST", PAGE, query=query, headers=merged, body=data)


def set_cookies(response: EndpointResponse) -> dict[str, str]:
    """``name -> whole Set-Cookie value`` of a response."""
    return {value.split("=", 1)[0]: value for value in response.header_values("Set-Cookie")}


def cookie_header(response: EndpointResponse, previous: str | None = None) -> str:
    """The ``Cookie`` header a browser would send next, after ``response``'s cookies."""
    jar: dict[str, str] = {}
    for chunk in (previous or "").split(";"):
        name, sep, value = chunk.strip().partition("=")
        if sep:
            jar[name] = value
    for value in response.header_values("Set-Cookie"):
        pair, *attributes = value.split(";")
        name, _, cookie_value = pair.partition("=")
        if any(attr.strip() == "Max-Age=0" for attr in attributes):
            jar.pop(name, None)
        else:
            jar[name] = cookie_value
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def attributes(set_cookie: str) -> set[str]:
    return {part.strip() for part in set_cookie.split(";")[1:]}


def endpoints_for(cfg: OptOutConfig) -> Endpoints:
    """The surface as the engine builds it: one decider, its codec, one write-back."""
    decider = Decider(cfg)
    return Endpoints(cfg, decider=decider, writeback=WriteBack(cfg, decider.codec))


def writeback_for(cfg: OptOutConfig) -> WriteBack:
    return WriteBack(cfg, Decider(cfg).codec)


def injector_for(cfg: OptOutConfig) -> StubInjector:
    return StubInjector(cfg, writeback_for(cfg).gpp)


def surface(**changes: Any) -> Endpoints:
    return endpoints_for(config(**changes))
