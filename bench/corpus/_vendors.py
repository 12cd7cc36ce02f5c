"""Third-party tags as sites paste them, for the corpus pages.

Each snippet has the shape of the vendor's documented install code (the sources are cited
in ``presets.py`` for the vendors the preset catalog covers, and in ``README.md`` for the
others), shortened where the body of the loader does not matter to a rewriter. ``PRESET``
snippets match a rule of the preset catalog; ``OTHER`` ones must pass untouched: a real
page carries many more third parties than any rule set names.
"""

# ruff: noqa: E501 - snippets keep the line breaks of the install code they model
from __future__ import annotations

from typing import Final

# -- matched by the preset catalog ----------------------------------------------------

GTM_HEAD: Final = """\
<!-- Google Tag Manager -->
<script>(function(w,d,s,l,i){{w[l]=w[l]||[];w[l].push({{'gtm.start':
new Date().getTime(),event:'gtm.js'}});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
}})(window,document,'script','dataLayer','GTM-{id}');</script>
<!-- End Google Tag Manager -->
"""

GTM_BODY: Final = """\
<!-- Google Tag Manager (noscript) -->
<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-{id}"
height="0" width="0" style="display:none;visibility:hidden"></iframe></noscript>
<!-- End Google Tag Manager (noscript) -->
"""

GTAG: Final = """\
<script async src="https://www.googletagmanager.com/gtag/js?id=G-{id}"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){{dataLayer.push(arguments);}}
  gtag('js', new Date());
  gtag('config', 'G-{id}');
</script>
"""

META_PIXEL: Final = """\
<!-- Meta Pixel Code -->
<script>
!function(f,b,e,v,n,t,s)
{{if(f.fbq)return;n=f.fbq=function(){{n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)}};
if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';
n.queue=[];t=b.createElement(e);t.async=!0;
t.src=v;s=b.getElementsByTagName(e)[0];
s.parentNode.insertBefore(t,s)}}(window, document,'script',
'https://connect.facebook.net/en_US/fbevents.js');
fbq('init', '{id}');
fbq('track', 'PageView');
</script>
<noscript><img height="1" width="1" style="display:none"
src="https://www.facebook.com/tr?id={id}&ev=PageView&noscript=1"
/></noscript>
<!-- End Meta Pixel Code -->
"""

TIKTOK: Final = """\
<script>
!function (w, d, t) {{
  w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];ttq.methods=["page","track","identify",
  "instances","debug","on","off","once","ready","alias","group","enableCookie","disableCookie"],
  ttq.setAndDefer=function(t,e){{t[e]=function(){{t.push([e].concat(Array.prototype.slice.call(arguments,0)))}}}};
  for(var i=0;i<ttq.methods.length;i++)ttq.setAndDefer(ttq,ttq.methods[i]);
  ttq.load=function(e,n){{var i="https://analytics.tiktok.com/i18n/pixel/events.js";
  ttq._i=ttq._i||{{}},ttq._i[e]=[],ttq._i[e]._u=i,ttq._t=ttq._t||{{}},ttq._t[e]=+new Date;
  var o=document.createElement("script");o.type="text/javascript",o.async=!0,o.src=i+"?sdkid="+e+"&lib="+t;
  var a=document.getElementsByTagName("script")[0];a.parentNode.insertBefore(o,a)}};
  ttq.load('{id}');
  ttq.page();
}}(window, document, 'ttq');
</script>
"""

PINTEREST: Final = """\
<script type="text/javascript">
!function(e){{if(!window.pintrk){{window.pintrk = function () {{
window.pintrk.queue.push(Array.prototype.slice.call(arguments))}};var
  n=window.pintrk;n.queue=[],n.version="3.0";var
  t=document.createElement("script");t.async=!0,t.src=e;var
  r=document.getElementsByTagName("script")[0];
  r.parentNode.insertBefore(t,r)}}}}("https://s.pinimg.com/ct/core.js");
pintrk('load', '{id}');
pintrk('page');
</script>
<noscript>
<img height="1" width="1" style="display:none;" alt=""
  src="https://ct.pinterest.com/v3/?event=init&tid={id}&noscript=1" />
</noscript>
"""

BING_UET: Final = """\
<script>(function(w,d,t,r,u){{var f,n,i;w[u]=w[u]||[],f=function(){{var o={{ti:"{id}",
enableAutoSpaTracking: true}};o.q=w[u],w[u]=new UET(o),w[u].push("pageLoad")}},
n=d.createElement(t),n.src=r,n.async=1,n.onload=n.onreadystatechange=function(){{var
s=this.readyState;s&&s!=="loaded"&&s!=="complete"||(f(),n.onload=n.onreadystatechange=null)}},
i=d.getElementsByTagName(t)[0],i.parentNode.insertBefore(n,i)}})(window,document,"script",
"//bat.bing.com/bat.js","uetq");</script>
"""

