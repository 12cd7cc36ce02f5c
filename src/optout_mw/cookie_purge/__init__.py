"""Expiring tracker cookies already set and stripping the ones a response would set.

Pure functions over header values, for the response enforcer to call:

* :func:`validated_host` - the request's host, only if the site allows it;
* :func:`purge_page` - the ``Set-Cookie`` deletion lines for the request's tracker
  cookies, capped per response and continued on later pages;
* :func:`strip_set_cookies` - the response's own ``Set-Cookie`` values that would set a
  tracker cookie;
* :func:`forget_device_headers` - ``Clear-Site-Data`` for the opt-out page's "forget this
  device" button.

See docs/cookies.md.
"""

from __future__ import annotations

from ._forget import CLEAR_SITE_DATA, forget_device_headers
from ._hosts import AllowedHosts, allowed_host_problem, is_ip_address, validated_host
from ._purge import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_LINES,
    CookieFinding,
    PurgePage,
    PurgeSettings,
    cookie_names,
    deletion_lines,
    line_bytes,
    purge_page,
)
from ._strip import StripResult, set_cookie_name, strip_set_cookies

__all__ = [
    "CLEAR_SITE_DATA",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_LINES",
    "AllowedHosts",
    "CookieFinding",
    "PurgePage",
    "PurgeSettings",
    "StripResult",
    "allowed_host_problem",
    "cookie_names",
    "deletion_lines",
    "forget_device_headers",
    "is_ip_address",
    "line_bytes",
    "purge_page",
    "set_cookie_name",
    "strip_set_cookies",
    "validated_host",
]
