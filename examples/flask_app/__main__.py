"""``python -m examples.flask_app``: the Flask shop on http://127.0.0.1:$PORT (8000)."""

from __future__ import annotations

from examples.flask_app.app import create_app
from optout_mw.demo import run_example

if __name__ == "__main__":
    raise SystemExit(run_example(create_app, "wsgi", "examples/flask_app/app.py (WSGI)"))
