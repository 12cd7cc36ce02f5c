"""Held-out pages: the same kinds of page as :mod:`corpus.sites`, written separately.

The speed targets must hold on pages the rewriter was not tuned against, so nothing here
shares code, vocabulary, hosts or third-party snippets with :mod:`corpus.sites`. Pages
are built as trees of :class:`El` and serialized by :func:`render`, whose per-site
:class:`Style` decides the markup habits a template engine or framework has: quote
character, one attribute per line past a width (Prettier, Vue and Angular templates),
upper-case legacy markup with unquoted values, ``/>`` on void elements. CDN hosts are
Cloudinary, Storyblok, Sanity, Azure CDN, Bunny CDN and Fastly. Report these pages apart
from the corpus, and do not tune the rewriter against them.
"""

# ruff: noqa: E501 - markup templates stay one emitted line per source line
from __future__ import annotations

import inspect
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, TypeAlias

from corpus import Page

Node: TypeAlias = "El | str"

_VOID: Final = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    ]
)


@dataclass
class El:
    tag: str
    attrs: list[tuple[str, str | None]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)


def el(tag: str, attrs: Iterable[tuple[str, str | None]] = (), *children: Node) -> El:
    return El(tag, list(attrs), list(children))


def raw(text: str) -> str:
    """Text already escaped (or raw text element content)."""
    return text


@dataclass(frozen=True)
class Style:
    quote: str = '"'
    wrap_over: int = 0  # one attribute per line when the tag would be longer (0: never)
    indent: str = ""
    upper: bool = False
    unquoted: bool = False  # leave values unquoted when they allow it
    self_close: bool = False


def _attr(name: str, value: str | None, style: Style) -> str:
    if value is None:
        return name.upper() if style.upper else name
    if style.upper:
        name = name.upper()
    if style.unquoted and value and not any(c in value for c in " \"'=<>`\t\n"):
        return f"{name}={value}"
    q = style.quote
    escaped = value.replace(q, "&quot;" if q == '"' else "&#39;")
    return f"{name}={q}{escaped}{q}"


def render(node: Node, style: Style, depth: int = 0) -> str:
    if isinstance(node, str):
        return node
    tag = node.tag.upper() if style.upper else node.tag
    parts = [_attr(n, val, style) for n, val in node.attrs]
    one_line = "<" + " ".join([tag, *parts])
    if style.wrap_over and len(one_line) > style.wrap_over and len(parts) > 1:
        pad = "\n" + style.indent * (depth + 1)
        start = "<" + tag + "".join(pad + p for p in parts) + "\n" + style.indent * depth
    else:
        start = one_line
    if node.tag in _VOID:
        return start + (" />" if style.self_close else ">")
    inner = "".join(render(c, style, depth + 1) for c in node.children)
    return f"{start}>{inner}</{tag}>"


def render_all(nodes: Iterable[Node], style: Style) -> str:
    return "".join(render(n, style) if isinstance(n, El) else n for n in nodes)


# -- vocabulary and ids ------------------------------------------------------------------

_LEX: Final = [
    "vintage",
    "teak",
    "sideboard",
    "bicycle",
    "camera",
    "lens",
    "vinyl",
    "records",
    "sofa",
    "armchair",
    "lamp",
    "brass",
    "mirror",
    "garden",
    "bench",
    "kayak",
    "paddle",
    "guitar",
    "amplifier",
    "desk",
    "ergonomic",
    "chair",
    "jacket",
    "boots",
    "rug",
    "wool",
    "essay",
    "interview",
    "column",
    "review",
    "feature",
    "profile",
    "dispatch",
    "portfolio",
    "chapter",
    "season",
    "recipe",
    "kitchen",
    "journey",
    "island",
    "harvest",
    "studio",
    "gallery",
    "method",
    "tutorial",
    "component",
    "deploy",
    "query",
    "cache",
    "router",
    "schema",
    "token",
    "adapter",
    "stream",
    "worker",
    "cluster",
    "bucket",
    "index",
]


