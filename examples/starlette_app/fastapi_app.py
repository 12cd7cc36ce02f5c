"""The same shop on FastAPI, reading the decision through the provided dependency.

Run it with ``python -m examples.starlette_app --fastapi`` from the project root.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from examples.shop import demo_config, render_shop
from optout_mw import OptOutASGIMiddleware, OptOutConfig
from optout_mw.fastapi import OptOutDecision


def create_app(config: OptOutConfig | None = None) -> FastAPI:
    app = FastAPI()
    app.add_middleware(OptOutASGIMiddleware, config=config or demo_config())

    @app.get("/", response_class=HTMLResponse)
    def home(decision: OptOutDecision) -> str:
        return render_shop(decision, framework="FastAPI")

    @app.get("/api/ads")
    def ads(decision: OptOutDecision) -> dict[str, object]:
        return {"personalised_ads": decision.sale_permitted, "why": list(decision.reasons)}

    return app


app = create_app()
