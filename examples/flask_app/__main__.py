from __future__ import annotations

import os

from examples.flask_app.app import create_app
from examples.shop import demo_banner

if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    print(demo_banner(f"http://127.0.0.1:{port}"), flush=True)
    create_app().run(host="127.0.0.1", port=port)
