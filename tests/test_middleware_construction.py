"""Misusing a middleware fails at construction with a clear message, not on every request."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from optout_mw import OptOutASGIMiddleware, OptOutWSGIMiddleware, development_config
from optout_mw._types import Receive, Scope, Send, StartResponse, WSGIEnviron


async def asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("never called")


def wsgi_app(environ: WSGIEnviron, start_response: StartResponse) -> list[bytes]:
    raise AssertionError("never called")


ADAPTERS: list[tuple[type[Any], Any]] = [
    (OptOutASGIMiddleware, asgi_app),
    (OptOutWSGIMiddleware, wsgi_app),
]


@pytest.mark.parametrize(("adapter", "app"), ADAPTERS, ids=["asgi", "wsgi"])
@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"mode": "report"}, r"got dict \(a dict: build the configuration with OptOutConfig"),
        (None, r"got NoneType \(build one with load_config\(\)"),
        ("site.toml", "got str"),
        (42, "got int"),
    ],
    ids=["dict", "None", "a path", "a number"],
)
def test_wrong_config_is_a_type_error_naming_what_was_passed(
    adapter: type[Any], app: Any, config: object, says: str
) -> None:
    with pytest.raises(TypeError, match=rf"{adapter.__name__}\(config=\.\.\.\) expects .*{says}"):
        adapter(app, config=config)


@pytest.mark.parametrize(("adapter", "app"), ADAPTERS, ids=["asgi", "wsgi"])
def test_a_config_and_an_engine_source_are_accepted(adapter: type[Any], app: Any) -> None:
    config = development_config()
    adapter(app, config=config)

    class Source:
        def engine(self) -> Any:
            raise AssertionError("only called per request")

    adapter(app, config=Source())


@pytest.mark.parametrize(("adapter", "app"), ADAPTERS, ids=["asgi", "wsgi"])
def test_a_config_that_enforces_nothing_is_said_loudly_at_start_up(
    adapter: type[Any], app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="optout_mw"):
        adapter(app, config=development_config())  # no presets, no rules
    (record,) = [r for r in caplog.records if getattr(r, "optout_config_warning", None)]
    assert record.levelno == logging.WARNING
    assert "no rules are enabled: opted-out visitors' pages are not changed" in (
        record.getMessage()
    )


@pytest.mark.parametrize(("adapter", "app"), ADAPTERS, ids=["asgi", "wsgi"])
def test_a_page_that_cannot_save_is_said_at_start_up(
    adapter: type[Any], app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    config = development_config(presets=["all"], read_site_cookie=False)
    with caplog.at_level(logging.WARNING, logger="optout_mw"):
        adapter(app, config=config)
    messages = [r.getMessage() for r in caplog.records
                if getattr(r, "optout_config_warning", None)]
    assert len(messages) == 1
    assert "the opt-out page cannot record a choice" in messages[0]


def test_a_working_config_warns_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="optout_mw"):
        OptOutWSGIMiddleware(wsgi_app, config=development_config(presets=["all"]))
    assert not [r for r in caplog.records if getattr(r, "optout_config_warning", None)]