class _Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def words(self, low: int, high: int) -> str:
        return " ".join(self.r.choice(_LEX) for _ in range(self.r.randint(low, high)))

    def sentence(self) -> str:
        return self.words(6, 18).capitalize() + "."

    def text(self, n: int) -> str:
        return " ".join(self.sentence() for _ in range(n))

    def token(self, n: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def num(self, low: int, high: int) -> int:
        return self.r.randint(low, high)


def _grow(
    head: list[Node], size: int, unit: Callable[[int], list[Node]], foot: list[Node], style: Style
) -> str:
    out = [render_all(head, style)]
    tail = render_all(foot, style)
    total = len(out[0]) + len(tail)
    i = 0
    while total < size or i == 0:
        piece = render_all(unit(i), style)
        out.append(piece)
        total += len(piece)
        i += 1
    out.append(tail)
    return "".join(out)


def _script(src: str, *extra: tuple[str, str | None]) -> El:
    return el("script", [("src", src), *extra])


def _inline(code: str, *attrs: tuple[str, str | None]) -> El:
    return el("script", list(attrs), raw(code))


# -- marketplace: Cloudinary images, lazy-loading with <noscript> fallbacks -----------------


def marketplace(size: int = 300_000, seed: int = 7) -> str:
    g = _Gen(seed)
    style = Style(quote='"', self_close=False)
    cloud = "https://res.cloudinary.com/tradepost"

    def cl(transform: str, public_id: str) -> str:
        return f"{cloud}/image/upload/{transform}/v{g.num(1500000000, 1740000000)}/{public_id}.jpg"

    head: list[Node] = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head>',
        el("meta", [("charset", "utf-8")]),
        el("title", [], "Secondhand furniture near you - Tradepost"),
        el("link", [("rel", "preconnect"), ("href", "https://res.cloudinary.com")]),
        el(
            "link",
            [
                ("rel", "stylesheet"),
                ("href", "https://tradepost-static.b-cdn.net/css/app.3f9a.css"),
            ],
        ),
        _script("https://tradepost-static.b-cdn.net/js/lazysizes.min.js", ("async", None)),
        _inline(
            "!function(e,t,n,s,u,a){e.twq||(s=e.twq=function(){s.exe?s.exe.apply(s,arguments):"
            "s.queue.push(arguments);},s.version='1.1',s.queue=[],u=t.createElement(n),u.async=!0,"
            "u.src='https://static.ads-twitter.com/uwt.js',a=t.getElementsByTagName(n)[0],"
            "a.parentNode.insertBefore(u,a))}(window,document,'script');\ntwq('config','o"
            + g.token(4)
            + "');"
        ),
        _inline(
            "(function(c,l,a,r,i,t,y){c[a]=c[a]||function(){(c[a].q=c[a].q||[]).push(arguments)};"
            't=l.createElement(r);t.async=1;t.src="https://www.clarity.ms/tag/"+i;'
            "y=l.getElementsByTagName(r)[0];y.parentNode.insertBefore(t,y);"
            '})(window, document, "clarity", "script", "' + g.token(10) + '");',
            ("type", "text/javascript"),
        ),
        _inline(
            'adroll_adv_id = "'
            + g.token(22).upper()
            + '"; adroll_pix_id = "'
            + g.token(22).upper()
            + '"; adroll_version = "2.0";\n(function(w, d, e, o, a) { w.__adroll_loaded = true; '
            "w.adroll = w.adroll || []; w.adroll.f = [ 'setProperties', 'identify', 'track' ]; "
            'var roundtripUrl = "https://s.adroll.com/j/" + adroll_adv_id + "/roundtrip.js"; '
            "for (a = 0; a < w.adroll.f.length; a++) { w.adroll[w.adroll.f[a]] = w.adroll[w.adroll.f[a]] || "
            "(function(n) { return function() { w.adroll.push([ n, arguments ]) } })(w.adroll.f[a]) } "
            "e = d.createElement('script'); o = d.getElementsByTagName('script')[0]; e.async = 1; "
            "e.src = roundtripUrl; o.parentNode.insertBefore(e, o); })(window, document);",
            ("type", "text/javascript"),
        ),
        "</head><body>",
        el(
            "div",
            [("class", "topbar")],
            *[
                el("a", [("href", f"/browse/{c}")], c.title())
                for c in (
                    "furniture",
                    "electronics",
                    "bikes",
                    "music",
                    "garden",
                    "fashion",
                    "books",
                    "toys",
                )
            ],
        ),
        '<main class="results"><section class="listing-grid" aria-label="Results">',
    ]

    def unit(i: int) -> list[Node]:
        pid = f"listings/{g.token(20)}"
        title = g.words(2, 5).title()
        thumb = cl("c_fill,w_300,h_225,q_auto,f_auto", pid)
        srcset = ", ".join(
            f"{cl(f'c_fill,w_{300 * d},h_{225 * d},q_auto,f_auto', pid)} {d}x" for d in (1, 2, 3)
        )
        img_lazy = el(
            "img",
            [
                ("class", "lazyload listing__photo"),
                ("src", "data:image/gif;base64,R0lGODlhAQABAAAAACw="),
                ("data-src", thumb),
                ("data-srcset", srcset),
                ("alt", title),
                ("width", "300"),
                ("height", "225"),
            ],
        )
        fallback = el("noscript", [], render(el("img", [("src", thumb), ("alt", title)]), style))
        seller = el(
            "img",
            [
                ("src", cl("c_thumb,g_face,w_48,h_48,r_max", f"avatars/{g.token(12)}")),
                ("alt", ""),
                ("width", "24"),
                ("height", "24"),
                ("loading", "lazy"),
            ],
        )
        return [
            el(
                "article",
                [("class", "listing"), ("data-listing-id", str(g.num(10**7, 10**8)))],
                el(
                    "a",
                    [("href", f"/item/{g.token(8)}"), ("class", "listing__link")],
                    img_lazy,
                    fallback,
                ),
                el("h2", [("class", "listing__title")], title),
                el("p", [("class", "listing__price")], f"&pound;{g.num(5, 900)}"),
                el(
                    "p",
                    [("class", "listing__meta")],
                    seller,
                    f" {g.words(1, 2).title()} &middot; {g.num(1, 40)} miles away",
                ),
                el(
                    "button",
                    [("class", "fav"), ("aria-label", "Save")],
                    el(
                        "svg",
                        [("viewBox", "0 0 20 20"), ("width", "20"), ("height", "20")],
                        el(
                            "path",
                            [
                                (
                                    "d",
                                    f"M10 {g.num(2, 6)}c-2-3-8-2-8 3 0 4 8 9 8 9s8-5 8-9c0-5-6-6-8-3z",
                                )
                            ],
                        ),
                    ),
                ),
            ),
            "\n",
        ]

    foot: list[Node] = [
        "</section></main>",
        el(
            "footer",
            [("class", "site-footer")],
            el("a", [("href", "/privacy/choices")], "Your privacy choices"),
        ),
        _script(
            "https://static.cloudflareinsights.com/beacon.min.js",
            ("defer", None),
            ("data-cf-beacon", '{"token": "' + g.token(32) + '"}'),
        ),
        "</body></html>\n",
    ]
    return _grow(head, size, unit, foot, style)


