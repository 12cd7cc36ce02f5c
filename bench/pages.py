"""Synthetic but realistic pages for the rewriter benchmarks.

``typical_page`` is shaped like a marketing or news page: a head full of meta, preconnect,
stylesheet and script tags, a dozen vendor tags (tag manager, analytics, ad and social
pixels, their ``<noscript>`` fallbacks), then navigation, cards with responsive images,
inline SVG icons, comments, a JSON-LD block and a footer. ``large_page`` repeats the body
content to the requested size, keeping the same vendor tags.
"""

from __future__ import annotations

import random

from optout_mw.rules import Action, Rule, RuleSet

VENDOR_RULES = RuleSet(
    [
        Rule(
            name="google-tag-manager",
            hosts=("googletagmanager.com",),
            inline_markers=("gtag(", "googletagmanager.com/gtm.js"),
        ),
        Rule(name="google-analytics", hosts=("google-analytics.com",)),
        Rule(name="doubleclick", hosts=("doubleclick.net", "googlesyndication.com")),
        Rule(
            name="meta-pixel",
            hosts=("connect.facebook.net",),
            host_paths=("facebook.com/tr",),
            inline_markers=("fbq(",),
        ),
        Rule(name="tiktok", hosts=("analytics.tiktok.com",), inline_markers=("ttq.load(",)),
        Rule(name="linkedin", hosts=("snap.licdn.com", "px.ads.linkedin.com")),
        Rule(name="hotjar", hosts=("static.hotjar.com",), inline_markers=("hj(",)),
        Rule(name="bing", hosts=("bat.bing.com",), inline_markers=("uetq",), action=Action.BLOCK),
        Rule(name="criteo", hosts=("static.criteo.net",)),
    ]
)

_HEAD_VENDORS = """\
<link rel="preconnect" href="https://www.googletagmanager.com">
<link rel="dns-prefetch" href="//connect.facebook.net">
<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-ABC123');</script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-XYZ"></script>
<script>window.dataLayer = window.dataLayer || [];
function gtag(){dataLayer.push(arguments);}gtag('js', new Date());gtag('config', 'G-XYZ');</script>
<script>!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)};if(!f._fbq)f._fbq=n;
n.push=n;n.loaded=!0;n.version='2.0';n.queue=[];t=b.createElement(e);t.async=!0;
t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,
document,'script','https://connect.facebook.net/en_US/fbevents.js');
fbq('init', '1234567890');fbq('track', 'PageView');</script>
<noscript><img height="1" width="1" style="display:none"
src="https://www.facebook.com/tr?id=1234567890&amp;ev=PageView&amp;noscript=1"/></noscript>
<script async src="https://static.hotjar.com/c/hotjar-123.js?sv=6"></script>
<script src="https://snap.licdn.com/li.lms-analytics/insight.min.js" async></script>
"""

_BODY_VENDORS = """\
<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-ABC123"
height="0" width="0" style="display:none;visibility:hidden"></iframe></noscript>
"""

_FOOTER_VENDORS = """\
<script>(function(w,d,t,r,u){var f,n,i;w[u]=w[u]||[],f=function(){var o={ti:"5"};
o.q=w[u],w[u]=new UET(o),w[u].push("pageLoad")},n=d.createElement(t),n.src=r,n.async=1;
})(window,document,"script","//bat.bing.com/bat.js","uetq");</script>
<img src="https://px.ads.linkedin.com/collect/?pid=1&amp;fmt=gif" height="1" width="1" alt="">
<iframe src="https://td.doubleclick.net/td/rul/123" style="display:none"></iframe>
"""

_ICON = (
    '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M12 2L2 7l10 5 10-5-10-5z'
    'M2 17l10 5 10-5M2 12l10 5 10-5" fill="none" stroke="currentColor"/></svg>'
)

