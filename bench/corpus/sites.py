"""The benchmark corpus: pages with the shapes real sites have.

Every page is built by string templates from a seeded ``random.Random``: the same bytes
on every run and machine. What each shape is based on is written in ``README.md``. The
pages differ from ``bench/pages.py``'s typical page in the ways that matter to a
rewriter: asset URLs are absolute (the site's CDN host, or protocol-relative), ``srcset``
lists are long, image tags are distinct (a catalogue has thousands), templates break
tags over lines and leave ``&`` in query strings, and most third parties on the page are
not in the rule set.
"""

# ruff: noqa: E501 - markup templates stay one emitted line per source line
from __future__ import annotations

import inspect
import json
import random
from collections.abc import Callable
from typing import Final
from urllib.parse import quote

from corpus import Page
from corpus import _vendors as v

_WORDS: Final = ["linen", "relaxed", "organic", "cotton", "merino", "wool", "everyday", "classic", "slim", "fit", "cropped", "oversized", "waterproof", "lightweight", "insulated", "travel", "weekend", "heritage", "canvas", "leather", "suede", "recycled", "ribbed", "knit", "pleated", "tailored", "utility", "field", "trail", "city", "ridge", "harbor", "summit", "coastal", "alpine", "river", "stone", "cedar", "maple", "ember", "indigo", "sage", "clay", "sand", "charcoal", "ivory", "olive", "rust", "navy", "market", "council", "report", "season", "players", "coach", "election", "budget", "housing", "transport", "climate", "school", "district", "storm", "record", "growth", "hospital", "court", "mayor", "festival", "league", "research", "data"]

_COLOURS: Final = ("black", "white", "navy", "olive", "sand", "rust", "sage", "charcoal")


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(low, high)))


def _title(rng: random.Random, low: int = 2, high: int = 4) -> str:
    return _words(rng, low, high).title()


def _para(rng: random.Random, sentences: int) -> str:
    return " ".join(_words(rng, 8, 22).capitalize() + "." for _ in range(sentences))


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(10 ** (n - 1), 10**n - 1))


def _slug(text: str) -> str:
    return text.lower().replace(" ", "-")


def _fill(parts: list[str], size: int, unit: Callable[[int], str], tail: str) -> str:
    """Append ``unit(i)`` until the page (with ``tail``) reaches ``size`` bytes."""
    length = sum(len(p) for p in parts) + len(tail)
    i = 0
    while length < size or i == 0:
        piece = unit(i)
        parts.append(piece)
        length += len(piece)
        i += 1
    parts.append(tail)
    return "".join(parts)


# Icons as design systems inline them (Feather / Heroicons style: stroke paths).
def _icon(rng: random.Random, cls: str = "icon") -> str:
    paths = "".join(
        f'<path d="M{rng.randint(1, 23)} {rng.randint(1, 23)}l{rng.randint(-9, 9)} '
        f"{rng.randint(-9, 9)}h{rng.randint(1, 9)}a{rng.randint(1, 5)} {rng.randint(1, 5)} 0 0 1 "
        f'{rng.randint(-5, 5)} {rng.randint(-5, 5)}v{rng.randint(-9, 9)}z"/>'
        for _ in range(rng.randint(1, 3))
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{cls}" width="24" height="24" '
        'viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" '
        f'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">{paths}</svg>'
    )


_SPINNER: Final = (
    '<svg aria-hidden="true" focusable="false" class="spinner" viewBox="0 0 66 66" '
    'xmlns="http://www.w3.org/2000/svg">\n'
    '                        <circle class="path" fill="none" stroke-width="6" cx="33" cy="33" '
    'r="30"></circle>\n                      </svg>'
)


def _payment_icon(rng: random.Random, name: str) -> str:
    path = "".join(
        f"M{rng.randint(0, 38)}.{rng.randint(0, 9)} {rng.randint(0, 24)}.{rng.randint(0, 9)}"
        f"c{rng.randint(-9, 9)}.{rng.randint(0, 9)} {rng.randint(-9, 9)}.{rng.randint(0, 9)} "
        f"{rng.randint(-9, 9)}.{rng.randint(0, 9)} {rng.randint(-9, 9)}.{rng.randint(0, 9)}"
        for _ in range(24)
    )
    return (
        f'<li class="list-payment__item"><svg class="icon icon--full-color" viewBox="0 0 38 24" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" width="38" height="24" '
        f'aria-labelledby="pi-{name}"><title id="pi-{name}">{name.title()}</title>'
        f'<path opacity=".07" d="M35 0H3C1.3 0 0 1.3 0 3v18c0 1.7 1.4 3 3 3h32c1.7 0 3-1.3 3-3V3'
        f'c0-1.7-1.4-3-3-3z"/><path fill="#fff" d="{path}z"/></svg></li>'
    )


# -- storefront: a Shopify Dawn-style collection page ---------------------------------


