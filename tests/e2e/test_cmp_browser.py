"""Consent Mode defaults and consent-tool block markup, judged by Chromium.

Pages are served from a local first-party server; the vendors' loaders are local fakes
that record what they find when they start (the dataLayer, fbq's queue, uetq, ttq), the way
the real ones read those queues. Every other host resolves to the sink, which must see
nothing: no test contacts Google, Meta, Microsoft or TikTok.

1. The builder's script injected before a GTM-style loader kept on the page: the loader
   sees the denied defaults before its first command, and Meta, UET and TikTok see their
   restricted modes ahead of the site's own commands.
2. For each block-markup format, a fake consent tool that mimics that tool's documented
   re-activation turns the blocked tag back into a running one on opt-in; the tag then runs
   with the restricted settings in place.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from playwright.sync_api import Page

from optout_mw.cmp import BlockFormat, apply_block_edits, block_edits, render_start_tag
from optout_mw.consent_mode import ConsentModeSettings, consent_mode_script

from .conftest import WAIT, Browser
from .sink import TrackerSink

# --- a first-party server for fixed pages -----------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Site:
    """Serves ``pages`` (path -> (content type, body)) and records every path requested."""

    def __init__(self, pages: dict[str, tuple[str, str]]) -> None:
        self.pages = pages
        self.requested: list[str] = []
        self.origin = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "/")
        self.requested.append(path)
        if path not in self.pages:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        ctype, body = self.pages[path]
        data = body.encode()
        start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(data))),
                                  ("Cache-Control", "no-store")])
        return [data]


@contextmanager
def serve(site: Site) -> Iterator[Site]:
    server: WSGIServer = make_server("127.0.0.1", 0, site, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, name="cmp-site", daemon=True)
    thread.start()
    site.origin = f"http://127.0.0.1:{server.server_port}"
    try:
        yield site
    finally:
        server.shutdown()
        thread.join(timeout=WAIT)
        server.server_close()


JS = "application/javascript"
HTML = "text/html; charset=utf-8"

# --- fake loaders -----------------------------------------------------------------------

# Like gtm.js/gtag.js, reads the dataLayer in order; records the consent state in force
# when it reaches its first command (the gtm.js event or gtag('js')), and whether it met a
# 'granted' anywhere.
FAKE_GTM = """
(function(){var dl=window.dataLayer||[],state={},sets={},first=null,granted=false,i,e;
for(i=0;i<dl.length;i+=1){e=dl[i];
 if(e&&typeof e.length==='number'&&!Array.isArray(e)){
  if(e[0]==='consent'&&e[1]==='default'){for(var k in e[2]){state[k]=e[2][k];
   if(e[2][k]==='granted'){granted=true;}}}
  else if(e[0]==='set'&&typeof e[1]==='string'){sets[e[1]]=e[2];}
  else if(first===null&&e[0]==='js'){first={command:'js',consent:JSON.parse(JSON.stringify(state)),
   sets:JSON.parse(JSON.stringify(sets))};}
 } else if(e&&e.event==='gtm.js'&&first===null){first={command:'gtm.js',
   consent:JSON.parse(JSON.stringify(state)),sets:JSON.parse(JSON.stringify(sets))};}
}
window.__gtm={first:first,granted:granted,events:dl.filter(function(x){return x&&x.event;})
 .map(function(x){return x.event;})};})();
"""
# Like fbevents.js: takes over fbq and runs the base code's queue in order.
FAKE_FBEVENTS = """
(function(){var q=window.fbq.queue||[],seen=[];
for(var i=0;i<q.length;i+=1){seen.push(Array.prototype.slice.call(q[i]));}
window.__fbq=seen;window.fbq.callMethod=function(){
 window.__fbq.push(Array.prototype.slice.call(arguments));};})();
