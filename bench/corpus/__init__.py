"""Benchmark pages shaped like real sites, and inputs that stress the rewriter's worst cases.

* :mod:`corpus.sites` - the corpus the figures are reported on: storefronts, a product
  page, a large catalogue, an SPA shell, a news article, a blog post, an icon-heavy
  landing page. Every page is generated from a seed: no network, same bytes every run.
* :mod:`corpus.heldout` - a second set of the same kinds of page, written separately
  (its own element builder and serializer, other CDN hosts, other markup habits) so that
  the figures also hold on pages the rewriter was not tuned against.
* :mod:`corpus.pathological` - inputs whose cost must stay linear in their size.

``README.md`` beside this file says what each shape was based on.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import NamedTuple

from optout_mw.presets import build_ruleset
from optout_mw.rules import RuleSet

#: The rules every corpus page is rewritten with: the whole preset catalog, as a site
#: that enables ``presets = ["all"]`` runs.
RULES: RuleSet = build_ruleset(["all"])


class Page(NamedTuple):
    """One benchmark page."""

    name: str
    description: str
    data: bytes
    held_out: bool


class Chunking(NamedTuple):
    """How a page is fed to a rewriter."""

    label: str
    split: Callable[[bytes], list[bytes]]


def fixed_chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def template_chunks(data: bytes, seed: int = 0, low: int = 50, high: int = 100) -> list[bytes]:
    """Chunks of ``low`` to ``high`` bytes, as template engines flush them (Jinja's
    ``generate()``, Django's ``StreamingHttpResponse`` over a template, Liquid sections)."""
    rng = random.Random(seed)
    out: list[bytes] = []
    i = 0
    while i < len(data):
        n = rng.randint(low, high)
        out.append(data[i : i + n])
        i += n
    return out or [b""]


CHUNKINGS: Sequence[Chunking] = (
    Chunking("whole", lambda d: [d]),
    Chunking("4 KiB", lambda d: fixed_chunks(d, 4096)),
    Chunking("64 B", lambda d: fixed_chunks(d, 64)),
    Chunking("50-100 B", template_chunks),
)


def all_pages(size: int | None = None, cap: int | None = None) -> list[Page]:
    """The corpus, then the held-out set. ``size`` (bytes, approximate) overrides each
    page's natural size, e.g. 80 KB pages for the middleware pipeline benchmark; ``cap``
    only limits it (the large pages, for instruction counts under callgrind)."""
    # Imported here: both modules import Page from this one.
    from corpus import heldout, sites

    return sites.pages(size, cap) + heldout.pages(size, cap)
