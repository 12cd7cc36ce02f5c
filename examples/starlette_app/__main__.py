"""``python -m examples.starlette_app [--fastapi]``: the Starlette (or FastAPI) shop on
http://127.0.0.1:$PORT (8000), served by uvicorn."""

from __future__ import annotations

import importlib
import sys

from optout_mw import ConfigError
from optout_mw.demo import run_example


def main(argv: list[str]) -> int:
    name = "fastapi_app" if "--fastapi" in argv else "app"
    try:
        # Importing builds the module's `app` (for `uvicorn examples.starlette_app.app:app`),
        # which reads the OPTOUT_* variables.
        module = importlib.import_module(f"examples.starlette_app.{name}")
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    return run_example(module.create_app, "asgi", f"examples/starlette_app/{name}.py (ASGI)")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
