"""The consent stack a site already runs: consent tools' cookies read as signals, and
blocked-tag markup in the formats those tools re-activate.

Off by default: a consent tool's cookie is read only when its name is in
``CmpSettings.enabled`` (``cmp_cookies``). Every parser is total (never raises; malformed
input never grants consent) and none returns more than ``NO_OPT_OUT``, so a cookie that
says "opted in" never outweighs GPC. See docs/cmp.md.
"""

from __future__ import annotations

from .cookie_rules import parse_cookie_rule
from .cookiebot import parse_cookiebot
from .didomi import parse_didomi
from .fides import parse_fides
from .iubenda import is_iubenda_cookie, parse_iubenda
from .ketch import parse_ketch
from .markup import (
    DEFAULT_CATEGORIES,
    BlockEdits,
    BlockFormat,
    BlockMarkup,
    apply_block_edits,
    block_edits,
    render_start_tag,
)
from .onetrust import parse_onetrust
from .reader import CmpReader
from .settings import CMP_NAMES, UNREADABLE_CMPS, CmpSettings, CookieRule
from .transcend import parse_transcend

__all__ = [
    "CMP_NAMES",
    "DEFAULT_CATEGORIES",
    "UNREADABLE_CMPS",
    "BlockEdits",
    "BlockFormat",
    "BlockMarkup",
    "CmpReader",
    "CmpSettings",
    "CookieRule",
    "apply_block_edits",
    "block_edits",
    "is_iubenda_cookie",
    "parse_cookie_rule",
    "parse_cookiebot",
    "parse_didomi",
    "parse_fides",
    "parse_iubenda",
    "parse_ketch",
    "parse_onetrust",
    "parse_transcend",
    "render_start_tag",
]
