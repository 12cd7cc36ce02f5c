from __future__ import annotations

import os

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


@pytest.fixture
def no_optout_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every ``OPTOUT_*`` variable of the developer's shell for the test."""
    for name in list(os.environ):
        if name.startswith("OPTOUT_"):
            monkeypatch.delenv(name)