CRITEO: Final = """\
<script type="text/javascript" src="//dynamic.criteo.com/js/ld/ld.js?a={id}" async="true"></script>
<script type="text/javascript">
window.criteo_q = window.criteo_q || [];
var deviceType = /iPad/.test(navigator.userAgent) ? "t" : /Mobile|iP(hone|od)|Android|BlackBerry|IEMobile|Silk/.test(navigator.userAgent) ? "m" : "d";
window.criteo_q.push(
  {{ event: "setAccount", account: {id} }},
  {{ event: "setSiteType", type: deviceType }},
  {{ event: "viewList", item: ["{a}", "{b}", "{c}"] }}
);
</script>
"""

LINKEDIN: Final = """\
<script type="text/javascript">
_linkedin_partner_id = "{id}";
window._linkedin_data_partner_ids = window._linkedin_data_partner_ids || [];
window._linkedin_data_partner_ids.push(_linkedin_partner_id);
</script><script type="text/javascript">
(function(l) {{
if (!l){{window.lintrk = function(a,b){{window.lintrk.q.push([a,b])}};
window.lintrk.q=[]}}
var s = document.getElementsByTagName("script")[0];
var b = document.createElement("script");
b.type = "text/javascript";b.async = true;
b.src = "https://snap.licdn.com/li.lms-analytics/insight.min.js";
s.parentNode.insertBefore(b, s);}})(window.lintrk);
</script>
<noscript>
<img height="1" width="1" style="display:none;" alt="" src="https://px.ads.linkedin.com/collect/?pid={id}&fmt=gif" />
</noscript>
"""

SEGMENT: Final = """\
<script>
  !function(){{var i="analytics",analytics=window[i]=window[i]||[];if(!analytics.initialize)
  if(analytics.invoked)window.console&&console.error&&console.error("Segment snippet included twice.");
  else{{analytics.invoked=!0;analytics.methods=["trackSubmit","trackClick","trackLink","trackForm",
  "pageview","identify","reset","group","track","ready","alias","debug","page","screen","once","off","on"];
  analytics.factory=function(e){{return function(){{var t=Array.prototype.slice.call(arguments);
  t.unshift(e);analytics.push(t);return analytics}}}};for(var n=0;n<analytics.methods.length;n++)
  {{var key=analytics.methods[n];analytics[key]=analytics.factory(key)}}analytics.load=function(key,n)
  {{var t=document.createElement("script");t.type="text/javascript";t.async=!0;
  t.setAttribute("data-global-segment-analytics-key",i);
  t.src="https://cdn.segment.com/analytics.js/v1/" + key + "/analytics.min.js";
  var r=document.getElementsByTagName("script")[0];r.parentNode.insertBefore(t,r);analytics._loadOptions=n}};
  analytics._writeKey="{id}";analytics.SNIPPET_VERSION="5.2.0";
  analytics.load("{id}");
  analytics.page();
  }}}}();
</script>
"""

REDDIT: Final = """\
<script>
!function(w,d){{if(!w.rdt){{var p=w.rdt=function(){{p.sendEvent?p.sendEvent.apply(p,arguments):p.callQueue.push(arguments)}};
p.callQueue=[];var t=d.createElement("script");t.src="https://www.redditstatic.com/ads/pixel.js",t.async=!0;
var s=d.getElementsByTagName("script")[0];s.parentNode.insertBefore(t,s)}}}}(window,document);
rdt('init','{id}');rdt('track', 'PageVisit');
</script>
"""

GPT_HEAD: Final = """\
<script async src="https://securepubads.g.doubleclick.net/tag/js/gpt.js"></script>
<script>
  window.googletag = window.googletag || {{cmd: []}};
  googletag.cmd.push(function() {{
{slots}    googletag.pubads().enableSingleRequest();
    googletag.pubads().collapseEmptyDivs();
    googletag.enableServices();
  }});
</script>
"""

GPT_SLOT: Final = (
    "    googletag.defineSlot('/{net}/{site}/{section}', {sizes}, 'div-gpt-ad-{n}')"
    ".addService(googletag.pubads());\n"
)

AD_SLOT: Final = """\
<div class="ad ad--{kind}" aria-hidden="true"><span class="ad__label">Advertisement</span>
<div id='div-gpt-ad-{n}' style='min-width: 300px; min-height: 250px;'>
  <script>
    googletag.cmd.push(function() {{ googletag.display('div-gpt-ad-{n}'); }});
  </script>
</div></div>
"""