"""
FAKE_BAT = "window.__uetq=JSON.parse(JSON.stringify(window.uetq));"
FAKE_TIKTOK = "window.__ttq=JSON.parse(JSON.stringify(Array.prototype.slice.call(window.ttq)));"

# The vendors' base codes, in their published shapes, pointed at the local fakes.
GTM_SNIPPET = (
    "(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),"
    "event:'gtm.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s);j.async=true;"
    "j.src='/fake-gtm.js?id='+i;f.parentNode.insertBefore(j,f);})"
    "(window,document,'script','dataLayer','GTM-TEST');"
)
GTAG_SNIPPET = (
    "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
    "gtag('js',new Date());gtag('config','G-TEST');"
)
META_SNIPPET = (
    "!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?"
    "n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;"
    "n.push=n;n.loaded=!0;n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;"
    "t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}"
    "(window,document,'script','/fake-fbevents.js');fbq('init','123');fbq('track','PageView');"
)
UET_SNIPPET = (
    "(function(w,d,t,r,u){w[u]=w[u]||[];var n=d.createElement(t);n.src=r;n.async=1;"
    "var i=d.getElementsByTagName(t)[0];i.parentNode.insertBefore(n,i);"
    "w[u].push('pageLoad');})(window,document,'script','/fake-bat.js','uetq');"
)
TIKTOK_SNIPPET = (
    "!function(w,d,t){w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];"
    "ttq.methods=['page','track','holdConsent','grantConsent','revokeConsent'];"
    "ttq.setAndDefer=function(t,e){t[e]=function(){t.push([e].concat("
    "Array.prototype.slice.call(arguments,0)))}};"
    "for(var i=0;i<ttq.methods.length;i++)ttq.setAndDefer(ttq,ttq.methods[i]);"
    "var o=d.createElement('script');o.async=!0;o.src='/fake-tiktok.js';"
    "var a=d.getElementsByTagName('script')[0];a.parentNode.insertBefore(o,a);"
    "ttq.page();}(window,document,'ttq');"
)

FAKES = {
    "/fake-gtm.js": (JS, FAKE_GTM),
    "/fake-fbevents.js": (JS, FAKE_FBEVENTS),
    "/fake-bat.js": (JS, FAKE_BAT),
    "/fake-tiktok.js": (JS, FAKE_TIKTOK),
}


def page_html(head: str, body: str = "") -> str:
    # The consent part is the page's first script, where the middleware injects it.
    script = consent_mode_script(ConsentModeSettings())
    return (f"<!doctype html><html><head><script>{script}</script>{head}</head>"
            f"<body>{body}</body></html>")


def load(page: Page, url: str) -> None:
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")


def wait_for(page: Page, expression: str) -> Any:
    page.wait_for_function(f"() => {expression} !== undefined", timeout=WAIT * 1000)
    return page.evaluate(f"() => {expression}")


DENIED = {"ad_storage": "denied", "ad_user_data": "denied", "ad_personalization": "denied"}
RESTRICTED_SETS = {"ads_data_redaction": True, "restricted_data_processing": True,
                   "allow_google_signals": False, "allow_ad_personalization_signals": False}
META_FIRST = [["dataProcessingOptions", ["LDU"], 0, 0], ["consent", "revoke"]]


def test_loaders_see_restricted_defaults_before_their_first_command(
    browser: Browser, sink: TrackerSink
) -> None:
    head = "".join(f"<script>{s}</script>" for s in (GTM_SNIPPET, GTAG_SNIPPET, META_SNIPPET,
                                                     UET_SNIPPET, TIKTOK_SNIPPET))
    site = Site({"/": (HTML, page_html(head)), **FAKES})
    with serve(site), browser() as context:
        page = context.pages[0] if context.pages else context.new_page()
        load(page, site.origin + "/")
        gtm = wait_for(page, "window.__gtm")
        assert gtm["first"]["command"] == "gtm.js"
        assert gtm["first"]["consent"] == DENIED
        assert gtm["first"]["sets"] == RESTRICTED_SETS
        assert gtm["granted"] is False
        # The decision event comes before the container starts, for its triggers.
        assert gtm["events"][:2] == ["optout_mw_opt_out", "gtm.js"]
        assert wait_for(page, "window.__fbq") == [
            *META_FIRST, ["init", "123"], ["track", "PageView"]]
        assert wait_for(page, "window.__uetq") == [
            "consent", "default", {"ad_storage": "denied"}, "pageLoad"]
        assert wait_for(page, "window.__ttq") == [["holdConsent"], ["page"]]
        # gtag.js read the same defaults before its own first command.
        assert page.evaluate("() => typeof window.gtag") == "function"
    assert site.requested.count("/fake-gtm.js") == 1
    assert sink.sync(timeout=WAIT) == []


def test_meta_commands_run_first_when_the_pixel_is_already_there(browser: Browser,
                                                                 sink: TrackerSink) -> None:
    """A pixel defined before the part runs (the part injected late) gets the commands
    directly, after the site's own queued ones."""
    script = consent_mode_script(ConsentModeSettings(google=False, microsoft=False,
                                                     tiktok=False, event=None))
    html = (f"<!doctype html><html><head><script>{META_SNIPPET}</script>"
            f"<script>{script}</script></head><body></body></html>")
    site = Site({"/": (HTML, html), **FAKES})
    with serve(site), browser() as context:
        page = context.pages[0] if context.pages else context.new_page()
        load(page, site.origin + "/")
        seen = wait_for(page, "window.__fbq")
        assert seen[:2] == [["init", "123"], ["track", "PageView"]]
        assert seen[2:] == META_FIRST
    assert sink.sync(timeout=WAIT) == []