_WORDS = [
    "privacy",
    "signal",
    "browser",
    "visitor",
    "consent",
    "page",
    "product",
    "offer",
    "price",
    "shipping",
    "article",
    "reader",
    "story",
    "update",
    "news",
    "market",
    "team",
    "company",
    "report",
    "service",
]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 20))]
    return " ".join(words).capitalize() + "."


def _card(rng: random.Random, i: int) -> str:
    img = f"/media/{i}"
    return (
        f'<article class="card card--{i % 4}" data-id="{i}" data-track=\'{{"pos":{i}}}\'>\n'
        f'  <a class="card__link" href="/products/{i}?ref=list" title="Item {i}">\n'
        f'    <picture><source type="image/webp" srcset="{img}-400.webp 400w, {img}-800.webp 800w">'
        f'<img src="{img}-400.jpg" srcset="{img}-400.jpg 400w, {img}-800.jpg 800w" '
        f'sizes="(max-width: 600px) 100vw, 33vw" alt="Item {i}" loading="lazy" width="400" '
        f'height="300"></picture>\n'
        f"  </a>\n"
        f'  <div class="card__body"><h3 class="card__title">{_sentence(rng)[:40]}</h3>\n'
        f"    <p>{_sentence(rng)} {_sentence(rng)}</p>\n"
        f'    <p class="price"><span class="amount">{rng.randint(5, 500)}.99</span>'
        f'<span class="currency">USD</span></p>\n'
        f'    <button class="btn btn--primary" type="button" data-sku="SKU-{i}">'
        f"{_ICON} Add</button>\n"
        f"  </div>\n"
        f"  <!-- card {i} -->\n"
        f"</article>\n"
    )


def _nav(rng: random.Random) -> str:
    items = "".join(
        f'<li class="nav__item"><a class="nav__link" href="/c/{k}">{rng.choice(_WORDS)}</a></li>'
        for k in range(40)
    )
    return (
        f'<header class="site"><nav class="nav" aria-label="Main"><ul>{items}</ul></nav></header>\n'
    )


def _head(rng: random.Random) -> str:
    metas = "".join(f'<meta name="m{k}" content="{_sentence(rng)}">\n' for k in range(8))
    css = ".a{color:red}" * 200
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Shop &amp; Stories</title>\n"
        + metas
        + '<link rel="stylesheet" href="/static/site.css">\n'
        '<link rel="stylesheet" href="/static/print.css" media="print">\n'
        '<link rel="preload" href="/static/font.woff2" as="font" crossorigin>\n'
        '<link rel="icon" href="/favicon.ico">\n'
        f"<style>{css}</style>\n"
        '<script src="/static/vendor.js" defer></script>\n'
        '<script src="/static/app.js" defer></script>\n'
        '<script type="application/ld+json">{"@context":"https://schema.org","@type":"Organization",'
        '"url":"https://shop.example","logo":"https://shop.example/logo.png"}</script>\n'
        + _HEAD_VENDORS
        + "</head>\n"
    )


def page(size: int, seed: int = 0) -> bytes:
    """A page of about ``size`` bytes with the same dozen vendor tags whatever the size."""
    rng = random.Random(seed)
    parts = [_head(rng), '<body class="home">\n', _BODY_VENDORS, _nav(rng), "<main>\n"]
    footer = (
        "</main>\n<footer><p>&copy; 2025 Shop</p>"
        '<a href="/privacy">Do Not Sell or Share My Personal Information</a></footer>\n'
        '<script>window.appConfig = {"locale": "en-US", "features": ["a", "b"]};</script>\n'
        + _FOOTER_VENDORS
        + "</body></html>\n"
    )
    length = sum(len(p) for p in parts) + len(footer)
    i = 0
    while length < size:
        card = _card(rng, i)
        parts.append(card)
        length += len(card)
        i += 1
    parts.append(footer)
    return "".join(parts).encode("utf-8")


def typical_page() -> bytes:
    """About 80 KB."""
    return page(80_000)


def large_page() -> bytes:
    """About 5 MB."""
    return page(5_000_000, seed=1)


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]
