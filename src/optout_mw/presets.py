"""The vendor preset catalog, and :func:`build_ruleset`, which turns preset names and the
site's own rules into one :class:`~optout_mw.rules.RuleSet`.

Each preset targets a tag whose job is selling or sharing visitor data, or targeted
advertising, in the sense of the CCPA/CPRA and the other US state laws: advertising and
social pixels, retargeting and native-ad networks, demand-side platforms, and the tag
managers and customer-data platforms that load them. Pure product analytics and session
replay (Hotjar, Microsoft Clarity) are not in the catalog: they are usually a service
provider's processing, and a site that shares them with ad networks can add a rule.

Hosts and markers come from each vendor's documented install snippet; the source is cited
above each entry. Markers are the snippet's own identifiers (``fbq(``, ``ttq.load(``);
the URLs the snippets load are matched automatically through the rule's hosts, so the
markers need not repeat them.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

from optout_mw.errors import ConfigError
from optout_mw.rules import Action, Rule, RuleSet

__all__ = [
    "ALL_PRESETS",
    "PRESETS",
    "build_ruleset",
    "preset_names",
]

#: The preset name that stands for every preset in the catalog.
ALL_PRESETS: Final = "all"


def _preset(
    name: str,
    description: str,
    *,
    hosts: Sequence[str] = (),
    host_paths: Sequence[str] = (),
    markers: Sequence[str] = (),
) -> Rule:
    return Rule(
        name=name,
        description=description,
        hosts=tuple(hosts),
        host_paths=tuple(host_paths),
        inline_markers=tuple(markers),
    )


_CATALOG: Final = (
    # Google's install snippet: "Paste this code as high in the <head>" (gtm.js loader)
    # and "immediately after the opening <body> tag" (ns.html iframe in <noscript>);
    # quoted e.g. in github.com/redis-developer/redis-developer.github.io/issues/53.
    # googletagmanager.com serves only tag code, including the gtag.js loader.
    _preset(
        "google-tag-manager",
        "Google Tag Manager container (gtm.js), its noscript iframe, and the gtag.js loader",
        hosts=["googletagmanager.com"],
        markers=["googletagmanager.com/gtm.js", "'gtm.start'"],
    ),
    # Google tag (gtag.js) for Analytics: developers.google.com/analytics/devguides/
    # collection/gtagjs and developers.google.com/adwords-remarketing-tag/ (same loader,
    # "window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}").
    # analytics.js: the "GoogleAnalyticsObject" snippet; ga.js: "_gaq.push".
    _preset(
        "google-analytics",
        "Google Analytics (gtag.js, analytics.js, ga.js) and its collection endpoints",
        hosts=["google-analytics.com", "analytics.google.com"],
        host_paths=["googletagmanager.com/gtag"],
        markers=["gtag(", "GoogleAnalyticsObject", "_gaq.push("],
    ),
    # Google Ads conversion/remarketing (developers.google.com/adwords-remarketing-tag/,
    # support.google.com/adwords/answer/7521212), the older conversion.js snippet
    # ("google_conversion_id", googleadservices.com/pagead/conversion.js, noscript
    # googleads.g.doubleclick.net/pagead/viewthroughconversion), AdSense
    # ("adsbygoogle", pagead2.googlesyndication.com) and Ad Manager GPT
    # (securepubads.g.doubleclick.net/tag/js/gpt.js, "googletag.cmd.push").
    _preset(
        "google-ads",
        "Google Ads, DoubleClick/Campaign Manager, AdSense and Ad Manager tags",
        hosts=[
            "googleadservices.com",
            "doubleclick.net",
            "googlesyndication.com",
            "adservice.google.com",
            "googletagservices.com",
        ],
        host_paths=["googletagmanager.com/gtag", "google.com/pagead", "google.com/ads"],
        markers=[
            "google_conversion_id",
            "google_remarketing_only",
            "adsbygoogle",
            "googletag.cmd.push(",
        ],
    ),
    # Meta Pixel base code (developers.facebook.com/docs/meta-pixel/get-started):
    # connect.facebook.net/en_US/fbevents.js, fbq('init'), and the noscript image
    # www.facebook.com/tr?id=...&ev=PageView&noscript=1. Only /tr on facebook.com: a
    # page's own "find us on Facebook" images and links stay. connect.facebook.net also
    # serves the JavaScript SDK (social plugins), which shares visits with Meta too.
    _preset(
        "meta-pixel",
        "Meta (Facebook) Pixel, its /tr endpoint and the Facebook JavaScript SDK",
        hosts=["connect.facebook.net"],
        host_paths=["facebook.com/tr"],
        markers=["fbq(", "_fbq"],
    ),
    # TikTok pixel base code (quoted in github.com/nuxt/scripts/issues/166; opsblu.com
    # TikTok Ads guide): analytics.tiktok.com/i18n/pixel/events.js, ttq.load(), ttq.page().
    _preset(
        "tiktok-pixel",
        "TikTok Pixel",
        hosts=["analytics.tiktok.com", "analytics-sg.tiktok.com"],
        markers=["ttq.load(", "ttq.page(", "TiktokAnalyticsObject"],
    ),
    # LinkedIn Insight Tag (Campaign Manager snippet; walkeros.io LinkedIn destination,
    # consentstack.io vendor page): _linkedin_partner_id, snap.licdn.com/li.lms-analytics/
    # insight.min.js, noscript px.ads.linkedin.com/collect/?pid= (older: dc.ads.linkedin.com).
    _preset(
        "linkedin-insight",
        "LinkedIn Insight Tag",
        hosts=["snap.licdn.com", "ads.linkedin.com"],
        markers=["_linkedin_partner_id", "_linkedin_data_partner_ids", "lintrk("],
    ),
    # X (Twitter) website tag base code (opsblu.com X Ads guide; business.x.com conversion
    # tracking): static.ads-twitter.com/uwt.js, twq('config'); pixels analytics.twitter.com
    # and t.co/i/adsct. Only that path on t.co: t.co is also the link shortener.
    _preset(
        "x-pixel",
        "X (Twitter) Pixel / website tag and its ad conversion endpoints",
        hosts=["ads-twitter.com", "analytics.twitter.com", "ads-api.twitter.com"],
        host_paths=["t.co/i/adsct", "twitter.com/i/adsct", "x.com/i/adsct"],
        markers=["twq(", "twttr.conversion.trackPid("],
    ),
    # Pinterest tag base code (pixelchecker.growads.ai/pixels/pinterest; Pinterest
    # developer docs): s.pinimg.com/ct/core.js, pintrk('load'), noscript
    # ct.pinterest.com/v3/?tid=. s.pinimg.com also serves Pin images, so only /ct.
    _preset(
        "pinterest-tag",
        "Pinterest Tag",
        hosts=["ct.pinterest.com"],
        host_paths=["s.pinimg.com/ct"],
        markers=["pintrk("],
    ),
    # Snap Pixel base code (opsblu.com Snapchat Ads guide; consentstack.io vendor page):
    # sc-static.net/scevent.min.js, snaptr('init'), events to tr.snapchat.com.
    _preset(
        "snap-pixel",
        "Snap (Snapchat) Pixel",
        hosts=["tr.snapchat.com", "tr-shadow.snapchat.com"],
        host_paths=["sc-static.net/scevent.min.js"],
        markers=["snaptr("],
    ),
    # Reddit Pixel base code (opsblu.com Reddit Ads guide; Reddit business help):
    # www.redditstatic.com/ads/pixel.js, rdt('init'), events to alb.reddit.com.
    _preset(
        "reddit-pixel",
        "Reddit Pixel",
        hosts=["alb.reddit.com", "pixel-config.reddit.com"],
        host_paths=["redditstatic.com/ads"],
        markers=["rdt("],
    ),
    # Criteo OneTag (guides.criteotilt.com/onetag/onetag/; help.criteo.com):
    # dynamic.criteo.com/js/ld/ld.js (older static.criteo.net), window.criteo_q.
    _preset(
        "criteo",
        "Criteo OneTag retargeting",
        hosts=["criteo.com", "criteo.net"],
        markers=["criteo_q"],
    ),
    # Microsoft Advertising UET tag (opsblu.com Microsoft Advertising guide; consentstack.io
    # vendor page; help.ads.microsoft.com): bat.bing.com/bat.js, window.uetq, new UET(o).
    _preset(
        "microsoft-uet",
        "Microsoft Advertising (Bing) Universal Event Tracking",
        hosts=["bat.bing.com", "bat.bing.net"],
        markers=["uetq"],
    ),
    # Amazon Ads tag ("amzn('addTag'", c.amazon-adsystem.com/aat/amzn.js) and Amazon
    # Publisher Services (c.amazon-adsystem.com/aax2/apstag.js, apstag.init; highfivve
    # moli-ad-tag TAM docs), conversion pixels on s.amazon-adsystem.com.
    _preset(
        "amazon-ads",
        "Amazon Ads tag, Amazon Publisher Services (TAM/UAM) and Amazon ad pixels",
        hosts=["amazon-adsystem.com"],
        markers=["amzn(", "apstag.init(", "apstag.fetchBids("],
    ),
    # Taboola pixel base code (developers.taboola.com/pixel/docs/doc-javascript-setup):
    # window._tfa, cdn.taboola.com/libtrc/unip/<id>/tfa.js, events to trc.taboola.com;
    # publisher widgets use window._taboola.
    _preset(
        "taboola",
        "Taboola pixel and recommendation widgets",
        hosts=["taboola.com", "taboolasyndication.com"],
        markers=["_tfa.push(", "window._tfa", "_taboola.push("],
    ),
    # Outbrain pixel (outbrain.com/help/advertisers/install-outbrain-pixel/; snippet quoted
    # on pastebin.com/HVEZhXCS): OB_ADV_ID, obApi('track'), amplify.outbrain.com/cp/obtp.js.
    _preset(
        "outbrain",
        "Outbrain pixel and widgets",
        hosts=["outbrain.com", "outbrainimg.com"],
        markers=["obApi(", "OB_ADV_ID"],
    ),
    # Quora pixel (Quora Ads Manager snippet, quoted on pastebin.com/Sh1TSYxK; Segment's
    # Quora integration): a.quora.com/qevents.js, qp('init'), noscript
    # q.quora.com/_/ad/<id>/pixel. qp( alone is too common a name, so the calls are named.
    _preset(
        "quora-pixel",
        "Quora Pixel",
        hosts=["a.quora.com", "q.quora.com"],
        markers=["qp('init'", "qp('track'"],
    ),
    # The Trade Desk Universal Pixel (opsblu.com The Trade Desk guide; consentstack.io
    # vendor page): js.adsrvr.org/up_loader.1.1.0.js, TTDUniversalPixelApi,
    # insight.adsrvr.org/track/up; match/pixel endpoints on adsrvr.org.
    _preset(
        "the-trade-desk",
        "The Trade Desk Universal Pixel and adsrvr.org endpoints",
        hosts=["adsrvr.org"],
        markers=["TTDUniversalPixelApi", "ttd_dom_ready("],
    ),
    # AdRoll (NextRoll) pixel (bluefroganalytics.com AdRoll guide; apidocs.nextroll.com):
    # adroll_adv_id, adroll_pix_id, s.adroll.com/j/<adv>/roundtrip.js.
    _preset(
        "adroll",
        "AdRoll (NextRoll) pixel",
        hosts=["adroll.com"],
        markers=["adroll_adv_id", "__adroll_loaded"],
    ),
    # Segment analytics.js snippet (segment.com docs, "analytics.SNIPPET_VERSION",
    # analytics.load("<write key>"), cdn.segment.com/analytics.js/v1/<key>/analytics.min.js;
    # events to api.segment.io). A customer-data platform that forwards to whatever
    # destinations the site configured, ad networks included: review before enabling.
    _preset(
        "segment",
        "Segment analytics.js (customer-data platform feeding configured destinations)",
        hosts=["cdn.segment.com", "api.segment.io", "cdn.segment.io"],
        markers=["analytics.SNIPPET_VERSION", "analytics._writeKey"],
    ),
)

#: Every preset by name. The mapping is read-only.
PRESETS: Final[Mapping[str, Rule]] = MappingProxyType({rule.name: rule for rule in _CATALOG})


def preset_names() -> list[str]:
    """The names of all presets, sorted."""
    return sorted(PRESETS)


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def build_ruleset(
    presets: Sequence[str] = (),
    rules: Sequence[Rule] = (),
    disabled: Sequence[str] = (),
    action: Action | None = None,
) -> RuleSet:
    """Compile the enabled presets and the site's own rules into one :class:`RuleSet`.

    :param presets: preset names; ``"all"`` enables the whole catalog. Order sets
        priority when several rules match one URL.
    :param rules: the site's own rules; they come after the presets.
    :param disabled: preset or rule names to leave out (errors are reported under the
        configuration key ``disabled_rules``).
    :param action: when given, overrides the action of every rule.
    :raises ConfigError: naming every unknown preset or disabled name (with a "did you
        mean" suggestion), duplicate names, and invalid rule hosts.
    """
    problems: list[tuple[str, str]] = []
    known = preset_names()
    chosen: list[Rule] = []
    seen: set[str] = set()
    for index, name in enumerate(presets):
        names = known if name == ALL_PRESETS else [name]
        for each in names:
            rule = PRESETS.get(each)
            if rule is None:
                problems.append(
                    (f"presets[{index}]", f"unknown preset {each!r}{_suggest(each, known)}")
                )
            elif each not in seen:
                seen.add(each)
                chosen.append(rule)
    for index, rule in enumerate(rules):
        if rule.name in seen:
            problems.append((f"rules[{index}].name", f"duplicate rule name {rule.name!r}"))
            continue
        seen.add(rule.name)
        chosen.append(rule)
    disabled_set = set()
    for index, name in enumerate(disabled):
        if name not in seen and name not in PRESETS:
            candidates = sorted(seen | set(known))
            problems.append(
                (
                    f"disabled_rules[{index}]",
                    f"no preset or rule named {name!r}{_suggest(name, candidates)}",
                )
            )
        disabled_set.add(name)
    if problems:
        raise ConfigError(problems)
    final = [rule for rule in chosen if rule.name not in disabled_set]
    if action is not None:
        final = [_with_action(rule, action) for rule in final]
    return RuleSet(final)


def _with_action(rule: Rule, action: Action) -> Rule:
    if rule.action is action:
        return rule
    return Rule(
        name=rule.name,
        hosts=rule.hosts,
        path_prefixes=rule.path_prefixes,
        inline_markers=rule.inline_markers,
        action=action,
        description=rule.description,
        host_paths=rule.host_paths,
    )