# --- re-activation of blocked markup, per consent tool -------------------------------------

# The blocked tag: the Meta pixel's base code, external, plus a probe of the consent state
# it runs under.
TAG_JS = META_SNIPPET + (
    "(function(){var dl=window.dataLayer||[],state={};for(var i=0;i<dl.length;i+=1){"
    "var e=dl[i];if(e&&e[0]==='consent'){for(var k in e[2]){state[k]=e[2][k];}}}"
    "window.__tagConsent=state;})();"
)
INLINE_TAG = "window.__inlineRan=true;"

# Each consent tool's documented re-activation, reduced to what it does with markup.
REACTIVATE = {
    # OneTrust: scripts of an allowed category are re-inserted with a JavaScript type;
    # iframes get their src back from data-src.
    BlockFormat.ONETRUST: """
window.__optIn=function(cat){var sel='.optanon-category-'+cat;
 Array.prototype.forEach.call(document.querySelectorAll('script'+sel+'[type="text/plain"]'),
 function(old){var s=document.createElement('script');
  for(var i=0;i<old.attributes.length;i+=1){var a=old.attributes[i];
   if(a.name!=='type'){s.setAttribute(a.name,a.value);}}
  s.type='text/javascript';s.text=old.text;old.parentNode.replaceChild(s,old);});
 Array.prototype.forEach.call(document.querySelectorAll('iframe'+sel+'[data-src]'),
 function(f){f.src=f.getAttribute('data-src');});};""",
    # Cookiebot.runScripts(): "Evaluates all loaded script tags of type text/plain with the
    # attribute data-cookieconsent" per the consent state; data-cookieblock-src restored.
    BlockFormat.COOKIEBOT: """
window.__optIn=function(cat){
 Array.prototype.forEach.call(document.querySelectorAll(
  'script[type="text/plain"][data-cookieconsent]'),function(old){
  if(old.getAttribute('data-cookieconsent').split(',').indexOf(cat)<0){return;}
  var s=document.createElement('script');
  for(var i=0;i<old.attributes.length;i+=1){var a=old.attributes[i];
   if(a.name!=='type'){s.setAttribute(a.name,a.value);}}
  s.text=old.text;old.parentNode.replaceChild(s,old);});
 Array.prototype.forEach.call(document.querySelectorAll('[data-cookieblock-src]'),
 function(e){if(e.getAttribute('data-cookieconsent')===cat){
  e.src=e.getAttribute('data-cookieblock-src');}});};""",
    # iubenda: _iub_cs_activate elements whose data-iub-purposes are all consented get
    # their suppressed src back (scripts re-created); -inline scripts are evaluated.
    BlockFormat.IUBENDA: """
window.__optIn=function(cat){
 Array.prototype.forEach.call(document.querySelectorAll(
  '._iub_cs_activate,._iub_cs_activate-inline'),function(old){
  if((old.getAttribute('data-iub-purposes')||'').split(',').indexOf(cat)<0){return;}
  if(old.tagName==='SCRIPT'){var s=document.createElement('script');
   var src=old.getAttribute('data-suppressedsrc')||old.getAttribute('suppressedsrc');
   if(src){s.src=src;}else{s.text=old.text;}
   s.className='_iub_cs_activate-activated';old.parentNode.replaceChild(s,old);}
  else{old.src=old.getAttribute('data-suppressedsrc');}});};""",
    # orestbida/cookieconsent v3: script[type=text/plain][data-category] of an accepted
    # category re-created with data-src as src and data-type (or JavaScript) as type.
    BlockFormat.CATEGORY: """
window.__optIn=function(cat){
 Array.prototype.forEach.call(document.querySelectorAll(
  'script[type="text/plain"][data-category]'),function(old){
  if(old.getAttribute('data-category')!==cat){return;}
  var s=document.createElement('script');
  var src=old.getAttribute('data-src')||old.getAttribute('src');if(src){s.src=src;}
  s.type=old.getAttribute('data-type')||'text/javascript';s.text=old.text;
  old.parentNode.replaceChild(s,old);});};""",
}
CATEGORY = {BlockFormat.ONETRUST: "C0004", BlockFormat.COOKIEBOT: "marketing",
            BlockFormat.IUBENDA: "5", BlockFormat.CATEGORY: "marketing"}