APSTAG: Final = """\
<script>
!function(a9,a,p,s,t,A,g){{if(a[a9])return;function q(c,r){{a[a9]._Q.push([c,r])}}a[a9]={{init:function(){{q("i",arguments)}},
fetchBids:function(){{q("f",arguments)}},setDisplayBids:function(){{}},targetingKeys:function(){{return[]}},_Q:[]}};
A=p.createElement(s);A.async=!0;A.src=t;g=p.getElementsByTagName(s)[0];g.parentNode.insertBefore(A,g)}}
("apstag",window,document,"script","//c.amazon-adsystem.com/aax2/apstag.js");
apstag.init({{ pubID: '{id}', adServer: 'googletag' }});
</script>
"""

TABOOLA_HEAD: Final = """\
<script type="text/javascript">
  window._taboola = window._taboola || [];
  _taboola.push({{article:'auto'}});
  !function (e, f, u, i) {{
    if (!document.getElementById(i)){{
      e.async = 1;
      e.src = u;
      e.id = i;
      f.parentNode.insertBefore(e, f);
    }}
  }}(document.createElement('script'),
  document.getElementsByTagName('script')[0],
  '//cdn.taboola.com/libtrc/{site}/loader.js',
  'tb_loader_script');
  if(window.performance && typeof window.performance.mark == 'function')
    {{window.performance.mark('tbl_ic');}}
</script>
"""

TABOOLA_WIDGET: Final = """\
<div id="taboola-below-article-thumbnails"></div>
<script type="text/javascript">
  window._taboola = window._taboola || [];
  _taboola.push({
    mode: 'alternating-thumbnails-a',
    container: 'taboola-below-article-thumbnails',
    placement: 'Below Article Thumbnails',
    target_type: 'mix'
  });
</script>
"""

OUTBRAIN: Final = """\
<div class="OUTBRAIN" data-src="{url}" data-widget-id="AR_1"></div>
<script type="text/javascript" async="async" src="//widgets.outbrain.com/outbrain.js"></script>
"""

FB_SDK: Final = """\
<div id="fb-root"></div>
<script async defer crossorigin="anonymous"
  src="https://connect.facebook.net/en_US/sdk.js#xfbml=1&version=v19.0" nonce="{nonce}"></script>
"""

# -- third parties no preset names ----------------------------------------------------

ONETRUST: Final = """\
<!-- OneTrust Cookies Consent Notice start -->
<script src="https://cdn.cookielaw.org/scripttemplates/otSDKStub.js" data-document-language="true"
  type="text/javascript" charset="UTF-8" data-domain-script="{uuid}"></script>
<script type="text/javascript">
function OptanonWrapper() {{ }}
</script>
<!-- OneTrust Cookies Consent Notice end -->
"""

COMSCORE: Final = """\
<!-- Begin comScore Tag -->
<script>
  var _comscore = _comscore || [];
  _comscore.push({{ c1: "2", c2: "{id}", options: {{ enableFirstPartyCookie: true }} }});
  (function() {{
    var s = document.createElement("script"), el = document.getElementsByTagName("script")[0]; s.async = true;
    s.src = "https://sb.scorecardresearch.com/cs/{id}/beacon.js";
    el.parentNode.insertBefore(s, el);
  }})();
</script>
<noscript>
  <img src="https://sb.scorecardresearch.com/p?c1=2&amp;c2={id}&amp;cv=4.4.0&amp;cj=1">
</noscript>
<!-- End comScore Tag -->
"""

CHARTBEAT: Final = """\
<script type='text/javascript'>
    (function() {{
        var _sf_async_config = window._sf_async_config = (window._sf_async_config || {{}});
        _sf_async_config.uid = {id};
        _sf_async_config.domain = '{domain}';
        _sf_async_config.flickerControl = false;
        _sf_async_config.useCanonical = true;
        _sf_async_config.useCanonicalDomain = true;
        _sf_async_config.sections = '{section}';
        _sf_async_config.authors = '{author}';
        function loadChartbeat() {{
            var e = document.createElement('script');
            var n = document.getElementsByTagName('script')[0];
            e.type = 'text/javascript';
            e.async = true;
            e.src = '//static.chartbeat.com/js/chartbeat.js';
            n.parentNode.insertBefore(e, n);
        }}
        loadChartbeat();
     }})();
</script>
<script async src="//static.chartbeat.com/js/chartbeat_mab.js"></script>
"""

PARSELY: Final = (
    '<script id="parsely-cfg" data-parsely-site="{domain}" '
    'src="//cdn.parsely.com/keys/{domain}/p.js" async></script>\n'
)

