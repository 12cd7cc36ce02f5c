"""Hosts Chromium contacts on its own account, never because of a page.

Chromium calls home while a page loads even with ``--disable-background-networking`` and
``--disable-component-update`` (Chromium 156 still asks ``update.googleapis.com``). The
browser tests route every host to a local sink and count what arrives there as "the page
contacted a third party", so these hosts get no address at all: they never reach the sink.

The list names services, not pages' vendors: a test checks that no host a preset or the
demo shop names is on it, and that a third party the page names but no rule knows about
still reaches the sink.
"""

from __future__ import annotations

#: Chromium's own services: component and extension updates, field trials, Safe Browsing,
#: sign-in and sync, optimisation hints, autofill, push messaging, crash and reliability
#: reports, and the download hosts that updates redirect to.
BROWSER_SERVICE_HOSTS: tuple[str, ...] = (
    "update.googleapis.com",
    "clients1.google.com",
    "clients2.google.com",
    "clients4.google.com",
    "clients2.googleusercontent.com",
    "clientservices.googleapis.com",
    "accounts.google.com",
    "android.clients.google.com",
    "safebrowsing.googleapis.com",
    "sb-ssl.google.com",
    "optimizationguide-pa.googleapis.com",
    "content-autofill.googleapis.com",
    "passwordsleakcheck-pa.googleapis.com",
    "chromewebstore.googleapis.com",
    "chromesyncpasswords-pa.googleapis.com",
    "mtalk.google.com",
    "dl.google.com",
    "redirector.gvt1.com",
    "*.gvt1.com",
    "*.gvt2.com",
)


def resolver_rules(sink_port: int) -> str:
    """``--host-resolver-rules``: browser services resolve nowhere, every other host but
    the first-party origin (``127.0.0.1``) resolves to the sink, whatever the port."""
    rules = [f"MAP {host} ~NOTFOUND" for host in BROWSER_SERVICE_HOSTS]
    rules.append(f"MAP * 127.0.0.1:{sink_port}")
    rules.append("EXCLUDE 127.0.0.1")
    return ", ".join(rules)


def is_browser_service(host: str) -> bool:
    """Whether ``host`` is matched by :data:`BROWSER_SERVICE_HOSTS` (``*.`` is any label)."""
    host = host.lower().rstrip(".")
    for pattern in BROWSER_SERVICE_HOSTS:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]):
                return True
        elif host == pattern:
            return True
    return False
