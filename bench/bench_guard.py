"""The run-time guard's cost in a real browser (Chromium, headless), as ratios.

One page does 200 DOM insertions of first-party content (a ``<div>`` with text and an
``<img>`` per insertion, through ``appendChild``, ``insertBefore``, ``append`` and
``innerHTML`` in turn), with the guard inlined first or not. Loads alternate between the
two variants in the same browser, ``ROUNDS`` of each, and every figure is the median of its
variant; the machine is shared, so read the ratios. Per load:

* the guard's own start-up (the time its script takes to run, from the page's clock);
* the page's 200 insertions (its own ``performance.now()`` around them);
* the whole load, navigation start to the end of the load event.

Run: ``.venv/bin/python bench/bench_guard.py`` (needs Chromium at /usr/bin/chromium).
"""

from __future__ import annotations

import gzip
import statistics
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from optout_mw.guard import build_guard, guard_template
from optout_mw.presets import build_ruleset

CHROMIUM = "/usr/bin/chromium"
ROUNDS = 31
INSERTIONS = 200

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>insertions</title>
<script>window.__t0 = performance.now();</script>{guard}
<script>window.__t1 = performance.now();</script></head><body><div id="root"></div>
<script>
(function () {{
  var root = document.getElementById('root'), start = performance.now(), i, d, img;
  for (i = 0; i < {n}; i++) {{
    d = document.createElement('div');
    d.appendChild(document.createTextNode('item ' + i));
    img = document.createElement('img'); img.src = '/p.gif?' + i; img.width = 1;
    d.appendChild(img);
    if (i % 4 === 0) {{ root.appendChild(d); }}
    else if (i % 4 === 1) {{ root.insertBefore(d, root.firstChild); }}
    else if (i % 4 === 2) {{ root.append(d); }}
    else {{ d.innerHTML = '<span>item ' + i + '</span><img src="/p.gif?h' + i + '">';
           root.appendChild(d); }}
  }}
  window.__insert = performance.now() - start;
}})();
</script></body></html>"""

_GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c000000000100010000"
                     "02024401003b")


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def _serve(pages: dict[str, bytes]) -> Iterator[str]:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path == "/p.gif":
            start_response("200 OK", [("Content-Type", "image/gif"),
                                      ("Cache-Control", "max-age=3600")])
            return [_GIF]
        if path not in pages:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b""]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Cache-Control", "no-store")])
        return [pages[path]]

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def measure(rounds: int = ROUNDS) -> dict[str, dict[str, float]]:
    """Median milliseconds per variant: guard start-up, insertions, whole load."""
    guard = build_guard(build_ruleset(presets=["all"]))
    pages = {
        "/off": _PAGE.format(guard="", n=INSERTIONS).encode(),
        "/on": _PAGE.format(guard=f"<script>{guard}</script>", n=INSERTIONS).encode(),
    }
    samples: dict[str, dict[str, list[float]]] = {
        name: {"startup": [], "insert": [], "load": []} for name in ("off", "on")
    }
    with _serve(pages) as origin, sync_playwright() as pw, \
            tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update"],
        )
        page = context.pages[0]
        for name in ("off", "on"):  # warm-up loads, not counted
            page.goto(f"{origin}/{name}", wait_until="load")
        for _ in range(rounds):
            for name in ("off", "on"):
                page.goto(f"{origin}/{name}", wait_until="load")
                startup, insert, load = page.evaluate(
                    "[__t1 - __t0, __insert, (function(){ var n = performance"
                    ".getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; })()]"
                )
                samples[name]["startup"].append(startup)
                samples[name]["insert"].append(insert)
                samples[name]["load"].append(load)
        context.close()
    return {name: {k: statistics.median(v) for k, v in figures.items()}
            for name, figures in samples.items()}


def main() -> None:
    guard = build_guard(build_ruleset(presets=["all"]))
    template = guard_template().replace("__DATA__", "")
    print(f"guard code: {len(template):,} bytes compacted "
          f"({len(gzip.compress(template.encode(), 9)):,} gzipped); with every preset's rules "
          f"{len(guard):,} bytes ({len(gzip.compress(guard.encode(), 9)):,} gzipped)")
    figures = measure()
    off, on = figures["off"], figures["on"]
    print(f"Chromium, {INSERTIONS} DOM insertions, median of {ROUNDS} interleaved loads each")
    print(f"  guard start-up           {on['startup']:7.2f} ms (no guard: {off['startup']:.2f})")
    print(f"  200 insertions           {off['insert']:7.2f} ms -> {on['insert']:7.2f} ms "
          f"({on['insert'] / off['insert']:.2f}x)")
    print(f"  whole load               {off['load']:7.2f} ms -> {on['load']:7.2f} ms "
          f"({on['load'] / off['load']:.2f}x)")


if __name__ == "__main__":
    main()