def storefront(rng: random.Random, size: int = 160_000) -> str:
    shop = "northwind-supply.com"
    files = f"//cdn.shopify.com/s/files/1/0{_digits(rng, 3)}/{_digits(rng, 4)}/{_digits(rng, 4)}"
    theme = f"//{shop}/cdn/shop/t/{rng.randint(2, 40)}/assets"
    head_js = "".join(
        f'    <script src="{theme}/{name}.js?v={_digits(rng, 20)}" defer="defer"></script>\n'
        for name in (
            "constants",
            "pubsub",
            "global",
            "details-disclosure",
            "details-modal",
            "search-form",
            "animations",
            "facets",
            "product-form",
            "quick-add",
        )
    )
    css = "".join(
        f'  <link href="{theme}/{name}.css?v={_digits(rng, 20)}" rel="stylesheet" type="text/css" '
        f'media="all" />\n'
        for name in (
            "base",
            "component-card",
            "component-price",
            "component-facets",
            "template-collection",
            "component-rating",
        )
    )
    font_faces = "".join(
        f"  @font-face {{\n  font-family: Assistant;\n  font-weight: {w};\n  font-style: normal;\n"
        f'  font-display: swap;\n  src: url("//{shop}/cdn/fonts/assistant/assistant_n{w // 100}.'
        f'{_hex(rng, 40)}.woff2") format("woff2"),\n       url("//{shop}/cdn/fonts/assistant/'
        f'assistant_n{w // 100}.{_hex(rng, 40)}.woff") format("woff");\n}}\n'
        for w in (400, 700)
    )
    root_vars = "".join(
        f"        --color-{name}: {rng.randint(0, 255)},{rng.randint(0, 255)},{rng.randint(0, 255)};\n"
        for name in (
            "background",
            "foreground",
            "button",
            "button-text",
            "link",
            "badge-border",
            "secondary-button",
            "shadow",
            "accent-1",
            "accent-2",
        )
    )
    analytics = json.dumps(
        {
            "page": {
                "pageType": "collection",
                "resourceType": "collection",
                "resourceId": int(_digits(rng, 12)),
            },
            "currency": "USD",
            "shopId": int(_digits(rng, 11)),
        }
    )
    head = (
        "<!doctype html>\n"
        '<html class="js" lang="en">\n  <head>\n    <meta charset="utf-8">\n'
        '    <meta http-equiv="X-UA-Compatible" content="IE=edge">\n'
        '    <meta name="viewport" content="width=device-width,initial-scale=1">\n'
        '    <meta name="theme-color" content="">\n'
        f'    <link rel="canonical" href="https://{shop}/collections/all">\n'
        '    <link rel="preconnect" href="https://cdn.shopify.com" crossorigin>\n'
        f'    <link rel="icon" type="image/png" href="{files}/files/favicon.png?crop=center&height=32'
        f'&v={_digits(rng, 10)}&width=32">\n'
        '    <link rel="preconnect" href="https://fonts.shopifycdn.com" crossorigin>\n'
        "    <title>\n      Products\n &ndash; Northwind Supply Co.</title>\n"
        f'    <meta name="description" content="{_para(rng, 2)}">\n'
        + "".join(
            f'    <meta property="og:{k}" content="{_words(rng, 2, 8)}">\n'
            for k in (
                "site_name",
                "url",
                "title",
                "type",
                "description",
                "image",
                "image:secure_url",
            )
        )
        + head_js
        + "    <script>window.performance && window.performance.mark && "
        "window.performance.mark('shopify.content_for_header.start');</script>\n"
        f'    <meta id="shopify-digital-wallet" name="shopify-digital-wallet" '
        f'content="/{_digits(rng, 11)}/digital_wallets/dialog">\n'
        '    <script async="async" src="/checkouts/internal/preloads.js?locale=en-US"></script>\n'
        f'    <script id="shopify-features" type="application/json">{{"accessToken":"{_hex(rng, 32)}",'
        '"betas":["rich-media-storefront-analytics"],"domain":"'
        + shop
        + '","predictiveSearch":true,'
        '"shopId":' + _digits(rng, 11) + ',"locale":"en"}</script>\n'
        '    <script>var Shopify = Shopify || {};\nShopify.shop = "northwind-supply.myshopify.com";\n'
        'Shopify.locale = "en";\nShopify.currency = {"active":"USD","rate":"1.0"};\n'
        'Shopify.country = "US";\nShopify.theme = {"name":"Dawn","id":'
        + _digits(rng, 12)
        + ',"schema_name":"Dawn","schema_version":"15.0.0","theme_store_id":887,"role":"main"};\n'
        'Shopify.theme.handle = "null";\nShopify.cdnHost = "' + shop + '/cdn";\n'
        'Shopify.routes = Shopify.routes || {};\nShopify.routes.root = "/";</script>\n'
        '    <script type="module">!function(o){(o.Shopify=o.Shopify||{}).modules=!0}(window);</script>\n'
        f"    <script>window.ShopifyAnalytics = window.ShopifyAnalytics || {{}};\n"
        f"window.ShopifyAnalytics.meta = window.ShopifyAnalytics.meta || {{}};\n"
        f"var meta = {analytics};\nfor (var attr in meta) {{\n  window.ShopifyAnalytics.meta[attr] = meta[attr];\n}}</script>\n"
        f'    <script defer="defer" async type="module" src="//{shop}/cdn/shopifycloud/perf-kit/'
        f'shopify-perf-kit-1.6.6.min.js"></script>\n'
        "    <script>window.performance && window.performance.mark && "
        "window.performance.mark('shopify.content_for_header.end');</script>\n"
        "    <style data-shopify>\n" + font_faces + "      :root {\n" + root_vars + "      }\n"
        "    </style>\n"
        + css
        + f'    <link rel="preload" as="font" href="//{shop}/cdn/fonts/assistant/assistant_n4.'
        f'{_hex(rng, 40)}.woff2" type="font/woff2" crossorigin>\n'
        + v.GTM_HEAD.format(id=_alnum(rng, 7).upper())
        + v.META_PIXEL.format(id=_digits(rng, 15))
        + v.TIKTOK.format(id=_alnum(rng, 20).upper())
        + v.KLAVIYO.format(id=_alnum(rng, 6))
        + '    <script src="https://cdn.judge.me/widget_preloader.js" defer></script>\n'
        + v.PINTEREST.format(id=_digits(rng, 13))
        + "  </head>\n"
    )
    menu = "".join(
        f'<li><a href="/collections/{_slug(t)}" class="header__menu-item list-menu__item link '
        f'link--text focus-inset"><span>{t}</span></a></li>'
        for t in (_title(rng, 1, 2) for _ in range(9))
    )
    header = (
        '  <body class="gradient animate--hover-default">\n'
        + v.GTM_BODY.format(id=_alnum(rng, 7).upper())
        + '    <a class="skip-to-content-link button visually-hidden" href="#MainContent">Skip to content</a>\n'
        '<div id="shopify-section-sections--header" class="shopify-section shopify-section-group-header-group '
        'section-header"><sticky-header data-sticky-type="on-scroll-up" class="header-wrapper color-scheme-1 '
        'gradient header-wrapper--border-bottom">\n<header class="header header--middle-left page-width '
        'header--has-menu">\n'
        f'<a href="/" class="header__heading-link link link--text focus-inset"><img src="{files}/files/'
        f'logo.png?v={_digits(rng, 10)}&width=600" alt="Northwind Supply Co." srcset="{files}/files/'
        f"logo.png?v={_digits(rng, 10)}&width=90 90w, {files}/files/logo.png?v={_digits(rng, 10)}"
        "&width=135 135w, " + f"{files}/files/logo.png?v={_digits(rng, 10)}&width=180 180w"
        '" width="90" height="27.0" loading="eager" class="header__heading-logo motion-reduce" '
        'sizes="(max-width: 180px) 50vw, 90px"></a>\n'
        f'<nav class="header__inline-menu"><ul class="list-menu list-menu--inline" role="list">{menu}'
        "</ul></nav>\n"
        f'<div class="header__icons"><a href="/search" class="header__icon link focus-inset">{_icon(rng)}'
        f'</a><a href="/cart" class="header__icon header__icon--cart link focus-inset" id="cart-icon-bubble">'
        f'{_icon(rng)}<span class="visually-hidden">Cart</span></a></div>\n'
        "</header>\n</sticky-header></div>\n"
        '    <main id="MainContent" class="content-for-layout focus-none" role="main" tabindex="-1">\n'
        '<div class="page-width"><h1 class="collection-hero__title">Products</h1>\n'
        '<facet-filters-form class="facets small-hide"><form id="FacetFiltersForm" class="facets__form">\n'
        + "".join(
            f'<label for="Filter-Color-{k}" class="facet-checkbox"><input type="checkbox" '
            f'name="filter.v.option.color" value="{c}" id="Filter-Color-{k}">{_icon(rng, "icon icon-checkmark")}'
            f'<span aria-hidden="true">{c.title()} ({rng.randint(1, 90)})</span></label>\n'
            for k, c in enumerate(_COLOURS, 1)
        )
        + "</form></facet-filters-form>\n"
        '<ul id="product-grid" data-id="template--collection" class="grid product-grid grid--2-col-tablet-down '
        'grid--4-col-desktop">\n'
    )

    def card(i: int) -> str:
        name = _title(rng)
        handle = _slug(name) + f"-{i}"
        pid = _digits(rng, 13)
        img = f"{files}/products/{handle}_{rng.randint(1, 4)}.jpg?v={_digits(rng, 10)}"
        alt_img = f"{files}/products/{handle}_back.jpg?v={_digits(rng, 10)}"
        widths = (165, 360, 533, 720, 940, 1066)

        def srcset(url: str) -> str:
            return "".join(f"{url}&width={w} {w}w," for w in widths) + f"{url} 1500w"

        price = f"{rng.randint(18, 240)}.00"
        sizes = (
            "(min-width: 1200px) 267px, (min-width: 990px) calc((100vw - 130px) / 4), "
            "(min-width: 750px) calc((100vw - 120px) / 3), calc((100vw - 35px) / 2)"
        )
        return (
            '<li class="grid__item scroll-trigger animate--slide-in" data-cascade '
            f'style="--animation-order: {i % 4 + 1};">\n'
            '  <div class="card-wrapper product-card-wrapper underline-links-hover">\n'
            '    <div class="\n      card card--standard\n       card--media\n      \n      \n      \n      \n'
            '      \n    " style="--ratio-percent: 125.0%;">\n'
            '      <div class="card__inner color-scheme-2 gradient ratio" style="--ratio-percent: 125.0%;">'
            '<div class="card__media">\n            <div class="media media--transparent media--hover-effect">\n'
            "              \n              <img\n"
            f'                srcset="{srcset(img)}"\n'
            f'                src="{img}&width=533"\n'
            f'                sizes="{sizes}"\n'
            f'                alt="{name}"\n'
            '                class="motion-reduce"\n'
            '                loading="lazy"\n'
            '                width="1500"\n                height="1875"\n              >\n'
            "              \n<img\n"
            f'                  srcset="{srcset(alt_img)}"\n'
            f'                  src="{alt_img}&width=533"\n'
            f'                  sizes="{sizes}"\n'
            '                  alt=""\n                  class="motion-reduce"\n'
            '                  loading="lazy"\n                  width="1500"\n'
            '                  height="1875"\n                ></div>\n          </div>'
            '<div class="card__content">\n          <div class="card__information">\n'
            f'            <h3 class="card__heading">\n              <a href="/products/{handle}" '
            f'id="StandardCardNoMediaLink-template--collection-{pid}" class="full-unstyled-link" '
            f'aria-labelledby="StandardCardNoMediaLink-template--collection-{pid} '
            f'NoMediaStandardBadge-template--collection-{pid}">\n                {name}\n'
            "              </a>\n            </h3>\n          </div>\n"
            f'          <div class="card__badge bottom left"></div>\n        </div>\n      </div>\n'
            '      <div class="card__content">\n        <div class="card__information">\n'
            f'          <h3 class="card__heading h5" id="title-template--collection-{pid}">\n'
            f'            <a href="/products/{handle}" id="CardLink-template--collection-{pid}" '
            f'class="full-unstyled-link" aria-labelledby="CardLink-template--collection-{pid} '
            f'Badge-template--collection-{pid}">\n              {name}\n            </a>\n          </h3>\n'
            '          <div class="card-information"><span class="caption-large light"></span>\n'
            '<div class="\n    price ">\n  <div class="price__container"><div class="price__regular">'
            '<span class="visually-hidden visually-hidden--inline">Regular price</span>\n'
            f'        <span class="price-item price-item--regular">\n          ${price} USD\n'
            "        </span></div></div>\n</div>\n</div>\n        </div>\n"
            '          <div class="quick-add no-js-hidden"><product-form data-section-id="template--collection">'
            f'<form method="post" action="/cart/add" id="quick-add-template--collection{pid}" '
            'accept-charset="UTF-8" class="form" enctype="multipart/form-data" novalidate="novalidate" '
            'data-type="add-to-cart-form"><input type="hidden" name="form_type" value="product" />'
            '<input type="hidden" name="utf8" value="&#x2713;" />'
            f'<input type="hidden" name="id" value="{_digits(rng, 14)}" class="product-variant-id" disabled>\n'
            f'                  <button id="quick-add-template--collection{pid}-submit" type="submit" '
            'name="add" class="quick-add__submit button button--full-width button--secondary" '
            'aria-haspopup="dialog" aria-live="polite" data-sold-out-message="true">\n'
            "                    <span>Add to cart\n</span>\n"
            '                    <span class="sold-out-message hidden">\n                      Sold out\n'
            "                    </span>\n"
            f'                    <div class="loading__spinner hidden">\n                      {_SPINNER}\n'
            "                    </div>\n                  </button></form></product-form></div>\n"
            "      </div>\n    </div>\n  </div>\n</li>\n"
        )

    tail = (
        "</ul></div>\n    </main>\n"
        '<footer class="footer color-scheme-1 gradient section-sections--footer-padding">\n'
        '<div class="footer__content-bottom"><div class="footer__payment"><ul class="list list-payment" role="list">'
        + "".join(
            _payment_icon(rng, n)
            for n in (
                "american_express",
                "apple_pay",
                "google_pay",
                "master",
                "paypal",
                "shopify_pay",
                "venmo",
                "visa",
            )
        )
        + "</ul></div>\n"
        '<small class="copyright__content">&copy; 2025, <a href="/" title="">Northwind Supply Co.</a></small>'
        '<small class="copyright__content"><a target="_blank" rel="nofollow" '
        'href="https://www.shopify.com?utm_campaign=poweredby&amp;utm_medium=shopify&amp;utm_source=onlinestore">'
        "Powered by Shopify</a></small></div>\n</footer>\n"
        '    <script src="https://cdn.judge.me/loader.js" async></script>\n'
        f'    <script src="{theme}/cart-notification.js?v={_digits(rng, 20)}" defer="defer"></script>\n'
        "  </body>\n</html>\n"
    )
    return _fill([head, header], size, card, tail)


