"""The "forget this device" button: ``Clear-Site-Data`` for cookies and storage.

Never sent on its own initiative: ``"cookies"`` removes every cookie of the site's
registrable domain (RFC 6265 has no narrower tool), so the visitor is signed out and the
site's choice cookie goes too, and ``"storage"`` empties localStorage, IndexedDB and the
rest. Only the visitor's explicit request on the opt-out page sends it.
"""

from __future__ import annotations

from typing import Final

from ._hosts import is_ip_address

__all__ = ["CLEAR_SITE_DATA", "forget_device_headers"]

#: Clear Site Data §3.1: each type a quoted string (an unquoted one is ignored).
CLEAR_SITE_DATA: Final = ("Clear-Site-Data", '"cookies", "storage"')


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if is_ip_address(host):
        return host == "::1" or host.startswith("127.")
    return False


def forget_device_headers(scheme: str, host: str | None) -> list[tuple[str, str]]:
    """The headers of the response to the "forget this device" button.

    Browsers honour ``Clear-Site-Data`` only in a secure context (https, or a loopback
    host, which browsers treat as potentially trustworthy); elsewhere this returns no
    header, so the page can say that plain http cannot do it instead of claiming success.

    :param host: a host returned by :func:`~optout_mw.cookie_purge.validated_host`.
    """
    if scheme == "https" or (host is not None and _is_loopback(host)):
        return [CLEAR_SITE_DATA]
    return []
