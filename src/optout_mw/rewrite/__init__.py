"""Streaming HTML rewriter that removes or neutralises tracker elements.

``HTMLRewriter`` is sans-IO: feed it the bytes of an HTML response as they arrive and send
on what it returns. See ``docs/rewriter.md`` for what it acts on and how it tokenizes.
"""

from __future__ import annotations

from optout_mw.rewrite._rewriter import Finding, HTMLRewriter, warm_up

__all__ = ["Finding", "HTMLRewriter", "warm_up"]
