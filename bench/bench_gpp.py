"""Cost of the GPP request verdict against parsing a 4 KB Cookie header, in the same run.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_gpp.py``. Target: the verdict on a typical
GPP cookie (header + usnat + usca, both with GPC sub-sections) costs at most as much as one
parse of a 4 KB Cookie header, i.e. reading GPP never dominates reading the cookies it came in.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import best_time, row

from optout_mw.gpp import decode_gpp, encode_opt_out_gpp, gpp_verdict
from optout_mw.gpp.header import _decode_header_cached
from optout_mw.gpp.verdict import _compute


def _cookie_parser() -> tuple[str, Callable[[str], dict[str, str]]]:
    try:
        from optout_mw.cookies import parse_cookie_header
    except ImportError:  # the cookie module may not exist yet in a partial checkout

        def parse_cookie_header(header: str) -> dict[str, str]:
            out: dict[str, str] = {}
            for part in header.split(";"):
                name, sep, value = part.strip().partition("=")
                if sep and name not in out:
                    out[name] = value
            return out

        return "simple split (optout_mw.cookies missing)", parse_cookie_header
    return "optout_mw.cookies.parse_cookie_header", parse_cookie_header


def _cookie_header(size: int = 4096) -> str:
    parts: list[str] = []
    index = 0
    while len("; ".join(parts)) < size:
        parts.append(f"_ga_{index}=GA1.1.{index * 7919}.{1700000000 + index}")
        index += 1
    return "; ".join(parts)[:size]


def main() -> None:
    # A visitor who opted out, as written back by this package: header + usnat v2 + usca, each
    # with a GPC sub-section ("DBABrw~CVVVAAAAAACY.YA~BVUAAACY.YA").
    gpp, sid = encode_opt_out_gpp(gpc=True, sections=("usnat", "usca"))
    # The same shape with library-published sections (iabgpp-java UsNatTest / UsCaTest).
    reference = "DBABrw~CVVVkkkkkpFY.YA~BVWSSSVY.YA"
    header = _cookie_header()
    label, parse = _cookie_parser()
    assert gpp_verdict(gpp, sid).opted_out
    assert gpp_verdict(reference, None).opted_out

    number = 2000
    base = best_time(lambda: parse(header), number=number)

    def cold() -> object:
        _decode_header_cached.cache_clear()
        return _compute(gpp, sid)

    cases: list[tuple[str, Callable[[], object]]] = [
        ("gpp_verdict (memoised: same cookie again)", lambda: gpp_verdict(gpp, sid)),
        ("verdict not memoised (header cache warm)", lambda: _compute(gpp, sid)),
        ("verdict not memoised, library-published sections", lambda: _compute(reference, None)),
        ("verdict fully cold (header cache cleared)", cold),
        ("decode_gpp (full typed decode, for the CLI)", lambda: decode_gpp(gpp)),
    ]
    print(f"GPP verdict on {gpp!r} vs Cookie header parse ({len(header)} bytes, {label})")
    print(row("case", "us/call", "ratio"))
    cookies = len(parse(header))
    print(row(f"parse 4 KB Cookie header ({cookies} cookies)", f"{base * 1e6:.2f}", "1.00x"))
    for name, func in cases:
        cost = best_time(func, number=number)
        print(row(name[:52], f"{cost * 1e6:.2f}", f"{cost / base:.2f}x"))
    print("  target: every gpp_verdict row <= 1.00x the cookie parse")


if __name__ == "__main__":
    main()
