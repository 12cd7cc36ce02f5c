"""The guard in a page, beyond single vectors: the about:blank-frame escape and the policy
that closes it, the guard under the policy in each inline-script mode, wrappers that look
native, a second copy of the script, and Zone.js patching on top of the guard.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page

from optout_mw.guard import build_guard
from tests.node_tools import npm_dir

from .conftest import WAIT, Browser
from .guard_site import RULES, VECTORS, Site, Vector, serve_site
from .sink import TrackerSink

#: A fresh about:blank frame has its own, unpatched fetch and Image.
ESCAPE = Vector(
    "frame-escape",
    "var f = document.createElement('iframe'); B.appendChild(f); "
    "var W = f.contentWindow; new W.Image().src = U.replace('/t/', '/img/'); "
    "W.fetch(U).then(function(){ D('ok'); }, function(e){ D('rejected ' + e.name); });",
)


def first_page(context: BrowserContext) -> Page:
    return context.pages[0] if context.pages else context.new_page()


def load(page: Page, url: str, count: int) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="load")
    page.wait_for_function(f"Object.keys(__results).length >= {count}", timeout=WAIT * 1000)
    page.wait_for_load_state("networkidle")
    return errors


def test_about_blank_frame_escape_is_closed_by_the_policy(browser: Browser,
                                                          sink: TrackerSink) -> None:
    site = Site(vectors=(ESCAPE,))
    with serve_site(site) as origin, browser() as context:
        page = first_page(context)
        # The guard alone cannot reach into the new frame: the escape works...
        sink.clear()
        assert load(page, origin + "/page?guard=1", 1) == []
        assert ESCAPE.host in {c.host for c in sink.sync()}
        # ...and the policy, which the frame inherits (CSP3 §4.2.1), stops it.
        sink.clear()
        assert load(page, origin + "/page?guard=1&csp=enforce", 1) == []
        assert page.evaluate("__results['frame-escape']") == "rejected TypeError"
        assert ESCAPE.host not in {c.host for c in sink.sync()}


@pytest.mark.parametrize("inline", ["allow", "hash", "nonce"])
def test_guard_runs_under_the_policy_in_each_inline_mode(browser: Browser, sink: TrackerSink,
                                                         inline: str) -> None:
    # In hash mode the page's own code is in same-origin files; the guard, inline, runs
    # because the policy lists its hash. In nonce mode every script carries the nonce.
    external = "&external=1" if inline == "hash" else ""
    with serve_site(Site()) as origin, browser() as context:
        page = first_page(context)
        sink.clear()
        errors = load(page, f"{origin}/page?guard=1&csp=enforce&inline={inline}{external}",
                      len(VECTORS))
        assert page.evaluate("typeof window.__optoutGuard") == "object"
        results = page.evaluate("__results")
        later = page.evaluate("window.__later")
        contacts = sink.sync()
    assert errors == [] and later == "ran"
    assert contacts == []
    assert {v.name: results[v.name] for v in VECTORS} == {
        v.name: v.guarded or "done" for v in VECTORS}


NATIVE_CHECK = """() => {
  var f = document.createElement('iframe'); document.body.appendChild(f);
  var W = f.contentWindow, out = [], ts = Function.prototype.toString;
  function same(label, mine, theirs) {
    out.push([label, ts.call(mine) === W.Function.prototype.toString.call(theirs),
              mine.name === theirs.name, mine.length === theirs.length, mine !== theirs]);
  }
  var setter = function (o, k) { return Object.getOwnPropertyDescriptor(o, k).set; };
  same('fetch', window.fetch, W.fetch);
  same('open', window.open, W.open);
  same('WebSocket', window.WebSocket, W.WebSocket);
  same('EventSource', window.EventSource, W.EventSource);
  same('sendBeacon', Navigator.prototype.sendBeacon, W.Navigator.prototype.sendBeacon);
  same('xhr.open', XMLHttpRequest.prototype.open, W.XMLHttpRequest.prototype.open);
  same('xhr.send', XMLHttpRequest.prototype.send, W.XMLHttpRequest.prototype.send);
  same('appendChild', Node.prototype.appendChild, W.Node.prototype.appendChild);
  same('append', Element.prototype.append, W.Element.prototype.append);
  same('setAttribute', Element.prototype.setAttribute, W.Element.prototype.setAttribute);
  same('write', Document.prototype.write, W.Document.prototype.write);
  same('toString', Function.prototype.toString, W.Function.prototype.toString);
  same('img.src', setter(HTMLImageElement.prototype, 'src'),
       setter(W.HTMLImageElement.prototype, 'src'));
  same('innerHTML', setter(Element.prototype, 'innerHTML'),
       setter(W.Element.prototype, 'innerHTML'));
  out.push(['instanceof', new WebSocket('ws://127.0.0.1:1/') instanceof WebSocket,
            WebSocket.OPEN === 1, WebSocket.prototype === W.WebSocket.prototype ? false : true,
            true]);
  return out;
}"""


def test_wrappers_look_like_the_originals(browser: Browser) -> None:
    with serve_site(Site(vectors=())) as origin, browser() as context:
        page = first_page(context)
        page.goto(origin + "/page?guard=1", wait_until="load")
        rows = page.evaluate(NATIVE_CHECK)
    # [label, same toString, same name, same length, is a wrapper]
    assert [row for row in rows if not all(row[1:])] == []


def test_a_second_copy_leaves_the_first_in_charge(browser: Browser, sink: TrackerSink) -> None:
    guard = build_guard(RULES)
    html = (
        f"<!doctype html><script>{guard}</script>"
        "<script>window.f1 = window.fetch; window.s1 = Function.prototype.toString;</script>"
        f"<script>{guard}</script>"
        "<script>window.__results = {}; fetch('https://twice.tracker.example/x').catch("
        "function(e){ __results.twice = e.name; });</script>"
    )
    site = Site(vectors=())
    site.extra["/twice"] = ("text/html", html.encode())
    with serve_site(site) as origin, browser() as context:
        page = first_page(context)
        sink.clear()
        assert load(page, origin + "/twice", 1) == []
        same = page.evaluate("[window.fetch === f1, Function.prototype.toString === s1,"
                             " __optoutGuard.stats.total, __results.twice]")
        contacts = sink.sync()
    assert same == [True, True, 1, "TypeError"]
    assert contacts == []


ZONE_PAGE = """<!doctype html><script>{guard}</script><script src="/zone.js"></script>
<script>
window.__results = {{}};
var zone = Zone.current.fork({{name: 'app'}});
function R(k, v) {{ __results[k] = v + ' in ' + Zone.current.name; }}
zone.run(function () {{
  fetch('https://z-fetch.tracker.example/x').then(function () {{ R('fetch', 'ok'); }},
    function (e) {{ R('fetch', 'rejected ' + e.name); }});
  var x = new XMLHttpRequest(); x.open('GET', 'https://z-xhr.tracker.example/x');
  x.onerror = function () {{ R('xhr', 'error ' + x.readyState + ' ' + x.status); }}; x.send();
  var ws = new WebSocket('wss://z-ws.tracker.example/s');
  ws.addEventListener('error', function () {{ R('ws', 'error ' + ws.readyState); }});
  var es = new EventSource('https://z-es.tracker.example/s');
  es.onerror = function () {{ R('es', 'error ' + es.readyState); }};
  var i = new Image(); i.onerror = function () {{ R('img', 'error'); }};
  i.src = 'https://z-img.tracker.example/p';
  var s = document.createElement('script'); s.src = 'https://z-script.tracker.example/a.js';
  s.addEventListener('error', function () {{ R('script', 'error'); }});
  document.head.appendChild(s);
  setTimeout(function () {{ R('timer', 'ran'); }}, 0);
  Promise.resolve(1).then(function () {{ R('promise', 'ran'); }});
  // A first-party request still goes through, patched twice.
  fetch('/zone.js').then(function (r) {{ R('own', 'status ' + r.status); }});
}});
__results.tostring = String(Function.prototype.toString.call(window.fetch).indexOf(
  '[native code]') > 0 && Function.prototype.toString.call(XMLHttpRequest.prototype.send)
  .indexOf('[native code]') > 0);
</script>"""


def test_zone_js_patching_on_top_of_the_guard(browser: Browser, sink: TrackerSink) -> None:
    zone = npm_dir() / "zone.js" / "bundles" / "zone.umd.js"
    if not zone.is_file():
        pytest.skip(f"{zone} is missing")
    site = Site(vectors=())
    site.extra["/zone.js"] = ("text/javascript", Path(zone).read_bytes())
    site.extra["/zone-page"] = ("text/html",
                                ZONE_PAGE.format(guard=build_guard(RULES)).encode())
    with serve_site(site) as origin, browser() as context:
        page = first_page(context)
        sink.clear()
        errors = load(page, origin + "/zone-page", 10)
        results = page.evaluate("__results")
        contacts = sink.sync()
    assert errors == []
    assert contacts == []
    assert results == {
        "fetch": "rejected TypeError in app", "xhr": "error 4 0 in app",
        # Zone.js does not patch EventSource: its handlers run in the root zone, with the
        # guard or without.
        "ws": "error 3 in app", "es": "error 2 in <root>", "img": "error in app",
        "script": "error in app", "timer": "ran in app", "promise": "ran in app",
        "own": "status 200 in app", "tostring": "true",
    }
