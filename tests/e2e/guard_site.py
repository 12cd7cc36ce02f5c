"""A local site for the guard's browser tests: static pages whose first-party scripts try
to reach a tracker through each vector, served with the guard inlined first and/or the
additional CSP, and the report endpoint behind both.

The middleware will inject the guard and send the policy itself; until it does, this site
plays the middleware's part with the same pieces (``GuardScript``, ``CspPolicy``,
``ReportEndpoint``). Every third-party host resolves to the tracker sink (``sink.py``);
each vector uses its own host under ``tracker.example``, so a contact names its vector.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import WSGIRequestHandler, make_server

from optout_mw._types import StartResponse, WSGIEnviron
from optout_mw.config import development_config
from optout_mw.csp import CspMode, CspPolicy, CspSettings, InlineScripts
from optout_mw.decision import Decider, Decision
from optout_mw.guard import GuardScript
from optout_mw.reports import RateLimiter, ReportEndpoint
from optout_mw.rules import Rule, RuleSet

from .conftest import WAIT

#: The rules of these pages: every host under tracker.example, and an inline marker.
RULES = RuleSet([
    Rule(name="trk", hosts=("tracker.example",), inline_markers=("fbq(",)),
    Rule(name="pixel", host_paths=("social.example/tr",)),
])
#: What the page's helpers look like (ES5, as old first-party code is).
_HELPERS = """
window.__results = {}; window.__reached = {};
function done(name, v) {
  if (!(name in __results)) { __results[name] = v === undefined ? 'done' : String(v); }
}
// An element with a URL attribute set without the property setters or setAttribute, so
// that only the insertion path can stop it.
function mk(tag, attr, url) {
  var e = document.createElement(tag), a = document.createAttribute(attr);
  a.value = url; e.setAttributeNode(a); return e;
}
function box(name) {
  var d = document.createElement('div'); d.id = 'box-' + name;
  d.appendChild(document.createElement('p'));
  document.getElementById('boxes').appendChild(d); return d;
}
"""


#: What the additional policy alone (``img_hosts`` set) does to a vector.
BLOCKS = "blocks"  # the browser makes no connection
#: The request is refused, but Chromium may still open a connection to the host of a frame
#: that frame-src refuses (DNS, TCP and TLS with the host name; no request is sent). These
#: vectors use plain HTTP, so the sink can tell a request from a bare connection.
REQUEST = "request"
MISSES = "misses"  # no directive governs it


@dataclass(frozen=True, slots=True)
class Vector:
    """One way page code can reach a tracker.

    :param js: ES5 run with ``N`` (the vector's name), ``U`` (its tracker URL), ``H`` (its
        host), ``B`` (a container of its own) and ``D(value)`` to report its result.
    :param csp: what the policy alone does to it (:data:`BLOCKS`, :data:`REQUEST`,
        :data:`MISSES`).
    :param guarded: what the page sees with the guard on (``None``: only that it ran).
    :param scheme: the URL's scheme.
    :param contacts: whether it reaches the tracker when nothing stops it.
    """

    name: str
    js: str
    csp: str = BLOCKS
    guarded: str | None = None
    scheme: str = "https"
    contacts: bool = True

    @property
    def host(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") + ".tracker.example"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}/t/{self.name}?id=123"


def _script_vector(insert: str) -> str:
    return ("var s = mk('script','src',U); s.onerror = function(){ D('error'); }; "
            + insert + ";")


VECTORS: tuple[Vector, ...] = (
    # DOM insertion: the element's URL was set where the guard does not look.
    Vector("appendChild", _script_vector("document.head.appendChild(s)"), guarded="error"),
    Vector("insertBefore", "B.insertBefore(mk('iframe','src',U), B.firstChild); D();",
           csp=REQUEST, scheme="http"),
    Vector("replaceChild", "B.replaceChild(mk('iframe','src',U), B.firstChild); D();",
           csp=REQUEST, scheme="http"),
    Vector("append", "B.append(mk('embed','src',U)); D();"),
    Vector("prepend", _script_vector("B.prepend(s)"), guarded="error"),
    Vector("before", "B.firstChild.before(mk('iframe','src',U)); D();", csp=REQUEST, scheme="http"),
    Vector("after", "B.firstChild.after(mk('object','data',U)); D();"),
    Vector("replaceWith", "B.firstChild.replaceWith(mk('iframe','src',U)); D();",
           csp=REQUEST, scheme="http"),
    Vector("insertAdjacentElement",
           "B.insertAdjacentElement('beforeend', mk('iframe','src',U)); D();",
           csp=REQUEST, scheme="http"),
    Vector("replaceChildren", "B.replaceChildren(mk('iframe','src',U)); D();",
           csp=REQUEST, scheme="http"),
    Vector("fragment", "var f = document.createDocumentFragment(); "
           "f.appendChild(mk('iframe','src',U)); B.appendChild(f); D();",
           csp=REQUEST, scheme="http"),
    Vector("detached-tree", "var d = document.createElement('div'); var s = mk('script','src',U);"
           " s.onerror = function(){ D('error'); }; d.appendChild(s); B.appendChild(d);",
           guarded="error"),
    # An inline snippet inserted at run time (the rule's inline marker): it must not run.
    Vector("inline-script", "var s = document.createElement('script'); "
           "s.text = 'window.__inlineRan = 1; var fbq = function(){}; fbq(\"init\");'; "
           "B.appendChild(s); D(window.__inlineRan ? 'ran' : 'blocked');",
           csp=MISSES, guarded="blocked", contacts=False),
    # Markup sinks.
    Vector("innerHTML", "var d = document.createElement('div'); "
           "d.innerHTML = '<p>x</p><img src=\"' + U + '\">'; D();"),
    Vector("outerHTML", "B.firstChild.outerHTML = '<iframe src=\"' + U + '\"></iframe>'; D();",
           csp=REQUEST, scheme="http"),
    Vector("insertAdjacentHTML", "B.insertAdjacentHTML('beforeend', '<img src=\"' + U + '\">');"
           " D();"),
    Vector("setHTMLUnsafe", "var d = document.createElement('div'); "
           "d.setHTMLUnsafe('<img src=\"' + U + '\">'); D();"),
    Vector("createContextualFragment", "var r = document.createRange(); r.selectNode(B); "
           "B.appendChild(r.createContextualFragment('<img src=\"' + U + '\">')); D();"),
    Vector("write", "document.write('<script src=\"' + U + '\"><\\/script>'); D();"),
    Vector("writeln", "document.writeln('<img src=\"' + U + '\">'); D();"),
    # Property setters.
    Vector("script.src", "var s = document.createElement('script'); "
           "s.onerror = function(){ D('error'); }; s.src = U; document.head.appendChild(s);",
           guarded="error"),
    Vector("img.src", "var i = document.createElement('img'); "
           "i.onerror = function(){ D('error'); }; i.src = U;", guarded="error"),
    Vector("img.srcset", "var i = document.createElement('img'); "
           "i.onerror = function(){ D('error'); }; i.srcset = '/none.png 3x, ' + U + ' 1x';"
           " B.appendChild(i);", guarded="error"),
    Vector("iframe.src", "var f = document.createElement('iframe'); f.src = U; "
           "B.appendChild(f); D();", csp=REQUEST, scheme="http"),
    Vector("source.srcset", "var p = document.createElement('picture'), "
           "s = document.createElement('source'); s.srcset = U; p.appendChild(s); "
           "p.appendChild(document.createElement('img')); B.appendChild(p); D();"),
    Vector("link.href", "var l = document.createElement('link'); l.rel = 'preload'; "
           "l.as = 'script'; l.href = U; document.head.appendChild(l); D();"),
    # No directive governs a preconnect, nor (here) a stylesheet: only the guard stops them.
    Vector("link-preconnect", "var l = document.createElement('link'); l.rel = 'preconnect'; "
           "l.href = U; document.head.appendChild(l); D();", csp=MISSES),
    Vector("link-stylesheet", "var l = document.createElement('link'); l.rel = 'stylesheet'; "
           "l.href = U; document.head.appendChild(l); D();", csp=MISSES),
    Vector("embed.src", "var e = document.createElement('embed'); e.src = U; "
           "B.appendChild(e); D();"),
    Vector("object.data", "var o = document.createElement('object'); o.data = U; "
           "B.appendChild(o); D();"),
    # setAttribute(NS).
    Vector("setAttribute-script", "var s = document.createElement('script'); "
           "s.onerror = function(){ D('error'); }; s.setAttribute('SRC', U); "
           "document.head.appendChild(s);", guarded="error"),
    Vector("setAttribute-img", "var i = document.createElement('img'); "
           "i.onerror = function(){ D('error'); }; i.setAttribute('src', U);", guarded="error"),
    Vector("setAttribute-iframe", "var f = document.createElement('iframe'); "
           "f.setAttribute('src', U); B.appendChild(f); D();", csp=REQUEST, scheme="http"),
    Vector("setAttribute-source", "var p = document.createElement('picture'), "
           "s = document.createElement('source'); s.setAttribute('srcset', U + ' 1x'); "
           "p.appendChild(s); p.appendChild(document.createElement('img')); "
           "B.appendChild(p); D();"),
    Vector("setAttribute-link", "var l = document.createElement('link'); "
           "l.setAttribute('rel', 'preload'); l.setAttribute('as', 'script'); "
           "l.setAttribute('href', U); document.head.appendChild(l); D();"),
    Vector("setAttribute-embed", "var e = document.createElement('embed'); "
           "e.setAttribute('src', U); B.appendChild(e); D();"),
    Vector("setAttribute-object", "var o = document.createElement('object'); "
           "o.setAttribute('data', U); B.appendChild(o); D();"),
    Vector("setAttributeNS", "var i = document.createElement('img'); "
           "i.onerror = function(){ D('error'); }; i.setAttributeNS(null, 'src', U);",
           guarded="error"),
    Vector("new-Image", "var i = new Image(); i.onerror = function(){ D('error'); }; i.src = U;",
           guarded="error"),
    # The network APIs.
    Vector("fetch", "fetch(U).then(function(){ D('ok'); }, "
           "function(e){ D('rejected ' + e.name); });", guarded="rejected TypeError"),
    Vector("fetch-Request", "fetch(new Request(U), {mode: 'no-cors'}).then(function(){ "
           "D('ok'); }, function(e){ D('rejected ' + e.name); });",
           guarded="rejected TypeError"),
    Vector("XMLHttpRequest", "var x = new XMLHttpRequest(), seen = []; x.open('GET', U); "
           "x.onreadystatechange = function(){ seen.push(x.readyState); }; "
           "x.onerror = function(){ D('error ' + x.readyState + ' ' + x.status); }; x.send();",
           guarded="error 4 0"),
    Vector("sendBeacon", "D(navigator.sendBeacon(U, 'x'));", guarded="false"),
    Vector("WebSocket", "var ws = new WebSocket(U); ws.onerror = function(e){ "
           "D('error ' + ws.readyState + ' ' + (ws instanceof WebSocket)); };",
           guarded="error 3 true", scheme="wss"),
    Vector("EventSource", "var es = new EventSource(U); es.onerror = function(){ "
           "D('error ' + es.readyState); es.close(); };", guarded="error 2"),
    # Opening a window is a navigation, which no CSP directive governs.
    Vector("window.open", "D(window.open(U));", csp=MISSES, guarded="null"),
)


def vector_scripts(vectors: Iterable[Vector]) -> list[str]:
    """Each vector's code, to run in a script element of its own."""
    return [
        f"(function(N, U, H){{ var B = box(N); function D(v){{ done(N, v); }}\n{vector.js}\n"
        f"__reached[N] = 1; }})({json.dumps(vector.name)}, {json.dumps(vector.url)}, "
        f"{json.dumps(vector.host)});"
        for vector in vectors
    ]