def blocked(fmt: BlockFormat, element: str, attrs: list[tuple[str, str | None]],
            *, inline: bool = False, content: str = "") -> str:
    edits = block_edits(fmt, element, inline=inline, fetch_attributes=("src",))
    tag = render_start_tag(element, apply_block_edits(attrs, edits))
    return f"{tag}{content}</{element}>"


@pytest.mark.parametrize("fmt", list(REACTIVATE), ids=str)
def test_consent_tool_reactivates_blocked_markup_under_restricted_settings(
    fmt: BlockFormat, browser: Browser, sink: TrackerSink
) -> None:
    body = (
        blocked(fmt, "script", [("src", "/tag.js"), ("async", None)])
        + blocked(fmt, "script", [], inline=True, content=INLINE_TAG)
        + (blocked(fmt, "iframe", [("src", "/frame.html")])
           if fmt is not BlockFormat.CATEGORY else "")
        + f"<script>{REACTIVATE[fmt]}</script>"
    )
    site = Site({"/": (HTML, page_html("", body)), "/tag.js": (JS, TAG_JS),
                 "/frame.html": (HTML, "<p>frame</p>"), **FAKES})
    with serve(site), browser() as context:
        page = context.pages[0] if context.pages else context.new_page()
        load(page, site.origin + "/")
        # Blocked: nothing fetched, nothing ran.
        assert "/tag.js" not in site.requested
        assert "/frame.html" not in site.requested
        assert page.evaluate("() => [window.__tagConsent, window.__inlineRan, window.__fbq]") \
            == [None, None, None]
        # The visitor opts in through the consent tool.
        page.evaluate("cat => window.__optIn(cat)", CATEGORY[fmt])
        assert wait_for(page, "window.__tagConsent") == DENIED
        assert wait_for(page, "window.__fbq")[:2] == META_FIRST
        assert page.evaluate("() => window.__inlineRan") is True
        if fmt is not BlockFormat.CATEGORY:
            page.wait_for_function("() => document.querySelector('iframe').src !== ''")
            page.wait_for_load_state("networkidle")
            assert "/frame.html" in site.requested
    assert site.requested.count("/tag.js") == 1
    assert sink.sync(timeout=WAIT) == []


def test_a_refused_category_stays_blocked(browser: Browser, sink: TrackerSink) -> None:
    fmt = BlockFormat.COOKIEBOT
    body = blocked(fmt, "script", [("src", "/tag.js")]) + f"<script>{REACTIVATE[fmt]}</script>"
    site = Site({"/": (HTML, page_html("", body)), "/tag.js": (JS, TAG_JS), **FAKES})
    with serve(site), browser() as context:
        page = context.pages[0] if context.pages else context.new_page()
        load(page, site.origin + "/")
        page.evaluate("cat => window.__optIn(cat)", "statistics")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => window.__tagConsent") is None
    assert "/tag.js" not in site.requested
    assert sink.sync(timeout=WAIT) == []
