"""``python -m optout_mw``: the ``optout-mw`` command."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