def page(vectors: Iterable[Vector], *, guard: str | None, nonce: str | None,
         head: str = "", external: bool = False) -> bytes:
    """A page that runs each vector in a script element of its own, guard first; with
    ``external``, the page's code is in same-origin files instead of inline."""
    attr = f' nonce="{nonce}"' if nonce else ""
    parts = ["<!doctype html><html><head><meta charset=\"utf-8\">"]
    if guard is not None:
        parts.append(f"<script{attr}>{guard}</script>")
    parts.append(f"<title>guard test</title>{head}")
    parts.append('<script src="/helpers.js"></script>' if external
                 else f"<script{attr}>{_HELPERS}</script>")
    parts.append("</head><body><div id=\"boxes\"></div>")
    for vector, code in zip(vectors, vector_scripts(vectors), strict=True):
        parts.append(f'<script src="/vector.js?v={vector.name}"></script>' if external
                     else f"<script{attr}>{code}</script>")
    parts.append('<script src="/later.js"></script>' if external
                 else f"<script{attr}>window.__later = 'ran';</script>")
    parts.append("</body></html>")
    return "".join(parts).encode()


def opted_out_decision() -> Decision:
    decision = Decider(development_config()).decide(["1"], None, 0.0)
    assert not decision.sale_permitted
    return decision


