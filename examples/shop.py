"""The demo shop page shared by the examples: a realistic page carrying vendor tags.

The snippets follow each vendor's documented install code (Google Tag Manager with its
``<noscript>`` iframe, the Meta Pixel with its ``<noscript>`` image, the TikTok pixel, the
Microsoft UET tag, a preconnect hint, an ad iframe), so the difference between an opted-in
and an opted-out visitor is visible in the HTML.
"""

from __future__ import annotations

import html

from optout_mw import Decision
from optout_mw.demo import demo_config as demo_config

HEAD_TAGS = """\
<link rel="preconnect" href="https://www.googletagmanager.com">
<link rel="dns-prefetch" href="//connect.facebook.net">
<!-- Google Tag Manager -->
<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-DEMO123');</script>
<!-- End Google Tag Manager -->
<script async src="https://www.googletagmanager.com/gtag/js?id=G-DEMO12345"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date());
  gtag('config', 'G-DEMO12345');
</script>
<!-- Meta Pixel Code -->
<script>
!function(f,b,e,v,n,t,s)
{if(f.fbq)return;n=f.fbq=function(){n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)};
if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';
n.queue=[];t=b.createElement(e);t.async=!0;
t.src=v;s=b.getElementsByTagName(e)[0];
s.parentNode.insertBefore(t,s)}(window, document,'script',
'https://connect.facebook.net/en_US/fbevents.js');
fbq('init', '000000000000000');
fbq('track', 'PageView');
</script>
<noscript><img height="1" width="1" style="display:none"
src="https://www.facebook.com/tr?id=000000000000000&ev=PageView&noscript=1"
/></noscript>
<!-- End Meta Pixel Code -->
<script>
!function (w, d, t) {
  w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];ttq.methods=["page","track"];
  ttq.load=function(e,n){var r="https://analytics.tiktok.com/i18n/pixel/events.js";
  var a=d.createElement("script");a.async=!0;a.src=r+"?sdkid="+e;
  var s=d.getElementsByTagName("script")[0];s.parentNode.insertBefore(a,s)};
  ttq.load('DEMO0TIKTOK0ID');
  ttq.page();
}(window, document, 'ttq');
</script>
<script>(function(w,d,t,r,u){var f,n,i;w[u]=w[u]||[],f=function(){var o={ti:"000000",
enableAutoSpaLoadingPage:true};o.q=w[u],w[u]=new UET(o),w[u].push("pageLoad")},
n=d.createElement(t),n.src=r,n.async=1,n.onload=n.onreadystatechange=function(){
var s=this.readyState;s&&s!=="loaded"&&s!=="complete"||(f(),n.onload=n.onreadystatechange=null)},
i=d.getElementsByTagName(t)[0],i.parentNode.insertBefore(n,i)})
(window,document,"script","//bat.bing.com/bat.js","uetq");</script>
"""

BODY_TAGS = """\
<!-- Google Tag Manager (noscript) -->
<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-DEMO123"
height="0" width="0" style="display:none;visibility:hidden"></iframe></noscript>
<!-- End Google Tag Manager (noscript) -->
"""

AD_SLOT = """\
<iframe class="ad" title="Advertisement" width="300" height="250"
  src="https://googleads.g.doubleclick.net/pagead/ads?client=ca-pub-0000&amp;slot=1"></iframe>
"""

FIRST_PARTY_SCRIPT = """\
<script>document.documentElement.dataset.firstParty = "loaded";</script>
"""


def render_shop(decision: Decision, *, framework: str) -> str:
    """The shop's home page; personalised ads only when sale is permitted."""
    if decision.sale_permitted:
        offers = "<p>Recommended for you, based on your activity across the web.</p>"
    else:
        offers = "<p>Our bestsellers this week (not personalised).</p>"
    status = (
        f'<p class="privacy-status" role="status">{html.escape(decision.status_text)}</p>'
        if decision.status_text
        else ""
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Demo shop ({html.escape(framework)})</title>
{HEAD_TAGS}</head>
<body>
{BODY_TAGS}<h1>Demo shop</h1>
{status}{offers}
<ul>
  <li>Linen shirt: $40</li>
  <li>Canvas bag: $25</li>
</ul>
{AD_SLOT}{FIRST_PARTY_SCRIPT}<footer>
  <a href="/privacy/opt-out">Do Not Sell or Share My Personal Information</a>
</footer>
</body>
</html>
"""
