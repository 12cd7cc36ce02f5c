"""A Starlette shop protected by optout-mw.

Run it with ``python -m examples.starlette_app`` from the project root.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from examples.shop import demo_config, render_shop
from optout_mw import Decision, OptOutASGIMiddleware, OptOutConfig


async def home(request: Request) -> HTMLResponse:
    decision: Decision = request.state.optout
    return HTMLResponse(render_shop(decision, framework="Starlette"))


async def ads(request: Request) -> JSONResponse:
    decision: Decision = request.state.optout
    return JSONResponse(
        {"personalised_ads": decision.sale_permitted, "why": list(decision.reasons)}
    )


def create_app(config: OptOutConfig | None = None) -> Starlette:
    return Starlette(
        routes=[Route("/", home), Route("/api/ads", ads)],
        middleware=[Middleware(OptOutASGIMiddleware, config=config or demo_config())],
    )


app = create_app()