@dataclass
class Site:
    """What the site serves and what reached its report endpoint."""

    #: The vectors ``/page`` runs (``?v=NAME`` picks some).
    vectors: tuple[Vector, ...] = VECTORS
    endpoint: ReportEndpoint = field(default_factory=lambda: ReportEndpoint(
        RULES, limiter=RateLimiter(burst=10_000, total_burst=10_000)))
    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    extra: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def reports_where(self, predicate: Any, timeout: float = WAIT) -> list[tuple[str, bytes]]:
        """Wait (bounded) until a received body satisfies ``predicate``; all bodies so far."""
        with self._changed:
            self._changed.wait_for(lambda: any(predicate(b) for b in self.bodies),
                                   timeout=timeout)
            return list(self.bodies)

    def app(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/privacy/csp-report":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(min(length, self.endpoint.max_bytes + 1))
            content_type = environ.get("CONTENT_TYPE") or ""
            response = self.endpoint.handle(environ["REQUEST_METHOD"], content_type, body,
                                            environ.get("REMOTE_ADDR", ""))
            with self._changed:
                self.bodies.append((content_type, body))
                self._changed.notify_all()
            start_response(f"{response.status} -", list(response.headers))
            return [b""]
        if path in self.extra:
            content_type, body = self.extra[path]
            start_response("200 OK", [("Content-Type", content_type)])
            return [body]
        scripts = {"/helpers.js": _HELPERS, "/later.js": "window.__later = 'ran';"}
        if path == "/vector.js":
            name = parse_qs(environ.get("QUERY_STRING", "")).get("v", [""])[0]
            scripts[path] = "".join(vector_scripts(v for v in self.vectors if v.name == name))
        if path in scripts:
            start_response("200 OK", [("Content-Type", "text/javascript")])
            return [scripts[path].encode()]
        if path != "/page":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        names = set(query.get("v", []))
        vectors = [v for v in self.vectors if not names or v.name in names]
        decision = opted_out_decision()
        guard_script = GuardScript(RULES)
        guard = guard_script.text(decision) if query.get("guard") == ["1"] else None
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
        nonce = None
        csp = query.get("csp", ["off"])[0]
        if csp != "off":
            settings = CspSettings(
                mode=CspMode(csp),
                inline_scripts=InlineScripts(query.get("inline", ["allow"])[0]),
                img_hosts=(), report_group=query.get("group", [None])[0],
                connect_hosts=("allowed.partner.example",),
            )
            sources = [guard_script.source] if guard is not None and guard_script.source else []
            added = CspPolicy(settings, inline_sources=sources).for_response(decision)
            assert added is not None
            headers.extend(added.headers)
            nonce = added.nonce
        head = "".join(query.get("head", []))
        start_response("200 OK", headers)
        external = query.get("external") == ["1"]
        return [page(vectors, guard=guard, nonce=nonce, head=head, external=external)]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve_site(site: Site) -> Iterator[str]:
    """The site on a threaded server at an ephemeral port; yields its origin."""
    server = make_server("127.0.0.1", 0, site.app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="guard-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=WAIT)
        server.server_close()

