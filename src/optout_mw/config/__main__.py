"""``python -m optout_mw.config [FILE]``: regenerate the configuration reference table in
FILE (default ``docs/configuration.md``)."""

from __future__ import annotations

import sys

from ._reference import update_reference


def main(argv: list[str]) -> int:
    target = argv[0] if argv else "docs/configuration.md"
    print(f"{target}: {'updated' if update_reference(target) else 'up to date'}")
    return 0


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    sys.exit(main(sys.argv[1:]))