# -- product: a headless store's product page, Contentful images ------------------------


def product(rng: random.Random, size: int = 120_000) -> str:
    space = _alnum(rng, 12)
    cdn = "https://cdn.shop.example"
    build = "".join(
        f'<link rel="modulepreload" href="{cdn}/build/_shared/chunk-{_hex(rng, 8).upper()}.js"/>'
        for _ in range(14)
    )

    def ctf(name: str) -> str:
        return f"https://images.ctfassets.net/{space}/{_alnum(rng, 22)}/{_hex(rng, 32)}/{name}.jpg"

    def picture(url: str, alt: str, eager: bool) -> str:
        sources = "".join(
            f'<source type="image/{fm}" media="{media}" srcset="'
            + ", ".join(f"{url}?w={w * d}&amp;fm={fm}&amp;q={q} {d}x" for d in (1, 2))
            + '"/>'
            for fm, q in (("avif", 50), ("webp", 70))
            for media, w in (
                ("(min-width: 1280px)", 1100),
                ("(min-width: 768px)", 720),
                ("(max-width: 767px)", 480),
            )
        )
        loading = 'fetchpriority="high"' if eager else 'loading="lazy"'
        return (
            f'<picture class="product-gallery__picture">{sources}<img src="{url}?w=1100&amp;fm=jpg&amp;'
            f'fl=progressive&amp;q=75" alt="{alt}" width="1100" height="1375" decoding="async" '
            f'{loading} class="product-gallery__image"/></picture>'
        )

    name = _title(rng, 3, 4)
    gallery = "".join(
        f'<li class="product-gallery__slide" data-index="{k}">'
        f"{picture(ctf(_slug(name) + f'-{k}'), f'{name}, view {k + 1}', k == 0)}</li>"
        for k in range(7)
    )
    swatches = "".join(
        f'<label class="swatch"><input type="radio" name="color" value="{c}"{" checked" if k == 0 else ""}/>'
        f'<img src="{ctf("swatch-" + c)}?w=64&amp;h=64&amp;fit=thumb" alt="{c}" width="32" height="32"/></label>'
        for k, c in enumerate(_COLOURS[:5])
    )
    ld = json.dumps(
        {
            "@context": "https://schema.org/",
            "@type": "Product",
            "name": name,
            "image": [ctf(_slug(name) + f"-{k}") for k in range(4)],
            "description": _para(rng, 3),
            "sku": _digits(rng, 8),
            "brand": {"@type": "Brand", "name": "Fieldhouse"},
            "aggregateRating": {
                "@type": "AggregateRating",
                "ratingValue": "4.6",
                "reviewCount": rng.randint(20, 900),
            },
            "offers": {
                "@type": "Offer",
                "url": f"{cdn}/p/{_slug(name)}",
                "priceCurrency": "USD",
                "price": f"{rng.randint(40, 400)}.00",
                "availability": "https://schema.org/InStock",
            },
        }
    )
    head = (
        '<!DOCTYPE html><html lang="en-US"><head><meta charSet="utf-8"/>'
        '<meta name="viewport" content="width=device-width,initial-scale=1"/>'
        f"<title>{name} | Fieldhouse</title>"
        f'<meta name="description" content="{_para(rng, 2)}"/>'
        f'<link rel="preconnect" href="https://images.ctfassets.net"/>'
        f'<link rel="stylesheet" href="{cdn}/build/_assets/root-{_hex(rng, 8).upper()}.css"/>'
        f'<link rel="stylesheet" href="{cdn}/build/_assets/product-{_hex(rng, 8).upper()}.css"/>'
        f'<link rel="modulepreload" href="{cdn}/build/entry.client-{_hex(rng, 8).upper()}.js"/>'
        + build
        + f'<script type="application/ld+json">{ld}</script>\n'
        + v.GTAG.format(id=_alnum(rng, 10).upper())
        + v.KLAVIYO.format(id=_alnum(rng, 6))
        + '<script src="https://cdn1.affirm.com/js/v2/affirm.js" async></script>\n'
        + v.BING_UET.format(id=_digits(rng, 8))
        + v.CRITEO.format(
            id=_digits(rng, 5), a=_digits(rng, 6), b=_digits(rng, 6), c=_digits(rng, 6)
        )
        + f'<script src="https://cdn.attn.tv/fieldhouse/dtag.js?v={_digits(rng, 6)}" async></script>\n'
        + "</head>"
    )
    body = (
        '<body><div id="root"><header class="site-header"><a href="/" class="logo">'
        f'<img src="{cdn}/brand/logo.svg" alt="Fieldhouse" width="120" height="32"/></a>'
        + "".join(
            f'<a class="nav-link" href="/c/{_slug(t)}">{t}</a>'
            for t in (_title(rng, 1, 2) for _ in range(8))
        )
        + '</header><main class="product">'
        f'<div class="product__gallery"><ul class="product-gallery">{gallery}</ul></div>'
        f'<div class="product__info"><h1 class="product__title">{name}</h1>'
        f'<p class="price"><span class="price__current">${rng.randint(40, 400)}.00</span></p>'
        f'<fieldset class="swatches"><legend>Colour</legend>{swatches}</fieldset>'
        '<affirm-product-message data-amount="12800" data-page-type="product"></affirm-product-message>'
        f'<div class="product__description">{"".join(f"<p>{_para(rng, 3)}</p>" for _ in range(4))}</div>'
        "</div>"
    )

    def unit(i: int) -> str:
        if i % 3 == 2:
            return (
                f'<article class="review"><header><strong>{_title(rng, 1, 2)}</strong>'
                f'<span class="stars" aria-label="{rng.randint(3, 5)} stars"></span></header>'
                f"<p>{_para(rng, rng.randint(1, 4))}</p></article>"
            )
        rec = _title(rng)
        url = ctf(_slug(rec) + f"-{i}")
        return (
            f'<div class="rec-card"><a href="/p/{_slug(rec)}-{i}">'
            f'{picture(url, rec, False)}<h3 class="rec-card__title">{rec}</h3></a>'
            f'<p class="price">${rng.randint(20, 300)}.00</p></div>'
        )

    tail = (
        '</main><footer class="site-footer"><p>&copy; 2025 Fieldhouse</p>'
        '<a href="/privacy">Do Not Sell or Share My Personal Information</a></footer></div>'
        '<script>window.__remixContext = {"url":"/p/x","state":{"loaderData":{"root":{"locale":"en-US"}}}};</script>'
        f'<script type="module" async="">import "{cdn}/build/manifest-{_hex(rng, 8)}.js";</script>'
        "</body></html>\n"
    )
    return _fill([head, body], size, unit, tail)