# -- magazine: Storyblok images, art-directed pictures, embeds ------------------------------


def magazine(size: int = 180_000, seed: int = 11) -> str:
    g = _Gen(seed)
    style = Style(quote='"', wrap_over=110, indent="  ", self_close=True)
    space = g.num(100000, 999999)

    def sb(w: int, h: int, name: str, crop: str) -> str:
        return (
            f"https://a.storyblok.com/f/{space}/{w * 2}x{h * 2}/{g.token(10, '0123456789abcdef')}/"
            f"{name}.jpg/m/{crop}/filters:quality(70):format(webp)"
        )

    def art(name: str, alt: str) -> El:
        return el(
            "picture",
            [],
            el(
                "source",
                [
                    ("media", "(min-width: 1200px)"),
                    (
                        "srcset",
                        f"{sb(1600, 900, name, '1600x900')} 1x, {sb(1600, 900, name, '3200x1800')} 2x",
                    ),
                ],
            ),
            el(
                "source",
                [
                    ("media", "(min-width: 640px)"),
                    (
                        "srcset",
                        f"{sb(960, 640, name, '960x640')} 1x, {sb(960, 640, name, '1920x1280')} 2x",
                    ),
                ],
            ),
            el(
                "source",
                [
                    (
                        "srcset",
                        f"{sb(480, 600, name, '480x600')} 1x, {sb(480, 600, name, '960x1200')} 2x",
                    )
                ],
            ),
            el(
                "img",
                [
                    ("src", sb(960, 640, name, "960x640")),
                    ("alt", alt),
                    ("loading", "lazy"),
                    ("decoding", "async"),
                    ("width", "960"),
                    ("height", "640"),
                ],
            ),
        )

    head: list[Node] = [
        '<!doctype html>\n<html lang="en">\n<head>\n',
        el("meta", [("charset", "utf-8")]),
        "\n",
        el("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")]),
        "\n",
        el("title", [], "The long table: " + g.words(4, 7) + " | Field Notes Magazine"),
        "\n",
        el(
            "link",
            [
                ("rel", "preload"),
                ("as", "image"),
                (
                    "imagesrcset",
                    f"{sb(1600, 900, 'cover', '1600x900')} 1x, {sb(1600, 900, 'cover', '3200x1800')} 2x",
                ),
                ("media", "(min-width: 1200px)"),
            ],
        ),
        "\n",
        el(
            "link",
            [
                ("rel", "stylesheet"),
                ("href", "https://fieldnotes.azureedge.net/assets/main.8c1e0a.css"),
            ],
        ),
        "\n",
        _script(
            "https://js.sentry-cdn.com/" + g.token(32, "0123456789abcdef") + ".min.js",
            ("crossorigin", "anonymous"),
        ),
        "\n",
        _inline(
            "snaptr('init', '"
            + g.token(8)
            + "-"
            + g.token(4)
            + "', {});snaptr('track', 'PAGE_VIEW');\n"
            "(function(e,t,n){if(e.snaptr)return;var a=e.snaptr=function(){a.handleRequest?"
            "a.handleRequest.apply(a,arguments):a.queue.push(arguments)};a.queue=[];var s='script';"
            "var r=t.createElement(s);r.async=!0;r.src=n;var u=t.getElementsByTagName(s)[0];"
            "u.parentNode.insertBefore(r,u);})(window,document,'https://sc-static.net/scevent.min.js');"
        ),
        "\n",
        _inline(
            "!function(q,e,v,n,t,s){if(q.qp) return; n=q.qp=function(){n.qp?n.qp.apply(n,arguments):"
            "n.queue.push(arguments);}; n.queue=[];t=document.createElement(e);t.async=!0;t.src=v; "
            "s=document.getElementsByTagName(e)[0]; s.parentNode.insertBefore(t,s);}(window, 'script', "
            "'https://a.quora.com/qevents.js');\nqp('init', '"
            + g.token(32, "0123456789abcdef")
            + "');\n"
            "qp('track', 'ViewContent');"
        ),
        "\n",
        el(
            "noscript",
            [],
            raw(
                '<img height="1" width="1" style="display:none" '
                'src="https://q.quora.com/_/ad/'
                + g.token(32, "0123456789abcdef")
                + '/pixel?tag=ViewContent&noscript=1"/>'
            ),
        ),
        "\n",
        _script(
            "https://plausible.io/js/script.js",
            ("defer", None),
            ("data-domain", "fieldnotes.example"),
        ),
        "\n</head>\n<body>\n",
        el(
            "header",
            [("class", "mast")],
            el("a", [("href", "/"), ("class", "mast__logo")], "Field Notes"),
            el(
                "nav",
                [],
                *[
                    el("a", [("href", f"/section/{w}")], w.title())
                    for w in ("essays", "food", "travel", "design", "culture", "archive")
                ],
            ),
        ),
        '\n<article class="story">\n',
        el("h1", [("class", "story__title")], g.words(4, 9).title()),
        "\n",
        el("figure", [("class", "story__cover")], art("cover", "Cover image")),
        "\n",
    ]

    embeds: list[Callable[[], list[Node]]] = [
        lambda: [
            el(
                "iframe",
                [
                    (
                        "src",
                        f"https://player.vimeo.com/video/{g.num(10**8, 10**9)}?h={g.token(10)}"
                        "&badge=0&autopause=0&player_id=0",
                    ),
                    ("width", "640"),
                    ("height", "360"),
                    ("frameborder", "0"),
                    ("allow", "autoplay; fullscreen; picture-in-picture"),
                    ("title", g.words(2, 4)),
                ],
            )
        ],
        lambda: [
            el(
                "iframe",
                [
                    ("style", "border-radius:12px"),
                    (
                        "src",
                        f"https://open.spotify.com/embed/episode/{g.token(22)}?utm_source=generator",
                    ),
                    ("width", "100%"),
                    ("height", "152"),
                    ("frameBorder", "0"),
                    ("allowfullscreen", ""),
                    ("loading", "lazy"),
                    (
                        "allow",
                        "autoplay; clipboard-write; encrypted-media; fullscreen; picture-in-picture",
                    ),
                ],
            )
        ],
        lambda: [
            el(
                "figure",
                [("class", "story__figure")],
                art(g.token(8), g.words(3, 6)),
                el("figcaption", [], g.sentence()),
            )
        ],
        lambda: [el("aside", [("class", "pullquote")], el("blockquote", [], g.sentence()))],
    ]

    def unit(i: int) -> list[Node]:
        nodes: list[Node] = [el("p", [], g.text(g.num(2, 6))), "\n"]
        if i % 2 == 1:
            nodes += [*embeds[(i // 2) % len(embeds)](), "\n"]
        return nodes

    foot: list[Node] = [
        "</article>\n",
        el("div", [("id", "disqus_thread")]),
        _inline(
            "var disqus_config = function () { this.page.url = 'https://fieldnotes.example/long-table'; };"
            "(function() { var d = document, s = d.createElement('script');"
            "s.src = 'https://fieldnotes.disqus.com/embed.js';s.setAttribute('data-timestamp', +new Date());"
            "(d.head || d.body).appendChild(s);})();"
        ),
        "\n",
        _inline(
            "!function(w,d){if(!w.rdt){var p=w.rdt=function(){p.sendEvent?p.sendEvent.apply(p,arguments)"
            ':p.callQueue.push(arguments)};p.callQueue=[];var t=d.createElement("script");'
            't.src="https://www.redditstatic.com/ads/pixel.js",t.async=!0;var s=d.getElementsByTagName'
            "(\"script\")[0];s.parentNode.insertBefore(t,s)}}(window,document);rdt('init','a2_"
            + g.token(10)
            + "');rdt('track','PageVisit');"
        ),
        "\n",
        el("footer", [], el("p", [], "&copy; Field Notes Magazine")),
        "\n</body>\n</html>\n",
    ]
    return _grow(head, size, unit, foot, style)


# -- nuxt: a Nuxt 2 app, state in a big inline script, Sanity images ----------------------


def nuxt(size: int = 350_000, seed: int = 13) -> str:
    g = _Gen(seed)
    style = Style(quote='"', wrap_over=0)
    assets = "https://travelkit-prod.azureedge.net/_nuxt"
    project = g.token(8)

    def sanity(ref: str, w: int, h: int) -> str:
        return (
            f"https://cdn.sanity.io/images/{project}/production/{ref}-{w * 4}x{h * 4}.jpg"
            f"?w={w}&h={h}&fit=crop&auto=format"
        )

    chunks = [f"{assets}/{g.token(7)}.js" for _ in range(12)]
    cards: list[Node] = []
    state_items: list[dict[str, object]] = []
    n_cards = max(6, size // 12_000)
    for _ in range(n_cards):
        ref = g.token(40, "0123456789abcdef")
        title = g.words(2, 4).title()
        cards.append(
            el(
                "div",
                [("data-v-4f1c2e0a", ""), ("class", "trip-card")],
                el(
                    "img",
                    [
                        ("data-v-4f1c2e0a", ""),
                        ("src", sanity(ref, 600, 400)),
                        (
                            "srcset",
                            ", ".join(
                                f"{sanity(ref, w, w * 2 // 3)} {w}w" for w in (300, 600, 900, 1200)
                            ),
                        ),
                        ("sizes", "(max-width: 600px) 100vw, 33vw"),
                        ("alt", title),
                        ("loading", "lazy"),
                    ],
                ),
                el("h3", [("data-v-4f1c2e0a", "")], title),
                el(
                    "span",
                    [("data-v-4f1c2e0a", ""), ("class", "trip-card__price")],
                    f"from ${g.num(300, 4000)}",
                ),
            )
        )
    head = (
        '<!doctype html>\n<html data-n-head-ssr lang="en" data-n-head="%7B%22lang%22:%7B%22ssr%22:%22en%22%7D%7D">\n'
        "<head>\n<title>Trips worth taking | Travelkit</title>"
        '<meta data-n-head="ssr" charset="utf-8"><meta data-n-head="ssr" name="viewport" '
        'content="width=device-width, initial-scale=1">'
        + "".join(f'<link rel="preload" href="{c}" as="script">' for c in chunks)
        + f'<link rel="preload" href="{assets}/css/{g.token(7)}.css" as="style">'
        f'<link rel="stylesheet" href="{assets}/css/{g.token(7)}.css">'
        + render(
            _inline(
                "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
                "gtag('js',new Date());gtag('config','G-"
                + g.token(10).upper()
                + "',{send_page_view:false});"
            ),
            style,
        )
        + render(
            _script(
                "https://www.googletagmanager.com/gtag/js?id=G-" + g.token(10).upper(),
                ("async", None),
            ),
            style,
        )
        + render(
            _inline(
                "!function(e){var t=window.ttd_dom_ready=function(n){document.readyState!=='loading'?n():"
                "document.addEventListener('DOMContentLoaded',n)};t(function(){if(typeof TTDUniversalPixelApi"
                "==='function'){var u=new TTDUniversalPixelApi();u.init('"
                + g.token(7)
                + "',['"
                + g.token(7)
                + "'],'https://insight.adsrvr.org/track/up');}})}();"
            ),
            style,
        )
        + render(_script("https://js.adsrvr.org/up_loader.1.1.0.js"), style)
        + "</head>\n<body>\n"
        '<div data-server-rendered="true" id="__nuxt"><div id="__layout"><div class="app">'
        + render(
            el(
                "nav",
                [("class", "topnav")],
                *[
                    el("a", [("href", f"/{w}"), ("class", "nuxt-link-active")], w.title())
                    for w in ("destinations", "deals", "guides", "about")
                ],
            ),
            style,
        )
        + '<section class="trip-grid">'
        + render_all(cards, style)
        + "</section></div></div></div>"
    )
    # Nuxt 2 serializes the store with devalue into a function call whose arguments are
    # the repeated values: inline JavaScript, judged as script text by the rewriter.
    params = [g.token(1) + g.token(1, "0123456789") for _ in range(40)]
    budget = size - len(head) - 3_000
    body = ""
    while len(body) < budget:
        k = len(state_items)
        state_items.append(
            {
                "id": g.token(24),
                "title": g.words(2, 5).title(),
                "days": g.num(3, 21),
                "summary": g.text(2),
                "hero": sanity(g.token(40, "0123456789abcdef"), 1600, 900),
                "tags": [g.r.choice(params) for _ in range(4)],
                "rank": k,
            }
        )
        body = json.dumps(state_items, separators=(",", ":"))
    state = (
        f'window.__NUXT__=(function({",".join(params)}){{return {{layout:"default",data:[{{trips:'
        + body.replace('"', "'")
        + '}],fetch:{},error:null,serverRendered:true,routePath:"/",config:{_app:{basePath:"/",'
        f'assetsPath:"{assets}/",cdnURL:null}}}}}}}}('
        + ",".join(f'"{g.words(1, 1)}"' for _ in params)
        + "));"
    )
    return (
        head
        + "<script>"
        + state
        + "</script>"
        + "".join(render(_script(c, ("defer", None)), style) for c in chunks)
        + "</body>\n</html>\n"
    )


# -- docs: a documentation page, syntax-highlighted code, anchor icons -----------------


def docs(size: int = 160_000, seed: int = 17) -> str:
    g = _Gen(seed)
    style = Style(quote='"')
    cdn = "https://docs-assets.b-cdn.net"
    kw = ("const", "let", "return", "await", "async", "function", "import", "from", "export", "if")
    head: list[Node] = [
        '<!DOCTYPE html><html lang="en" data-theme="light"><head>',
        el("meta", [("charset", "UTF-8")]),
        el("title", [], "Streams and workers | Relaykit docs"),
        el("link", [("rel", "stylesheet"), ("href", f"{cdn}/assets/css/styles.{g.token(8)}.css")]),
        el(
            "link",
            [
                ("rel", "preconnect"),
                ("href", "https://BH4D9OD16A-dsn.algolia.net"),
                ("crossorigin", "anonymous"),
            ],
        ),
        _script(f"{cdn}/assets/js/runtime~main.{g.token(8)}.js", ("defer", None)),
        _script(f"{cdn}/assets/js/main.{g.token(8)}.js", ("defer", None)),
        _script("https://cdn.jsdelivr.net/npm/@docsearch/js@3", ("defer", None)),
        _inline(
            "window.dataLayer = window.dataLayer || [];\nfunction gtag(){dataLayer.push(arguments);}\n"
            "gtag('js', new Date());\ngtag('config', 'G-"
            + g.token(10).upper()
            + '\', {"anonymize_ip":true});'
        ),
        _script(
            "https://www.googletagmanager.com/gtag/js?id=G-" + g.token(10).upper(), ("async", None)
        ),
        '</head><body class="navigation-with-keyboard">',
        el(
            "nav",
            [("class", "menu thin-scrollbar")],
            el(
                "ul",
                [("class", "theme-doc-sidebar-menu menu__list")],
                *[
                    el(
                        "li",
                        [("class", "menu__list-item")],
                        el(
                            "a",
                            [("class", "menu__link"), ("href", f"/docs/{g.token(6)}")],
                            g.words(1, 3).title(),
                        ),
                    )
                    for _ in range(60)
                ],
            ),
        ),
        '<main class="docMainContainer"><article><div class="theme-doc-markdown markdown">',
    ]

    def code_line() -> str:
        toks = []
        for _ in range(g.num(3, 9)):
            c = g.num(0, 5)
            if c == 0:
                toks.append(f'<span class="token keyword">{g.r.choice(kw)}</span> ')
            elif c == 1:
                toks.append(f'<span class="token string">"{g.words(1, 2)}"</span>')
            elif c == 2:
                toks.append(
                    '<span class="token punctuation">(</span>'
                    f'<span class="token parameter">{g.words(1, 1)}</span>'
                    '<span class="token punctuation">)</span>'
                )
            elif c == 3:
                toks.append('<span class="token operator">=&gt;</span> ')
            elif c == 4:
                toks.append(f'<span class="token function">{g.words(1, 1)}</span>')
            else:
                toks.append(f'<span class="token comment">// {g.words(2, 6)}</span>')
        return '<span class="token-line" style="color:#393A34">' + "".join(toks) + "\n</span>"

    def unit(i: int) -> list[Node]:
        anchor = g.token(10)
        nodes: list[Node] = [
            el(
                "h2",
                [("class", "anchor anchorWithStickyNavbar"), ("id", anchor)],
                g.words(2, 5).title(),
                el(
                    "a",
                    [
                        ("href", f"#{anchor}"),
                        ("class", "hash-link"),
                        ("aria-label", "Direct link to heading"),
                    ],
                    el(
                        "svg",
                        [("viewBox", "0 0 16 16"), ("width", "16"), ("height", "16")],
                        el(
                            "path",
                            [
                                (
                                    "d",
                                    f"M7.{g.num(1, 9)} 1.5a3 3 0 0 0-4.2 4.2l2 2a.75.75 0 0 0 1-1l-2-2"
                                    "a1.5 1.5 0 0 1 2.1-2.1l3 3a1.5 1.5 0 0 1 0 2.1.75.75 0 1 0 1 1z",
                                )
                            ],
                        ),
                    ),
                ),
            ),
            el(
                "p",
                [],
                g.text(g.num(2, 5)),
                " See ",
                el("code", [], "stream.pipe(worker)"),
                " and the &lt;Stream&gt; API.",
            ),
            '<div class="codeBlockContainer"><pre class="prism-code language-js" tabindex="0"><code class="codeBlockLines">'
            + "".join(code_line() for _ in range(g.num(6, 20)))
            + "</code></pre></div>",
        ]
        if i % 4 == 3:
            nodes.append(
                el(
                    "img",
                    [
                        ("src", f"{cdn}/img/diagrams/{g.token(8)}.png"),
                        ("alt", "diagram"),
                        ("width", "800"),
                        ("height", "400"),
                        ("loading", "lazy"),
                    ],
                )
            )
        return nodes

    foot: list[Node] = [
        "</div></article></main>",
        el(
            "footer",
            [("class", "footer")],
            el("a", [("href", "https://relaykit.example/privacy")], "Privacy"),
        ),
        "</body></html>\n",
    ]
    return _grow(head, size, unit, foot, style)


# -- classifieds: legacy table markup, upper case, unquoted, thousands of photos ----------


def classifieds(size: int = 2_500_000, seed: int = 19) -> str:
    g = _Gen(seed)
    style = Style(upper=True, unquoted=True)
    img = "https://img-classified.global.ssl.fastly.net"
    head: list[Node] = [
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n<HTML><HEAD>',
        '<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=iso-8859-1">',
        "<TITLE>Classifieds - For Sale - All Categories</TITLE>",
        el("link", [("rel", "stylesheet"), ("type", "text/css"), ("href", "/css/main.css")]),
        el("script", [("language", "JavaScript"), ("src", "/js/common.js")]),
        el(
            "script",
            [
                ("language", "JavaScript"),
                ("type", "text/javascript"),
                (
                    "src",
                    "http://ad.doubleclick.net/adj/classified.site/forsale;sz=728x90;ord="
                    + str(g.num(10**9, 10**10))
                    + "?",
                ),
            ],
        ),
        "</HEAD>\n",
        "<BODY BGCOLOR=#FFFFFF LEFTMARGIN=0 TOPMARGIN=0 MARGINWIDTH=0 MARGINHEIGHT=0>\n",
        el(
            "iframe",
            [
                ("src", "http://ad.doubleclick.net/adi/classified.site/forsale;sz=728x90;ord=1?"),
                ("width", "728"),
                ("height", "90"),
                ("marginwidth", "0"),
                ("marginheight", "0"),
                ("frameborder", "0"),
                ("scrolling", "no"),
            ],
        ),
        "\n<TABLE WIDTH=100% BORDER=0 CELLPADDING=2 CELLSPACING=0>\n",
    ]

    def unit(i: int) -> list[Node]:
        ad = g.num(10**6, 10**7)
        title = g.words(2, 6).title()
        return [
            el(
                "tr",
                [("bgcolor", "#F0F0F0" if i % 2 else "#FFFFFF")],
                el(
                    "td",
                    [("width", "130"), ("valign", "top")],
                    el(
                        "a",
                        [("href", f"/ad/{ad}.html")],
                        el(
                            "img",
                            [
                                ("src", f"{img}/thumbs/{ad // 1000}/{ad}_1.jpg"),
                                ("width", "120"),
                                ("height", "90"),
                                ("border", "0"),
                                ("alt", title),
                            ],
                        ),
                    ),
                ),
                el(
                    "td",
                    [("valign", "top")],
                    el(
                        "font",
                        [("face", "Arial,Helvetica"), ("size", "2")],
                        el("a", [("href", f"/ad/{ad}.html")], el("b", [], title)),
                        "<BR>",
                        g.sentence(),
                        "<BR>",
                        el("font", [("color", "#008000")], f"${g.num(5, 5000)}"),
                        f" &nbsp; {g.words(1, 2).title()}, posted {g.num(1, 28)}/{g.num(1, 12)}",
                    ),
                ),
                el(
                    "td",
                    [("width", "60"), ("align", "center")],
                    el(
                        "img",
                        [
                            ("src", f"{img}/icons/{'photo' if i % 3 else 'camera'}.gif"),
                            ("width", "16"),
                            ("height", "16"),
                            ("alt", ""),
                        ],
                    ),
                ),
            ),
            "\n",
        ]

    foot: list[Node] = [
        "</TABLE>\n",
        el(
            "img",
            [
                (
                    "src",
                    "http://b.scorecardresearch.com/p?c1=2&c2="
                    + str(g.num(10**6, 10**7))
                    + "&cv=2.0&cj=1",
                ),
                ("width", "1"),
                ("height", "1"),
                ("border", "0"),
            ],
        ),
        el(
            "script",
            [("type", "text/javascript")],
            raw(
                "var _gaq = _gaq || [];\n_gaq.push(['_setAccount', 'UA-"
                + str(g.num(10**6, 10**7))
                + "-1']);\n"
                "_gaq.push(['_trackPageview']);\n(function() {\nvar ga = document.createElement('script'); "
                "ga.type = 'text/javascript'; ga.async = true;\nga.src = ('https:' == document.location.protocol ? "
                "'https://ssl' : 'http://www') + '.google-analytics.com/ga.js';\nvar s = document.getElementsByTagName"
                "('script')[0]; s.parentNode.insertBefore(ga, s);\n})();"
            ),
        ),
        "\n</BODY></HTML>\n",
    ]
    return _grow(head, size, unit, foot, style)


KINDS: Final[dict[str, tuple[Callable[..., str], str]]] = {
    "h-marketplace": (
        marketplace,
        "listing grid, lazysizes data-src + <noscript>, res.cloudinary.com",
    ),
    "h-magazine": (
        magazine,
        "long read, art-directed <picture>, embeds, a.storyblok.com, wrapped tags",
    ),
    "h-nuxt": (nuxt, "Nuxt 2 shell, store in a big inline script, cdn.sanity.io, *.azureedge.net"),
    "h-docs": (docs, "documentation page, highlighted code, anchor icons, *.b-cdn.net"),
    "h-classifieds": (
        classifieds,
        "legacy upper-case table markup, unquoted, *.global.ssl.fastly.net",
    ),
}


def pages(size: int | None = None, cap: int | None = None) -> list[Page]:
    """Every held-out page (``size`` overrides each page's natural size; ``cap`` limits it)."""
    out = []
    for name, (make, what) in KINDS.items():
        natural = int(inspect.signature(make).parameters["size"].default)
        text = make(min(size or natural, cap or natural))
        out.append(Page(name, what, text.encode("utf-8"), held_out=True))
    return out
