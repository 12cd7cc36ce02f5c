"""A Flask shop protected by optout-mw.

Run it with ``python -m examples.flask_app`` from the project root.
"""

from __future__ import annotations

from flask import Flask, request

from examples.shop import demo_config, render_shop
from optout_mw import OptOutConfig, OptOutWSGIMiddleware, get_decision


def create_app(config: OptOutConfig | None = None) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def home() -> str:
        return render_shop(get_decision(request), framework="Flask")

    @app.get("/api/ads")
    def ads() -> dict[str, object]:
        decision = get_decision(request)
        return {"personalised_ads": decision.sale_permitted, "why": list(decision.reasons)}

    # Wrap app.wsgi_app, not app, so `app` stays the Flask object (Flask's own advice).
    app.wsgi_app = OptOutWSGIMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, config=config or demo_config()
    )
    return app