# -- catalogue: thousands of distinct product tiles on a CloudFront host ---------------


def catalogue(rng: random.Random, size: int = 4_000_000) -> str:
    cf = f"https://{_alnum(rng, 14)}.cloudfront.net"
    head = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="UTF-8">\n'
        "<title>All Products - Page 1 of 40 | Harbor &amp; Pine</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<link rel="stylesheet" href="{cf}/static/css/plp.{_hex(rng, 10)}.css">\n'
        f'<link rel="preconnect" href="{cf}">\n'
        f'<script src="{cf}/static/js/vendor.{_hex(rng, 10)}.js" defer></script>\n'
        f'<script src="{cf}/static/js/plp.{_hex(rng, 10)}.js" defer></script>\n'
        + v.GTM_HEAD.format(id=_alnum(rng, 7).upper())
        + v.META_PIXEL.format(id=_digits(rng, 15))
        + '<script src="https://cdn.cquotient.com/js/v2/gretel.min.js" async></script>\n'
        + "</head>\n<body>\n"
        + v.GTM_BODY.format(id=_alnum(rng, 7).upper())
        + '<div class="search-results"><ul class="product-grid" itemscope itemtype="http://schema.org/ItemList">\n'
    )

    def tile(i: int) -> str:
        pid = _digits(rng, 7)
        name = _title(rng)
        colours = rng.sample(_COLOURS, 3)
        base = f"{cf}/images/catalog/{pid}"
        swatches = "".join(
            f'<li><button class="swatch" data-color="{c}" title="{c.title()}"><img src="{base}/sw_{c}.png" '
            f'alt="{c}" width="16" height="16"></button></li>'
            for c in colours
        )
        return (
            f'<li class="grid-tile" data-pid="{pid}" itemprop="itemListElement" itemscope '
            'itemtype="http://schema.org/Product">\n'
            f'<div class="product-tile"><div class="image-container"><a href="/p/{_slug(name)}/{pid}.html">'
            f'<img class="tile-image" src="{base}/{colours[0]}_main.jpg?sw=300&amp;sh=400&amp;sm=fit" '
            f'srcset="{base}/{colours[0]}_main.jpg?sw=300&amp;sh=400&amp;sm=fit 1x, '
            f'{base}/{colours[0]}_main.jpg?sw=600&amp;sh=800&amp;sm=fit 2x" alt="{name}" title="{name}" '
            f'itemprop="image" width="300" height="400" loading="lazy"></a>'
            f'<button class="wishlist-tile" aria-label="Add {name} to wishlist">{_icon(rng, "icon-heart")}'
            f"</button></div>\n"
            f'<div class="tile-body"><ul class="swatches">{swatches}</ul>'
            f'<div class="pdp-link"><a class="link" href="/p/{_slug(name)}/{pid}.html" itemprop="name">'
            f"{name}</a></div>"
            f'<div class="price"><span class="sales"><span class="value" content="{rng.randint(9, 300)}.00">'
            f"${rng.randint(9, 300)}.00</span></span></div></div></div>\n</li>\n"
        )

    tail = (
        "</ul></div>\n"
        '<nav class="pagination"><a href="?start=48&amp;sz=48">Next</a></nav>\n'
        + v.CRITEO.format(
            id=_digits(rng, 5), a=_digits(rng, 7), b=_digits(rng, 7), c=_digits(rng, 7)
        )
        + "</body>\n</html>\n"
    )
    return _fill([head], size, tile, tail)