PERMUTIVE: Final = """\
<script>
!function(e,o,n,i){{if(!e){{e=e||{{}},window.permutive=e,e.q=[];var t=function(){{return([1e7]+-1e3+-4e3+-8e3+-1e11)
.replace(/[018]/g,function(e){{return(e^(window.crypto||window.msCrypto).getRandomValues(new Uint8Array(1))[0]&15>>e/4)
.toString(16)}})}};e.config=i||{{}},e.config.apiKey=o,e.config.workspaceId=n,e.config.environment=e.config.environment||
"production",(window.crypto||window.msCrypto)&&(e.config.viewId=t());for(var g=["addon","identify","track","trigger",
"query","segment","segments","ready","on","once","user","consent"],r=0;r<g.length;r++){{var w=g[r];e[w]=function(o)
{{return function(){{var n=Array.prototype.slice.call(arguments,0);e.q.push({{functionName:o,arguments:n}})}}}}(w)}}}}}}
(window.permutive,"{uuid}","{uuid}",{{}});
</script>
<script async src="https://{id}.edge.permutive.app/{uuid}-web.js"></script>
"""

QUANTCAST: Final = """\
<script type="text/javascript">
window._qevents = window._qevents || [];
(function() {{
var elem = document.createElement('script');
elem.src = (document.location.protocol == "https:" ? "https://secure" : "http://edge") + ".quantserve.com/quant.js";
elem.async = true;
elem.type = "text/javascript";
var scpt = document.getElementsByTagName('script')[0];
scpt.parentNode.insertBefore(elem, scpt);
}})();
window._qevents.push({{ qacct:"p-{id}", uid:"__INSERT_EMAIL_HERE__" }});
</script>
<noscript>
<div style="display:none;">
<img src="//pixel.quantserve.com/pixel/p-{id}.gif" border="0" height="1" width="1" alt="Quantcast"/>
</div>
</noscript>
"""

KLAVIYO: Final = (
    '<script async type="text/javascript" '
    'src="https://static.klaviyo.com/onsite/js/klaviyo.js?company_id={id}"></script>\n'
)

HOTJAR: Final = """\
<script>
    (function(h,o,t,j,a,r){{
        h.hj=h.hj||function(){{(h.hj.q=h.hj.q||[]).push(arguments)}};
        h._hjSettings={{hjid:{id},hjsv:6}};
        a=o.getElementsByTagName('head')[0];
        r=o.createElement('script');r.async=1;
        r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;
        a.appendChild(r);
    }})(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');
</script>
"""

HUBSPOT: Final = (
    '<!-- Start of HubSpot Embed Code -->\n'
    '<script type="text/javascript" id="hs-script-loader" async defer '
    'src="//js.hs-scripts.com/{id}.js"></script>\n'
    '<!-- End of HubSpot Embed Code -->\n'
)

TWITTER_EMBED: Final = """\
<blockquote class="twitter-tweet" data-dnt="true"><p lang="en" dir="ltr">{text}</p>&mdash; {name}
(@{handle}) <a href="https://twitter.com/{handle}/status/{id}?ref_src=twsrc%5Etfw">{date}</a></blockquote>
<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>
"""

YOUTUBE: Final = (
    '<iframe width="560" height="315" src="https://www.youtube.com/embed/{id}?si={si}" '
    'title="YouTube video player" frameborder="0" allow="accelerometer; autoplay; clipboard-write; '
    'encrypted-media; gyroscope; picture-in-picture; web-share" '
    'referrerpolicy="strict-origin-when-cross-origin" allowfullscreen></iframe>\n'
)

INSTAGRAM: Final = """\
<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/{id}/?utm_source=ig_embed&amp;utm_campaign=loading"
 data-instgrm-version="14" style=" background:#FFF; border:0; border-radius:3px; margin: 1px; max-width:540px; min-width:326px; padding:0;">
<div style="padding:16px;"><a href="https://www.instagram.com/p/{id}/?utm_source=ig_embed&amp;utm_campaign=loading"
 style=" background:#FFFFFF; line-height:0; padding:0 0; text-align:center; text-decoration:none; width:100%;" target="_blank">
 View this post on Instagram</a></div></blockquote>
<script async src="//www.instagram.com/embed.js"></script>
"""

JETPACK: Final = """\
<script src='https://stats.wp.com/e-202418.js' id='jetpack-stats-js' data-wp-strategy='defer'></script>
<script id="jetpack-stats-js-after">
_stq = window._stq || [];
_stq.push([ "view", JSON.parse("{{\\"v\\":\\"ext\\",\\"blog\\":\\"{id}\\",\\"post\\":\\"{post}\\",\\"tz\\":\\"-5\\",\\"srv\\":\\"{domain}\\",\\"j\\":\\"1:13.3.1\\"}}") ]);
_stq.push([ "clickTrackerInit", "{id}", "{post}" ]);
</script>
"""
