from __future__ import annotations

import os
import sys

import uvicorn

from examples.shop import demo_banner

if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    target = "examples.starlette_app.fastapi_app:app" if "--fastapi" in sys.argv else (
        "examples.starlette_app.app:app"
    )
    print(demo_banner(f"http://127.0.0.1:{port}"), flush=True)
    uvicorn.run(target, host="127.0.0.1", port=port)