# -- spa: a Next.js (pages router) shell with a large __NEXT_DATA__ ---------------------


def spa(rng: random.Random, size: int = 400_000) -> str:
    prefix = "https://static-shop.akamaized.net"
    build_id = _alnum(rng, 21)
    chunks = [
        f"{prefix}/_next/static/chunks/{n}-{_hex(rng, 16)}.js"
        for n in ("webpack", "framework", "main", "pages/_app", "1455", "9322", "pages/[category]")
    ]
    space = _alnum(rng, 12)

    def ctf(n: int) -> str:
        return (
            f"https://images.ctfassets.net/{space}/{_alnum(rng, 22)}/{_hex(rng, 32)}/"
            f"product-{n}.jpg"
        )

    def next_image(url: str, alt: str) -> str:
        q = quote(url, safe="")
        widths = (640, 750, 828, 1080, 1200, 1920, 2048, 3840)
        srcset = ", ".join(f"/_next/image?url={q}&amp;w={w}&amp;q=75 {w}w" for w in widths)
        return (
            f'<img alt="{alt}" loading="lazy" decoding="async" data-nimg="fill" class="tile__img" '
            'style="position:absolute;height:100%;width:100%;left:0;top:0;right:0;bottom:0;'
            'object-fit:cover;color:transparent" sizes="(max-width: 768px) 50vw, 25vw" '
            f'srcSet="{srcset}" src="/_next/image?url={q}&amp;w=3840&amp;q=75"/>'
        )

    products: list[dict[str, object]] = []
    tiles: list[str] = []
    n_tiles = max(8, size // 10_000)
    for i in range(n_tiles):
        name = _title(rng)
        url = ctf(i)
        tiles.append(
            f'<div class="tile"><a href="/p/{_slug(name)}-{i}"><div class="tile__media">'
            f'{next_image(url, name)}</div><h3 class="tile__name">{name}</h3>'
            f'<span class="tile__price">${rng.randint(10, 200)}.00</span></a></div>'
        )
    head = (
        '<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/>'
        '<meta name="viewport" content="width=device-width"/><title>Shop all | Cedar &amp; Co</title>'
        f'<meta name="description" content="{_para(rng, 1)}"/><meta name="next-head-count" content="4"/>'
        f'<link rel="preload" href="{prefix}/_next/static/css/{_hex(rng, 16)}.css" as="style"/>'
        f'<link rel="stylesheet" href="{prefix}/_next/static/css/{_hex(rng, 16)}.css" data-n-g=""/>'
        '<noscript data-n-css=""></noscript>'
        f'<script defer="" nomodule="" src="{prefix}/_next/static/chunks/polyfills-{_hex(rng, 16)}.js"></script>'
        + "".join(f'<script src="{c}" defer=""></script>' for c in chunks)
        + f'<script src="{prefix}/_next/static/{build_id}/_buildManifest.js" defer=""></script>'
        f'<script src="{prefix}/_next/static/{build_id}/_ssgManifest.js" defer=""></script>'
        + '<script id="gtm-init">'
        + v.GTM_HEAD.split("<script>", 1)[1]
        .split("</script>", 1)[0]
        .format(id=_alnum(rng, 7).upper())
        + "</script>"
        + v.SEGMENT.format(id=_alnum(rng, 32))
        + v.HOTJAR.format(id=_digits(rng, 7))
        + "</head>"
    )
    body_start = (
        '<body><div id="__next"><div class="layout"><header class="header">'
        + "".join(
            f'<a class="header__link" href="/c/{_slug(t)}">{t}</a>'
            for t in (_title(rng, 1, 2) for _ in range(10))
        )
        + '</header><main class="plp"><h1>Shop all</h1><div class="grid">'
        + "".join(tiles)
        + "</div></main></div></div>"
    )
    # __NEXT_DATA__: page props carry the catalogue the tiles were rendered from, with
    # rich-text descriptions (as a headless CMS returns them) - most of an SPA's bytes.
    budget = size - len(head) - len(body_start) - 2_000
    while True:
        i = len(products)
        name = _title(rng)
        products.append(
            {
                "id": _alnum(rng, 22),
                "slug": f"{_slug(name)}-{i}",
                "name": name,
                "price": {"amount": rng.randint(1000, 20000), "currencyCode": "USD"},
                "image": {"url": ctf(i), "width": 1600, "height": 2000, "alt": name},
                "variants": [
                    {"sku": _digits(rng, 9), "color": c, "size": s, "available": rng.random() > 0.2}
                    for c in rng.sample(_COLOURS, 2)
                    for s in ("S", "M", "L")
                ],
                "description": {
                    "nodeType": "document",
                    "content": [
                        {
                            "nodeType": "paragraph",
                            "content": [{"nodeType": "text", "value": _para(rng, 3)}],
                        }
                    ],
                },
            }
        )
        if len(json.dumps(products)) > budget:
            break
    data = json.dumps(
        {
            "props": {
                "pageProps": {
                    "category": "all",
                    "products": products,
                    "_sentryTraceData": _hex(rng, 32) + "-" + _hex(rng, 16) + "-1",
                },
                "__N_SSG": True,
            },
            "page": "/[category]",
            "query": {"category": "all"},
            "buildId": build_id,
            "assetPrefix": prefix,
            "isFallback": False,
            "gsp": True,
            "scriptLoader": [],
        },
        separators=(",", ":"),
    ).replace("<", "\\u003c")
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "ItemList",
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": k + 1,
                    "url": f"https://cedar.example/p/{p['slug']}",
                }
                for k, p in enumerate(products[:48])
            ],
        }
    )
    return (
        head
        + body_start
        + f'<script id="__NEXT_DATA__" type="application/json">{data}</script>'
        + f'<script type="application/ld+json">{ld}</script></body></html>'
    )


# -- news: an article with ads, social embeds, analytics and recirculation ---------------


def news(rng: random.Random, size: int = 220_000) -> str:
    site = "dailyherald.example"
    cdn = f"https://cdn.{site}"
    img = "https://dh-images.akamaized.net"

    def pic(path: str, alt: str, lazy: bool = True) -> str:
        widths = (320, 480, 640, 800, 1024, 1280, 1600, 2048)
        return (
            '<picture><source type="image/webp" srcset="'
            + ", ".join(f"{img}/{path}?width={w}&format=webp {w}w" for w in widths)
            + '" sizes="(min-width: 1024px) 720px, 100vw"><img src="'
            f'{img}/{path}?width=800" srcset="'
            + ", ".join(f"{img}/{path}?width={w} {w}w" for w in widths)
            + f'" sizes="(min-width: 1024px) 720px, 100vw" alt="{alt}" width="800" height="450"'
            + (' loading="lazy"' if lazy else "")
            + "></picture>"
        )

    slots = "".join(
        v.GPT_SLOT.format(
            net=_digits(rng, 8),
            site="dailyherald",
            section="news",
            sizes="[[300, 250], [300, 600]]",
            n=_digits(rng, 13) + f"-{k}",
        )
        for k in range(8)
    )
    metas = "".join(
        f'<meta property="{k}" content="{_words(rng, 3, 12)}" />\n'
        for k in (
            "og:title",
            "og:description",
            "og:type",
            "og:url",
            "og:image",
            "og:site_name",
            "article:section",
            "article:published_time",
            "article:modified_time",
            "article:author",
            "twitter:card",
            "twitter:site",
            "twitter:title",
            "twitter:description",
            "twitter:image",
            "fb:app_id",
            "fb:pages",
        )
    )
    head = (
        '<!DOCTYPE html>\n<html lang="en-US" class="no-js">\n<head>\n<meta charset="utf-8" />\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />\n'
        f"<title>{_title(rng, 6, 10)} - The Daily Herald</title>\n"
        + metas
        + "".join(
            f'<link rel="preconnect" href="https://{h}" crossorigin />\n'
            for h in (
                "securepubads.g.doubleclick.net",
                "c.amazon-adsystem.com",
                "cdn.taboola.com",
                "static.chartbeat.com",
                "sb.scorecardresearch.com",
                "dh-images.akamaized.net",
            )
        )
        + "".join(
            f'<link rel="dns-prefetch" href="//{h}" />\n'
            for h in (
                "www.googletagmanager.com",
                "connect.facebook.net",
                "platform.twitter.com",
                "widgets.outbrain.com",
                "cdn.parsely.com",
            )
        )
        + f'<link rel="preload" as="image" imagesrcset="{img}/2025/03/lead.jpg?width=640 640w, '
        f'{img}/2025/03/lead.jpg?width=1280 1280w" imagesizes="100vw" />\n'
        f'<link rel="stylesheet" href="{cdn}/assets/css/article.{_hex(rng, 8)}.css" />\n'
        f'<link rel="stylesheet" href="{cdn}/assets/css/print.{_hex(rng, 8)}.css" media="print" />\n'
        + v.ONETRUST.format(
            uuid=f"{_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}"
        )
        + v.GPT_HEAD.format(slots=slots)
        + f'<script async src="{cdn}/assets/js/prebid8.{_hex(rng, 8)}.js"></script>\n'
        "<script>var pbjs = pbjs || {}; pbjs.que = pbjs.que || [];</script>\n"
        + v.APSTAG.format(id=_digits(rng, 4))
        + v.GTAG.format(id=_alnum(rng, 10).upper())
        + v.COMSCORE.format(id=_digits(rng, 7))
        + v.CHARTBEAT.format(id=_digits(rng, 5), domain=site, section="News,Local", author="Staff")
        + v.PARSELY.format(domain=site)
        + v.PERMUTIVE.format(
            id=_alnum(rng, 8), uuid=f"{_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 4)}"
        )
        + v.QUANTCAST.format(id=_alnum(rng, 13))
        + v.META_PIXEL.format(id=_digits(rng, 15))
        + v.TABOOLA_HEAD.format(site="dailyherald-network")
        + f'<script src="{cdn}/assets/js/article.{_hex(rng, 8)}.js" defer></script>\n'
        + "</head>\n"
    )
    nav = "".join(
        f'<li class="nav__item"><a href="/{_slug(t)}/">{t}</a></li>'
        for t in (_title(rng, 1, 2) for _ in range(24))
    )
    body = (
        '<body class="article-template">\n'
        + v.FB_SDK.format(nonce=_alnum(rng, 8))
        + f'<header class="masthead"><a href="/" class="masthead__logo"><img src="{cdn}/assets/img/logo.svg" '
        'alt="The Daily Herald" width="240" height="40"></a>\n'
        f'<nav class="nav" aria-label="Sections"><ul>{nav}</ul></nav></header>\n'
        + v.AD_SLOT.format(kind="leaderboard", n=_digits(rng, 13) + "-0")
        + '<main id="main"><article class="article">\n'
        f'<h1 class="article__headline">{_title(rng, 7, 12)}</h1>\n'
        f'<p class="article__dek">{_para(rng, 1)}</p>\n'
        '<div class="byline">By <a href="/staff/a-reporter/">A. Reporter</a> and '
        '<a href="/staff/b-writer/">B. Writer</a> <time datetime="2025-03-14T09:30:00-05:00">'
        "March 14, 2025</time></div>\n"
        f'<figure class="lead">{pic("2025/03/lead.jpg", "Lead photo", lazy=False)}'
        f'<figcaption>{_para(rng, 1)} <span class="credit">Photo: Staff</span></figcaption></figure>\n'
    )
    extras = [
        lambda: v.AD_SLOT.format(kind="inline", n=_digits(rng, 13) + f"-{rng.randint(1, 7)}"),
        lambda: v.TWITTER_EMBED.format(
            text=_para(rng, 1),
            name="City Hall",
            handle="cityhall",
            id=_digits(rng, 19),
            date="March 13, 2025",
        ),
        lambda: v.YOUTUBE.format(id=_alnum(rng, 11), si=_alnum(rng, 16)),
        lambda: v.INSTAGRAM.format(id=_alnum(rng, 11)),
        lambda: (
            f'<figure class="inline">{pic(f"2025/03/{_alnum(rng, 10)}.jpg", _words(rng, 3, 6))}'
            f"<figcaption>{_para(rng, 1)}</figcaption></figure>\n"
        ),
    ]

    def unit(i: int) -> str:
        out = f"<p>{_para(rng, rng.randint(2, 5))}</p>\n"
        if i % 3 == 2:
            out += extras[(i // 3) % len(extras)]()
        if i % 9 == 8:
            cards = "".join(
                f'<li class="card"><a href="/news/{_alnum(rng, 8)}/"><img src="{img}/2025/03/'
                f'{_alnum(rng, 10)}.jpg?width=160&height=90&fit=crop" alt="" width="160" height="90" '
                f'loading="lazy"><span>{_title(rng, 5, 9)}</span></a></li>'
                for _ in range(6)
            )
            out += f'<aside class="related"><h2>Related</h2><ul>{cards}</ul></aside>\n'
        return out

    most_read = "".join(
        f'<li><a href="/news/{_alnum(rng, 8)}/"><img src="{img}/2025/03/{_alnum(rng, 10)}.jpg?width=96'
        f'&height=64&fit=crop" alt="" width="96" height="64" loading="lazy">{_title(rng, 5, 9)}</a></li>'
        for _ in range(10)
    )
    tail = (
        "</article>\n"
        + v.TABOOLA_WIDGET
        + v.OUTBRAIN.format(url=f"https://www.{site}/news/story")
        + f'<aside class="most-read"><h2>Most read</h2><ol>{most_read}</ol></aside>\n'
        + v.AD_SLOT.format(kind="footer", n=_digits(rng, 13) + "-7")
        + '</main>\n<footer class="site-footer"><ul>'
        + "".join(
            f'<li><a href="/{_slug(t)}/">{t}</a></li>'
            for t in (_title(rng, 1, 3) for _ in range(30))
        )
        + '</ul><p><a href="/privacy/">Privacy Policy</a> | <a href="/do-not-sell/">'
        "Do Not Sell or Share My Personal Information</a></p></footer>\n"
        + "<script>window._taboola = window._taboola || []; _taboola.push({flush: true});</script>\n"
        + "</body>\n</html>\n"
    )
    return _fill([head, body], size, unit, tail)


# -- blog: a WordPress post with comments, media offloaded to the CDN -------------------


def blog(rng: random.Random, size: int = 110_000) -> str:
    site = "https://www.shop.example/blog"
    up = "https://cdn.shop.example/blog/wp-content/uploads"
    inc = "https://cdn.shop.example/blog/wp-includes"
    global_css = "".join(
        f"--wp--preset--color--{c}: #{_hex(rng, 6)};"
        for c in (
            "black",
            "cyan-bluish-gray",
            "white",
            "pale-pink",
            "vivid-red",
            "luminous-vivid-orange",
            "luminous-vivid-amber",
            "light-green-cyan",
            "vivid-green-cyan",
            "pale-cyan-blue",
            "vivid-cyan-blue",
            "vivid-purple",
        )
    ) + "".join(
        f"--wp--preset--font-size--{s}: {rng.randint(12, 42)}px;"
        for s in ("small", "medium", "large", "x-large")
    )
    styles = "".join(
        f"<link rel='stylesheet' id='{n}-css' href='{inc if n.startswith('wp') else site + '/wp-content'}"
        f"/css/{n}.min.css?ver={rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}' media='all' />\n"
        for n in (
            "wp-block-library",
            "classic-theme-styles",
            "wp-emoji-styles",
            "jetpack-sharing-buttons",
            "astra-theme",
            "wpforms-full",
            "yoast-seo-adminbar",
        )
    )
    yoast = json.dumps(
        {
            "@context": "https://schema.org",
            "@graph": [
                {
                    "@type": "Article",
                    "@id": f"{site}/2025/03/trail-guide/#article",
                    "headline": _title(rng, 5, 8),
                    "datePublished": "2025-03-02T10:00:00+00:00",
                    "wordCount": rng.randint(800, 3000),
                    "image": {"@id": f"{site}/2025/03/trail-guide/#primaryimage"},
                    "inLanguage": "en-US",
                },
                {
                    "@type": "ImageObject",
                    "@id": f"{site}/2025/03/trail-guide/#primaryimage",
                    "url": f"{up}/2025/03/trail-hero.jpg",
                    "contentUrl": f"{up}/2025/03/trail-hero.jpg",
                    "width": 2048,
                    "height": 1365,
                },
                {
                    "@type": "BreadcrumbList",
                    "itemListElement": [
                        {"@type": "ListItem", "position": 1, "name": "Home", "item": site}
                    ],
                },
            ],
        }
    ).replace("/", "\\/")
    emoji = json.dumps(
        {
            "baseUrl": "https://s.w.org/images/core/emoji/15.0.3/72x72/",
            "ext": ".png",
            "svgUrl": "https://s.w.org/images/core/emoji/15.0.3/svg/",
            "svgExt": ".svg",
            "source": {"concatemoji": f"{inc}/js/wp-emoji-release.min.js?ver=6.5.2"},
        }
    ).replace("/", "\\/")
    head = (
        '<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<meta charset="UTF-8">\n'
        "<meta name='robots' content='index, follow, max-image-preview:large' />\n"
        f"<title>{_title(rng, 5, 8)} - Shop Journal</title>\n"
        f'<script type="application/ld+json" class="yoast-schema-graph">{yoast}</script>\n'
        f"<script>\nwindow._wpemojiSettings = {emoji};\n"
        "/*! This file is auto-generated */\n"
        "!function(i,n){var o,s,e;function c(e){try{var t={supportTests:e,timestamp:(new Date).valueOf()};"
        "sessionStorage.setItem(o,JSON.stringify(t))}catch(e){}}function p(e,t,n){e.clearRect(0,0,e.canvas.width,"
        "e.canvas.height),e.fillText(t,0,0);var t=new Uint32Array(e.getImageData(0,0,e.canvas.width,"
        "e.canvas.height).data),r=(e.clearRect(0,0,e.canvas.width,e.canvas.height),e.fillText(n,0,0),"
        "new Uint32Array(e.getImageData(0,0,e.canvas.width,e.canvas.height).data));return t.every(function(e,t)"
        "{return e===r[t]})}}(window,document);\n</script>\n"
        + styles
        + f"<style id='global-styles-inline-css'>\nbody{{{global_css}}}\n"
        + "".join(
            f".has-{c}-color{{color: var(--wp--preset--color--{c}) !important;}}" for c in _COLOURS
        )
        + "\n</style>\n"
        f"<script src='{inc}/js/jquery/jquery.min.js?ver=3.7.1' id='jquery-core-js'></script>\n"
        f"<script src='{inc}/js/jquery/jquery-migrate.min.js?ver=3.4.1' id='jquery-migrate-js'></script>\n"
        f'<link rel="https://api.w.org/" href="{site}/wp-json/" />'
        f'<link rel="EditURI" type="application/rsd+xml" title="RSD" href="{site}/xmlrpc.php?rsd" />\n'
        f"<link rel='shortlink' href='{site}/?p={_digits(rng, 4)}' />\n"
        + v.GTAG.format(id=_alnum(rng, 10).upper()).replace(
            "<script async", "<script id='google_gtagjs-js' async"
        )
        + "</head>\n"
    )

    def share() -> str:
        return (
            '<ul class="wp-block-social-links is-style-logos-only">'
            + "".join(
                f'<li class="wp-social-link wp-social-link-{n} wp-block-social-link"><a '
                f'href="https://{n}.com/share?u={site}/2025/03/trail-guide/" class="wp-block-social-link-anchor">'
                f'{_icon(rng, "wp-social-icon")}<span class="screen-reader-text">{n.title()}</span></a></li>'
                for n in ("facebook", "x", "pinterest", "linkedin", "email")
            )
            + "</ul>"
        )

    def figure(name: str) -> str:
        sizes = ((1024, 683), (300, 200), (768, 512), (1536, 1024), (2048, 1365))
        srcset = ", ".join(f"{up}/2025/03/{name}-{w}x{h}.jpg {w}w" for w, h in sizes)
        return (
            '<figure class="wp-block-image size-large"><img decoding="async" width="1024" height="683" '
            f'src="{up}/2025/03/{name}-1024x683.jpg" alt="" class="wp-image-{_digits(rng, 4)}" '
            f'srcset="{srcset}" sizes="(max-width: 1024px) 100vw, 1024px" /></figure>\n'
        )

    body = (
        '<body class="post-template-default single single-post">\n'
        '<div id="page" class="hfeed site"><header class="site-header"><div class="site-branding">'
        f'<a href="{site}/" rel="home"><img width="180" height="48" src="{up}/2024/01/logo.png" '
        'class="custom-logo" alt="Shop Journal" decoding="async" /></a></div>'
        '<nav class="main-navigation"><ul id="primary-menu" class="menu">'
        + "".join(
            f'<li class="menu-item"><a href="{site}/category/{_slug(t)}/">{t}</a></li>'
            for t in (_title(rng, 1, 2) for _ in range(7))
        )
        + '</ul></nav></header>\n<main id="main" class="site-main"><article class="post type-post">\n'
        f'<h1 class="entry-title">{_title(rng, 5, 8)}</h1>\n'
        + share()
        + '<div class="entry-content">\n'
        + figure("trail-hero")
    )

    def unit(i: int) -> str:
        if i < 14:
            out = f"<p>{_para(rng, rng.randint(2, 6))}</p>\n"
            if i % 4 == 3:
                out += figure(_slug(_words(rng, 2, 3)))
            if i == 13:
                out += "</div>" + share() + '</article>\n<div id="comments" class="comments-area">'
                out += '<h2 class="comments-title">Comments</h2><ol class="comment-list">\n'
            return out
        md5 = _hex(rng, 32)
        return (
            f'<li id="comment-{_digits(rng, 4)}" class="comment even thread-even depth-1">\n'
            '<article class="comment-body"><footer class="comment-meta"><div class="comment-author vcard">'
            f"<img alt='' src='https://secure.gravatar.com/avatar/{md5}?s=56&#038;d=mm&#038;r=g' "
            f"srcset='https://secure.gravatar.com/avatar/{md5}?s=112&#038;d=mm&#038;r=g 2x' "
            "class='avatar avatar-56 photo' height='56' width='56' loading='lazy' decoding='async'/>"
            f'<b class="fn">{_title(rng, 1, 2)}</b> <span class="says">says:</span></div>'
            f'<div class="comment-metadata"><a href="{site}/2025/03/trail-guide/#comment-{i}">'
            f'<time datetime="2025-03-0{rng.randint(1, 9)}T12:00:00+00:00">March {rng.randint(1, 9)}, 2025</time>'
            f'</a></div></footer>\n<div class="comment-content"><p>{_para(rng, rng.randint(1, 3))}</p></div>'
            f'<div class="reply"><a rel="nofollow" class="comment-reply-link" href="#comment-{i}">Reply</a>'
            "</div></article></li>\n"
        )

    tail = (
        "</ol></div>\n</main></div>\n"
        + v.JETPACK.format(id=_digits(rng, 9), post=_digits(rng, 4), domain="www.shop.example")
        + f"<script src='{inc}/js/comment-reply.min.js?ver=6.5.2' id='comment-reply-js' async='async' "
        "data-wp-strategy='async'></script>\n</body>\n</html>\n"
    )
    return _fill([head, body], size, unit, tail)


# -- icons: a SaaS landing page made of inline SVG icons and logos ---------------------


def icons(rng: random.Random, size: int = 110_000) -> str:
    cf = f"https://{_alnum(rng, 14)}.cloudfront.net"
    sprite = (
        '<svg xmlns="http://www.w3.org/2000/svg" style="display:none">'
        + "".join(
            f'<symbol id="i-{n}" viewBox="0 0 24 24">{_icon(rng).split(">", 1)[1].rsplit("<", 1)[0]}</symbol>'
            for n in ("check", "x", "arrow", "star", "shield", "bolt", "cloud", "lock")
        )
        + "</svg>\n"
    )
    head = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Relay - Ship faster with fewer incidents</title>"
        f'<link rel="stylesheet" href="{cf}/_astro/index.{_alnum(rng, 8)}.css">'
        f'<link rel="preload" href="{cf}/fonts/inter-var.woff2" as="font" type="font/woff2" crossorigin>'
        f'<link rel="icon" href="{cf}/favicon.svg" type="image/svg+xml">'
        f'<script type="module" src="{cf}/_astro/hoisted.{_alnum(rng, 8)}.js"></script>\n'
        + v.HUBSPOT.format(id=_digits(rng, 8))
        + v.LINKEDIN.format(id=_digits(rng, 7))
        + v.SEGMENT.format(id=_alnum(rng, 32))
        + v.REDDIT.format(id=f"t2_{_alnum(rng, 8)}")
        + '<script src="https://widget.intercom.io/widget/'
        + _alnum(rng, 8)
        + '" async></script>\n'
        + "</head><body>"
        + sprite
        + '<header class="nav"><a href="/" class="nav__logo" aria-label="Relay">'
        + _icon(rng, "logo")
        + "</a>"
        + "".join(
            f'<a href="/{_slug(t)}" class="nav__link">{t}</a>'
            for t in ("Product", "Pricing", "Customers", "Docs", "Blog")
        )
        + '</header><main><section class="hero"><h1>Ship faster with fewer incidents</h1>'
        f'<p>{_para(rng, 2)}</p><a class="btn" href="/signup">Start free {_icon(rng, "btn__icon")}</a>'
        f'<img src="{cf}/img/hero-dashboard.webp" srcset="{cf}/img/hero-dashboard.webp 1x, '
        f'{cf}/img/hero-dashboard@2x.webp 2x" alt="Dashboard" width="1200" height="720"></section>'
        '<section class="logos" aria-label="Customers">'
        + "".join(
            _payment_icon(rng, f"customer-{k}").replace("list-payment__item", "logo")
            for k in range(16)
        )
        + '</section><section class="features">'
    )

    def unit(i: int) -> str:
        if i % 5 == 4:
            rows = "".join(
                f'<li><svg class="bullet" width="16" height="16" aria-hidden="true"><use href="#i-'
                f'{rng.choice(("check", "x", "star", "bolt"))}"></use></svg>{_words(rng, 3, 8)}</li>'
                for _ in range(8)
            )
            return (
                f'<div class="plan"><h3>{_title(rng, 1, 2)}</h3><p class="plan__price">${rng.randint(0, 99)}'
                f'<span>/mo</span></p><ul class="plan__list">{rows}</ul></div>'
            )
        if i % 7 == 6:
            return (
                f'<figure class="quote"><blockquote>{_para(rng, 2)}</blockquote><figcaption>'
                f'<img src="{cf}/img/people/{_alnum(rng, 10)}.jpg" alt="" width="40" height="40" '
                f'loading="lazy">{_title(rng, 2, 2)}</figcaption></figure>'
            )
        return (
            f'<div class="feature"><div class="feature__icon">{_icon(rng, "feature-icon")}</div>'
            f"<h3>{_title(rng, 2, 4)}</h3><p>{_para(rng, 2)}</p>"
            f'<a href="/docs/{_alnum(rng, 6)}" class="link">Learn more {_icon(rng, "link__icon")}</a></div>'
        )

    tail = (
        '</section></main><footer class="footer">'
        + "".join(f'<a href="/{_slug(t)}">{t}</a>' for t in (_title(rng, 1, 2) for _ in range(20)))
        + '<a href="/privacy#do-not-sell">Do Not Sell or Share My Personal Information</a></footer>'
        "</body></html>\n"
    )
    return _fill([head], size, unit, tail)


#: name -> (generator, what it models)
KINDS: Final[dict[str, tuple[Callable[..., str], str]]] = {
    "storefront": (storefront, "Shopify Dawn collection grid, cdn.shopify.com + //shop/cdn assets"),
    "product": (product, "headless product page, <picture> x6 sources, images.ctfassets.net"),
    "catalogue": (catalogue, "large listing, thousands of distinct tiles on *.cloudfront.net"),
    "spa": (spa, "Next.js shell, big __NEXT_DATA__, /_next/image srcset, *.akamaized.net"),
    "news": (news, "article with ads, social embeds, analytics; *.akamaized.net images"),
    "blog": (blog, "WordPress post and comments, uploads on cdn.shop.example, gravatars"),
    "icons": (icons, "SaaS landing page of inline SVG icons and logos, *.cloudfront.net"),
}


def pages(size: int | None = None, cap: int | None = None, seed: int = 2025) -> list[Page]:
    """Every corpus page (``size`` overrides each page's natural size; ``cap`` limits it)."""
    out = []
    for k, (name, (make, what)) in enumerate(KINDS.items()):
        rng = random.Random(seed * 100 + k)
        natural = int(inspect.signature(make).parameters["size"].default)
        text = make(rng, min(size or natural, cap or natural))
        out.append(Page(name, what, text.encode("utf-8"), held_out=False))
    return out
