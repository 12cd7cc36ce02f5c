"""The streaming rewriter: a byte-level WHATWG tokenizer that only looks closely where it must.

Reading guide. ``_run`` drives a small state machine whose states are tokenizer states
(data, RCDATA/RAWTEXT, script data and its escaped states, PLAINTEXT, comment, bogus
comment, CDATA section). In the data state one precompiled ``re`` match skips text,
comments and every complete tag whose name does not matter, so most of a page is crossed
at C speed; the Python code runs only for the few tags that change tokenizer state or may
fetch something.

Output is never rebuilt: ``_mark`` is the first input byte not yet handed on, and
``_cut(pos)`` hands ``buf[_mark:pos]`` to the current sink (emit, drop or capture). A
chunk with nothing to change is returned as the very object that was fed in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from enum import Enum
from typing import NamedTuple, TypeAlias, TypeVar, cast

from optout_mw.rewrite import _syntax as syn
from optout_mw.rules import Action, Rule, RuleSet

__all__ = ["Finding", "HTMLRewriter"]

_log = logging.getLogger("optout_mw")

# Sinks: where processed input goes.
_EMIT = 0
_DROP = 1  # inside a stripped element
_CAPTURE = 2  # inside an element held back until it can be judged

# Tokenizer states.
_DATA = 0
_RAW = 1  # RCDATA or RAWTEXT: only "</name" + delimiter ends it
_SCRIPT = 2  # script data
_SCRIPT_ESC = 3  # script data escaped
_SCRIPT_DESC = 4  # script data double escaped
_PLAINTEXT = 5
_COMMENT = 6
_BOGUS = 7  # bogus comment or DOCTYPE: up to the next ">"
_CDATA = 8  # CDATA section (foreign content only)
_TAG = 9  # inside a tag too long to hold: scanned byte-wise, passed through

# Element kinds in HTML content.
_K_RAW = 1
_K_SCRIPT = 2
_K_FETCH = 3
_K_NOSCRIPT = 4
_K_PLAINTEXT = 5
_K_FOREIGN = 6
_K_BASE = 7
_K_MODE = 8  # changes what later start tags do (select, frameset, template, keygen)

_RAW_NAMES = (b"style", b"xmp", b"noembed", b"noframes", b"textarea", b"title")
# Attributes that make an element fetch, in the order a browser uses them; True marks a
# srcset-style list of candidates.
_FETCH: dict[bytes, tuple[tuple[bytes, bool], ...]] = {
    b"img": ((b"src", False), (b"srcset", True)),
    # "image" is turned into "img" by the tree builder in HTML content.
    b"image": ((b"src", False), (b"srcset", True)),
    b"source": ((b"src", False), (b"srcset", True)),
    b"iframe": ((b"src", False),),
    b"frame": ((b"src", False),),
    b"embed": ((b"src", False),),
    b"object": ((b"data", False),),
    b"input": ((b"src", False),),
    b"video": ((b"src", False), (b"poster", False)),
    b"audio": ((b"src", False),),
    b"track": ((b"src", False),),
    b"link": ((b"href", False), (b"imagesrcset", True)),
    b"script": ((b"src", False),),
}
# Attributes renamed when an element is blocked.
_RENAME: dict[bytes, frozenset[bytes]] = {
    name: frozenset(a for a, _ in attrs) for name, attrs in _FETCH.items()
}
_RENAME[b"iframe"] = frozenset((b"src", b"srcdoc"))
_RENAME[b"script"] = frozenset((b"src", b"type"))
# In foreign content a script or image is judged on its SVG attributes and on the HTML
# ones too: when the rewriter is unsure whether the browser is still in foreign content
# (see ``_uncertain``), the element may be an HTML one.
_SVG_FETCH = ((b"href", False), (b"xlink:href", False), (b"src", False))
_SVG_IMAGE_FETCH = (*_SVG_FETCH, (b"srcset", True))
# A MathML script or image fetches nothing; only an HTML reading of it would.
_MATH_FETCH = ((b"src", False),)
_MATH_IMAGE_FETCH = ((b"src", False), (b"srcset", True))
_SVG_RENAME = frozenset((b"href", b"xlink:href", b"src", b"srcset"))
_SVG_SCRIPT_RENAME = frozenset((b"href", b"xlink:href", b"src", b"type"))
# Elements with ordinary (tokenized) content: stripping them removes everything up to the
# matching end tag.
_CONTAINERS = frozenset((b"object", b"video", b"audio"))
# Containers that are no scope boundary: an end tag of an element around them (</div>)
# closes them too, so a strip ends at such an end tag (see ``_drop_open``).
_SOFT_CONTAINERS = frozenset((b"video", b"audio"))
_LINK_RELS = frozenset(
    (
        "preload",
        "prefetch",
        "preconnect",
        "dns-prefetch",
        "modulepreload",
        "stylesheet",
        "prerender",
        "icon",
        "apple-touch-icon",
        "apple-touch-icon-precomposed",
        "mask-icon",
        "manifest",
    )
)
# Elements whose src/data may be a data: URL holding a document, or a javascript: URL.
_DOC_FETCH = frozenset((b"iframe", b"frame", b"object", b"embed"))
# Void elements: a start tag opens nothing that stays open.
_VOID = frozenset(
    b"area base basefont bgsound br col embed frame hr image img input keygen link meta "
    b"param source track wbr".split()
)
# Script types whose content is not run and names nothing to fetch (JSON data blocks).
# Anything else unknown is judged like JavaScript: that fails closed.
_DATA_SCRIPT_TYPES = frozenset(("application/json", "application/ld+json", "text/json"))
# Foreign elements tracked on the stack; an end tag with one of these names may close one.
_FRAME_NAMES = frozenset(
    b"svg math foreignobject desc title mi mo mn ms mtext annotation-xml mglyph malignmark".split()
)
# Browsers cap the depth of the element tree (Blink at 512); so does the foreign stack.
_MAX_FRAMES = 512
# An <svg> element cut by the end of a chunk is held back (to be taken whole by the fast
# path with the next chunk) while what is held is shorter than this.
_SVG_WAIT = 4096
_SVG_OPEN = re.compile(rb"<svg[" + syn.WS + rb"/>]")
_SVG_CLOSE = re.compile(rb"</[sS][vV][gG]")
# An unfinished tag at least this long is rescanned incrementally (see ``_resume_tag``).
_RESUME_MIN = 1024

_KIND: dict[bytes, int] = dict.fromkeys(_FETCH, _K_FETCH)
_KIND.update(dict.fromkeys(_RAW_NAMES, _K_RAW))
_KIND.update(
    {
        b"script": _K_SCRIPT,
        b"noscript": _K_NOSCRIPT,
        b"select": _K_MODE,
        b"frameset": _K_MODE,
        b"template": _K_MODE,
        b"keygen": _K_MODE,
        b"plaintext": _K_PLAINTEXT,
        b"svg": _K_FOREIGN,
        b"math": _K_FOREIGN,
        b"base": _K_BASE,
    }
)

# Start tags that change tokenizer state (all a stripped element's content needs).
_EFFECT_NAMES = frozenset(
    (*_RAW_NAMES, b"iframe", b"noscript", b"script", b"plaintext", b"svg", b"math")
)
_HTML_START = frozenset(_KIND)
_MODE_NAMES = frozenset((b"select", b"frameset", b"template", b"keygen", b"input", b"textarea"))

# Foreign content ("rules for parsing tokens in foreign content"): start tags that break
# out to HTML, the integration points, and svg elements that fetch.
_BREAKOUT = frozenset(
    b"b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr "
    b"i img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup "
    b"table tt u ul var".split()
)
_SVG_INTEGRATION = frozenset((b"foreignobject", b"desc", b"title"))
_MATH_INTEGRATION = frozenset((b"mi", b"mo", b"mn", b"ms", b"mtext"))
_FOREIGN_START = frozenset(
    (
        *_BREAKOUT,
        *_SVG_INTEGRATION,
        *_MATH_INTEGRATION,
        b"font",
        b"annotation-xml",
        b"svg",
        b"math",
        b"script",
        b"image",
        b"mglyph",
        b"malignmark",
        *_FETCH,
    )
)
_FOREIGN_END = frozenset(
    (
        *_SVG_INTEGRATION,
        *_MATH_INTEGRATION,
        b"annotation-xml",
        b"svg",
        b"math",
        b"script",
        b"image",
        b"p",
        b"br",
        b"mglyph",
        b"malignmark",
    )
)
_EMPTY: frozenset[bytes] = frozenset()

# Crude URL finder for the fallback check of noscript content.
_URLISH = re.compile(r"(?:[a-zA-Z][a-zA-Z0-9+.\-]*:)?//[^\s\"'<>()`]+")
_MAX_FRAGMENT_DEPTH = 3
_Hit: TypeAlias = tuple[Rule, str | None]
_V = TypeVar("_V")
# A start tag's verdict is keyed by the tag's bytes, the base URL, and the fragment depth
# and max_pending (judging a srcdoc or data: URL).
_TagKey: TypeAlias = tuple[bytes, str | None, int, int]


class _Body(Enum):
    """What a <script> start tag without src asks for."""

    INERT = 0  # a data block: nothing to judge
    INLINE = 1  # its text is judged


# A <script> start tag's verdict: its body's fate, or (with a src) the hit or None.
_ScriptVerdict: TypeAlias = _Body | _Hit | None


class _Verdicts(NamedTuple):
    """Start-tag verdicts of one rule set."""

    fetch: dict[_TagKey, _Hit | None]
    script: dict[_TagKey, _ScriptVerdict]
# Verdicts on short fragments (see ``_judge_fragment``), bounded.
_FRAGMENT_CACHE: dict[tuple[int, bytes, str | None, int, int], tuple[RuleSet, _Hit | None]] = {}
_FRAGMENT_CACHE_MAX = 256
_FRAGMENT_CACHEABLE = 4096  # bytes
_NAME = re.compile(rb"[^" + syn.WS + rb"/>]*")
_WS = syn.WS_BYTES
_WS_STR = "\t\n\f\r "

_Skip: TypeAlias = Callable[[bytes, int, int], re.Match[bytes]]
_SKIP_CACHE: dict[tuple[object, ...], _Skip] = {}

# Bytes that let a URL spell a host other than literally: character references, percent
# escapes, non-ASCII (IDNA mapping), backslash, NUL and the tab/newlines URL parsing drops.
_DISGUISE = re.compile(rb"[&%\\\x00\t\n\r\x80-\xff]")
_PLAIN_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\Z")
_PER_RULES: dict[int, tuple[RuleSet, _HostFinder | None, _Verdicts]] = {}
# Verdicts on start tags, per rule set: pages repeat the same tags (vendor snippets, the
# site's own scripts) from response to response. Bounded in entries and in tag length.
# At most 8 rule sets (a reload makes a new one) x 512 tags x 512 bytes: about 2 MB at
# worst, a few kilobytes for a site's usual pages.
_RULE_SETS_MAX = 8
_TAG_CACHE_MAX = 512
_TAG_CACHEABLE = 512  # bytes


class _HostFinder:
    """Finds every rule host (or a way to disguise one) in a tag.

    Two searches the engine runs fast: the disguising bytes, then the hosts as lower-case
    literals in the lowered tag. (One case-insensitive alternation of both would be tried
    in full at every byte.)
    """

    __slots__ = ("_hosts",)

    def __init__(self, hosts: list[bytes]) -> None:
        self._hosts = re.compile(syn.literal_alternation(hosts)) if hosts else None

    def found(self, data: bytes, start: int = 0, end: int | None = None) -> bool:
        if end is None:
            end = len(data)
        if _DISGUISE.search(data, start, end) is not None:
            return True
        hosts = self._hosts
        return hosts is not None and hosts.search(data[start:end].lower()) is not None


def _per_rules(rules: RuleSet) -> tuple[_HostFinder | None, _Verdicts]:
    """What a rewriter keeps per rule set: its host finder and its tag verdicts."""
    cached = _PER_RULES.get(id(rules))
    if cached is not None and cached[0] is rules:
        return cached[1], cached[2]
    finder = _hostish(rules)
    verdicts = _Verdicts({}, {})
    if len(_PER_RULES) >= _RULE_SETS_MAX:
        _PER_RULES.clear()
    _PER_RULES[id(rules)] = (rules, finder, verdicts)
    return finder, verdicts


def _hostish(rules: RuleSet) -> _HostFinder | None:
    """What finds every rule host (or a way to disguise one) in a tag.

    None if some rule host is not a plain ASCII name (an IP address can be written in
    many forms; an IDN host in several), in which case every candidate is judged fully.
    """
    hosts: list[bytes] = []
    for rule in rules.rules:
        raws = (*rule.hosts, *(h.partition("/")[0] for h in getattr(rule, "host_paths", ())))
        for raw in raws:
            host = raw.strip().lower().rstrip(".").removeprefix("*.")
            last = host.rpartition(".")[2]
            if not _PLAIN_HOST.match(host) or last.isdigit() or last.startswith("0x"):
                return None
            hosts.append(host.encode("ascii"))
    return _HostFinder(hosts)


def _remember(verdicts: dict[_TagKey, _V], key: _TagKey, verdict: _V) -> None:
    if len(key[0]) <= _TAG_CACHEABLE:
        if len(verdicts) >= _TAG_CACHE_MAX:
            verdicts.clear()
        verdicts[key] = verdict


class Finding(NamedTuple):
    """One element that matched a rule (an immutable record).

    :param rule: the rule's name.
    :param action: what was (or, in report mode, would have been) done.
    :param element: the element's tag name (``svg:script`` for an SVG script).
    :param url: the URL that matched, or ``None`` for inline markers.
    :param offset: byte offset of the element's ``<`` in the document.
    :param line: 1-based line of that byte (lines end at LF), or ``None`` when the
        rewriter was built with ``line_numbers=False``.
    :param column: 1-based byte column of that byte, or ``None`` likewise.
    """

    rule: str
    action: Action
    element: str
    url: str | None
    offset: int
    line: int | None
    column: int | None


_Where = tuple[int, int | None, int | None]  # offset, line, column


# Calling Finding() runs a Python __new__; tuple.__new__ does the same at a third of the cost.
_new_finding: Callable[[type[Finding], tuple[object, ...]], Finding] = tuple.__new__


class _Frame(NamedTuple):
    """An open foreign element that affects tokenization (svg, math, integration points)."""

    name: bytes
    svg: bool
    integration: bool


def _values(buf: bytes, m: re.Match[bytes]) -> dict[bytes, bytes]:
    """Attribute values by lowercased name; the first of duplicates wins, as in the
    tokenizer. Raw bytes: character references are not decoded yet."""
    values: dict[bytes, bytes] = {}
    for name, dq, sq, uq in syn.ATTR.findall(buf, m.start(3), m.end(3)):
        if name:
            lname = name.lower()
            if lname not in values:
                values[lname] = dq or sq or uq
    return values


def _attr_names(buf: bytes, m: re.Match[bytes]) -> list[tuple[bytes, int]]:
    """Every attribute: lowercased name and where its name starts."""
    return [
        (t.group(1).lower(), t.start(1))
        for t in syn.ATTR.finditer(buf, m.start(3), m.end(3))
        if t.lastindex is not None
    ]


def _runs(values: dict[bytes, bytes]) -> bool:
    """Whether an inline script with these attributes may run (or fetch): anything but a
    JSON data block. Unknown types count as running, which fails closed."""
    raw = values.get(b"type")
    if raw is None:
        return True
    essence = syn.decode_attr(raw).partition(";")[0].strip(_WS_STR).lower()
    return essence not in _DATA_SCRIPT_TYPES and not essence.endswith("+json")


def _self_closing(buf: bytes, m: re.Match[bytes]) -> bool:
    """ "Self-closing start tag state": a "/" right before ">" outside any value."""
    end = m.end(3)
    if buf[end - 1] != 0x2F:
        return False
    if end == m.start(3):
        return True  # "<svg/>": the name cannot hold "/"
    last = None
    for last in syn.ATTR.finditer(buf, m.start(3), end):  # noqa: B007 - want the last one
        pass
    # Only an unquoted value can end in "/" (names stop before it).
    return last is None or last.lastindex != 4 or last.end(4) != end


class HTMLRewriter:
    """Sans-IO streaming rewriter that strips or blocks tracker elements in HTML bytes.

    Build one per response, pass each body chunk to :meth:`feed` and send what it
    returns, then send what :meth:`close` returns. Bytes it does not change come out
    identical, whatever the chunking.

    :param rules: what counts as a tracker.
    :param report_only: record :attr:`findings` but return the input unchanged.
    :param attr_prefix: prefix for renamed attributes of blocked elements
        (``src`` becomes ``data-optout-src``) and for the ``rule`` attribute.
    :param max_pending: the most bytes held for one construct (an unfinished tag, an
        inline script or ``<noscript>`` waiting to be judged). Past it the construct is
        passed through unchanged and :attr:`overflowed` is set: availability wins over
        enforcement, but output is never corrupted. 1 MiB holds any sane tag or inline
        script.
    :param inject: bytes written once before the first ``<script>`` start tag, or
        before ``<body>`` or ``</head>`` if one comes first; never in report mode.
    :param line_numbers: give findings a line and column as well as a byte offset.
        Counting lines means reading every byte once more (about a tenth of the
        rewriter's time on a typical page); without it ``line`` and ``column`` are
        ``None``.

    .. attribute:: findings

        One :class:`Finding` per element judged a tracker, in document order of judgement.

    .. attribute:: overflowed

        ``True`` once a construct exceeded ``max_pending``; :attr:`overflow_reason` says
        which.
    """

    # Slots: a rewriter is built per response (and per judged fragment) and its state
    # is read on every tag; slot access and construction are cheaper than a dict's.
    __slots__ = (
        "_base_url",
        "_breakout",
        "_broken",
        "_buf",
        "_cap",
        "_cap_elem",
        "_cap_len",
        "_cap_svg",
        "_cap_tag",
        "_cap_where",
        "_closed",
        "_depth",
        "_dirty",
        "_drop_open",
        "_extra_frames",
        "_frames",
        "_frameset",
        "_hits",
        "_hold_depth",
        "_hold_frames",
        "_hold_name",
        "_hostish",
        "_hostish_all",
        "_inject",
        "_inline",
        "_last_nl",
        "_line_numbers",
        "_lines",
        "_logged",
        "_mark",
        "_max",
        "_more",
        "_more_len",
        "_need_gt",
        "_nl_seen",
        "_offset",
        "_out",
        "_prefix",
        "_raw_keep",
        "_raw_name",
        "_raw_re",
        "_report",
        "_resume_at",
        "_resume_q",
        "_resume_rel",
        "_resume_scan",
        "_rules",
        "_same_origin",
        "_select",
        "_shadow",
        "_sink",
        "_skip",
        "_state",
        "_tag_end",
        "_tag_name",
        "_tag_slash",
        "_tag_sub",
        "_tail",
        "_template",
        "_uncertain",
        "_verdicts",
        "findings",
        "injected",
        "overflow_reason",
        "overflowed",
    )

    def __init__(
        self,
        rules: RuleSet,
        *,
        report_only: bool = False,
        attr_prefix: str = "data-optout-",
        max_pending: int = 1 << 20,
        inject: bytes | None = None,
        line_numbers: bool = True,
    ) -> None:
        self.findings: list[Finding] = []
        self.overflowed = False
        self.overflow_reason: str | None = None
        self.injected = False
        self._rules = rules
        self._report = report_only
        self._prefix = attr_prefix.encode("utf-8")
        self._max = max(1, max_pending)
        self._inject = inject if (inject and not report_only) else None
        # match_inline also finds rule hosts named in script text, so any rule at all makes
        # inline scripts worth holding back.
        self._inline = bool(rules.rules)
        self._base_url: str | None = None
        # Prefilter: a tag that this pattern does not match names no rule host in any
        # form a URL parser would read as one. None when the rules defeat it.
        self._hostish_all, self._verdicts = _per_rules(rules)
        self._hostish = self._hostish_all
        self._same_origin = True  # relative URLs stay on the document's origin
        self._hits: list[Rule] = []
        self._breakout = False  # the tag being handled broke out of foreign content
        self._depth = 0
        # Input bookkeeping.
        self._buf = b""
        self._mark = 0
        self._out: list[bytes] = []
        self._tail = b""
        self._more: list[bytes] = []
        self._more_len = 0
        self._need_gt = False
        self._offset = 0  # document offset of _buf[0]
        self._lines = 0  # LFs before _buf[_nl_seen]
        self._last_nl = -1  # document offset of the last LF before _buf[_nl_seen]
        self._nl_seen = 0  # LFs in _buf before this index are counted in _lines
        self._line_numbers = line_numbers
        self._closed = False
        self._broken = False
        # Something was logged while this rewriter ran (by it, or for a fragment it had
        # judged): its fragment verdicts are not reused, so that the log comes again.
        self._logged = False
        # Tokenizer.
        self._state = _DATA
        self._raw_name = b""
        self._raw_re = syn.raw_end(b"style")
        self._raw_keep = 0
        self._frames: list[_Frame] = []
        # Foreign elements past _MAX_FRAMES: counted, not stacked.
        self._extra_frames = 0
        # Indices of integration points in which an HTML element was opened (it may still
        # be open, and then the browser ignores the integration point's end tag).
        self._dirty: set[int] = set()
        # The browser may be in HTML content where the stack says foreign content (an
        # integration point closed while HTML elements were open, a <svg> in <select>, a
        # stack past its cap). Then CDATA is read as a bogus comment and HTML fetching
        # elements are judged in foreign content too: both readings are covered.
        self._uncertain = False
        # Insertion modes that ignore most start tags: a raw text or foreign start tag is
        # ignored there by the classic parser, but parsed by others (customizable
        # <select>), so it switches no tokenizer state and what follows is judged.
        self._select = False
        self._frameset = False
        self._template = 0  # open <template> elements (a <base> inside is ignored)
        self._drop_open: list[bytes] = []  # elements opened inside a stripped video/audio
        # Resuming the scan of an unfinished tag: document offset of its "<" and where
        # its last attribute unit starts, relative to the "<".
        self._resume_at = -1
        self._resume_rel = 0
        self._resume_q = 0  # the quote of an unclosed value, if the scan waits for one
        self._resume_scan = 0  # relative to the "<": no closing quote before this
        # Held element (stripped or captured).
        self._sink = _EMIT
        self._shadow = False  # report mode: capture a copy while emitting
        self._hold_name = b""
        self._hold_depth = 0
        self._hold_frames = 0
        self._cap: list[bytes] = []
        self._cap_len = 0
        self._cap_tag = b""
        self._cap_elem = ""
        self._cap_where: _Where = (0, None, None)
        self._cap_svg = False
        # Overflowed tag scan.
        self._tag_sub = 0
        self._tag_name = b""
        self._tag_end = False
        self._tag_slash = False
        self._skip: _Skip = self._skip_for()

    # -- public API --------------------------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        """Consume a chunk; return the output that is final so far."""
        if self._closed or self._broken:
            return bytes(data)
        try:
            return self._process(data if type(data) is bytes else bytes(data), False)
        except Exception:  # pragma: no cover - defensive: fail open, never corrupt
            return self._fail(data)

    def close(self) -> bytes:
        """Signal the end of the document; return the rest of the output."""
        if self._closed:
            return b""
        self._closed = True
        if self._broken:
            return b""
        try:
            return self._process(b"", True)
        except Exception:  # pragma: no cover - defensive: fail open, never corrupt
            return self._fail(b"")

    # -- driver ------------------------------------------------------------------------

    def _fail(self, data: bytes) -> bytes:  # pragma: no cover - only on an internal bug
        _log.exception("optout_mw: HTML rewriter failed; passing the rest through")
        self._broken = True
        self._logged = True
        self.overflow_reason = "internal_error"
        held = [self._cap_tag, *self._cap] if self._sink == _CAPTURE else []
        return b"".join([*held, self._tail, *self._more, bytes(data)])

    def _process(self, data: bytes, final: bool) -> bytes:
        if self._tail or self._more:
            if (
                self._need_gt
                and not final
                and b">" not in data
                and len(self._tail) + self._more_len + len(data) <= self._max
            ):
                # An unfinished tag cannot end in a chunk without ">": wait cheaply.
                self._more.append(data)
                self._more_len += len(data)
                return b""
            if self._more:
                buf = b"".join([self._tail, *self._more, data])
                self._more = []
                self._more_len = 0
            else:
                buf = self._tail + data
        else:
            buf = data
        self._need_gt = False
        self._buf = buf
        self._mark = 0
        out: list[bytes] = []
        self._out = out
        pos = self._run(buf, 0, final)
        self._cut(pos)
        if self._line_numbers:
            self._where(pos)
            self._nl_seen = 0
        self._offset += pos
        self._tail = buf[pos:] if pos < len(buf) else b""
        self._buf = b""
        self._mark = 0
        if self._cap_len > self._max and (self._sink == _CAPTURE or self._shadow):
            self._capture_overflow()
        if final:
            if self._sink == _CAPTURE or self._shadow:
                self._finish_capture(None)
            self._tail = b""
        return b"".join(out)

    def _run(self, buf: bytes, pos: int, final: bool) -> int:
        n = len(buf)
        if self._resume_at == self._offset + pos and self._state == _DATA and not final:
            # An unfinished tag held from the last chunk: while it is still unfinished,
            # wait without letting the fast path scan it again. Once complete it goes the
            # usual way (scanned once more), so chunking changes nothing.
            if self._resume_tag(buf, pos) is None and n - pos <= self._max:
                self._need_gt = True
                return pos
            self._resume_at = -1
        # The fast path stops before an unfinished tag at the end of the input (a "<" with
        # no ">" after it) instead of trying every form on it and failing.
        stop = n
        if not final:
            last = buf.rfind(b"<", pos)
            if last >= 0 and buf.find(b">", last) < 0:
                stop = last
        while pos < n:
            st = self._state
            if st == _DATA:
                pos = self._skip(buf, pos, stop if pos < stop else n).end()
                if pos >= n:
                    break
                if (
                    pos == stop
                    and n - pos < _RESUME_MIN
                    and n - pos <= self._max
                    and (
                        buf[pos + 1 : pos + 2].isalpha()
                        or (buf[pos + 1 : pos + 2] == b"/" and buf[pos + 2 : pos + 3].isalpha())
                    )
                ):
                    # A short start or end tag cut by the end of the input, as usual
                    # between chunks: wait for its ">" (what _markup would decide, sooner).
                    self._need_gt = True
                    return pos
                if (
                    buf.startswith(b"<svg", pos)
                    and not final
                    and n - pos < _SVG_WAIT
                    and n - pos <= self._max
                    and not self._frames
                    and _SVG_OPEN.match(buf, pos) is not None
                    and _SVG_CLOSE.search(buf, pos) is None
                ):
                    # An inline <svg> (an icon) cut by the end of the input: wait for the
                    # rest of it, so that the fast path can take it whole.
                    return pos
                r = self._markup(buf, pos, final)
            elif st == _RAW:
                r = self._raw(buf, pos, final)
            elif st in (_SCRIPT, _SCRIPT_ESC, _SCRIPT_DESC):
                r = self._script_data(buf, pos, final)
            elif st == _COMMENT:
                r = self._comment(buf, pos, final)
            elif st == _BOGUS:
                j = buf.find(b">", pos)
                if j < 0:
                    return n
                self._state = _DATA
                r = j + 1
            elif st == _CDATA:
                j = buf.find(b"]]>", pos)
                if j < 0:
                    return n if final else max(pos, n - 2)
                self._state = _DATA
                r = j + 3
            elif st == _PLAINTEXT:
                return n
            else:
                r = self._scan_tag(buf, pos)
            if r < 0:
                return -1 - r
            pos = r
        return pos

    def _cut(self, pos: int) -> None:
        mark = self._mark
        if pos > mark:
            sink = self._sink
            if sink == _EMIT:
                piece = self._buf[mark:pos]
                self._out.append(piece)
                if self._shadow:
                    self._cap.append(piece)
                    self._cap_len += len(piece)
            elif sink == _CAPTURE:
                piece = self._buf[mark:pos]
                self._cap.append(piece)
                self._cap_len += len(piece)
        self._mark = pos

    def _skip_for(self) -> _Skip:
        """The data-state fast path for the current context."""
        frames = self._frames
        if not (frames or self._hold_name or self._select or self._template):
            # The usual context (HTML content, nothing held): the key below, in short.
            dropping = self._sink == _DROP
            inject = self._inject is not None and not self.injected
            key = (False, dropping, b"", inject, b"", self._same_origin, False, False, False)
            skip = _SKIP_CACHE.get(key)
            if skip is not None:
                return skip
        foreign = bool(frames) and not frames[-1].integration
        dropping = self._sink == _DROP
        inject = self._inject is not None and not self.injected and not frames
        top = frames[-1].name if frames else b""
        # Inside a held element its own name must reach the slow path (nesting depth).
        # In foreign content no tag is passed as same-origin: img, image and embed break
        # out of it.
        safe = self._same_origin and not self._hold_name and not foreign
        # Every tag is looked at in an integration point (to know whether HTML elements
        # are open in it) and inside a stripped video or audio (to know where it ends).
        every = (bool(frames) and not foreign) or (dropping and self._hold_name in _SOFT_CONTAINERS)
        select = self._select
        template = self._template > 0
        key = (foreign, dropping, self._hold_name, inject, top, safe, every, select, template)
        skip = _SKIP_CACHE.get(key)
        if skip is None:
            if foreign:
                start = set(_FOREIGN_START)
                end = set(_FOREIGN_END)
            elif dropping:
                start = set(_EFFECT_NAMES)
                end = set()
            else:
                start = set(_HTML_START)
                end = set()
                if inject:
                    start.add(b"body")
                    end.add(b"head")
            if self._hold_name:
                start.add(self._hold_name)
                end.add(self._hold_name)
            if top:
                end.add(top)
            if select:
                end.add(b"select")
            if template:
                end.add(b"template")
            # The pattern always matches (possibly empty), so match() never returns None.
            # Whole raw text elements and "<!" declarations can be consumed in HTML content
            # outside any held or stripped element; same-origin scripts too, unless the
            # injection still waits for the first script.
            whole = not foreign and not dropping and not self._hold_name
            scripts = whole and safe and not inject
            pattern = syn.skip_pattern(
                frozenset(start), frozenset(end), safe, every, whole, scripts
            )
            skip = cast(_Skip, pattern.match)
            _SKIP_CACHE[key] = skip
        return skip

    def _where(self, pos: int) -> _Where:
        """Document offset, line and column of ``buf[pos]``; positions only move forward."""
        if not self._line_numbers:
            return self._offset + pos, None, None
        buf = self._buf
        seen = self._nl_seen
        if pos > seen:
            k = buf.count(b"\n", seen, pos)
            if k:
                self._lines += k
                self._last_nl = self._offset + buf.rfind(b"\n", seen, pos)
            self._nl_seen = pos
        elif pos < seen:  # pragma: no cover - findings come in document order
            back = buf.count(b"\n", pos, seen)
            if back:
                last = buf.rfind(b"\n", 0, pos)
                last_nl = self._offset + last if last >= 0 else -1
                return self._offset + pos, self._lines - back + 1, self._offset + pos - last_nl
        return self._offset + pos, self._lines + 1, self._offset + pos - self._last_nl

    def _record(
        self,
        rule: Rule,
        element: str,
        url: str | None,
        where: _Where,
        action: Action | None = None,
    ) -> None:
        self._hits.append(rule)
        action = rule.action if action is None else action
        self.findings.append(_new_finding(Finding, (rule.name, action, element, url, *where)))

    # -- markup in the data state ------------------------------------------------------

    def _markup(self, buf: bytes, i: int, final: bool) -> int:
        """At a "<" the fast path did not consume: "tag open state"."""
        m = syn.TAG_FAST.match(buf, i)
        if m is not None and m.end() - i <= self._max:
            # A whole tag in the common shape (the usual case): no other check applies.
            return self._end_tag(m) if m.group(1) else self._start_tag(m)
        n = len(buf)
        if i + 1 >= n:
            return n if final else -1 - i
        c = buf[i + 1]
        if c == 0x21:  # "!": markup declaration open state
            return self._bang(buf, i, final)
        if c == 0x2F:  # "/": end tag open state
            if i + 2 >= n:
                return n if final else -1 - i
            c = buf[i + 2]
            if c == 0x3E:  # "</>" is dropped by the tokenizer; the bytes stay
                return i + 3
            if not (0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A):
                self._state = _BOGUS
                return i + 2
        elif c == 0x3F:  # "<?": bogus comment
            self._state = _BOGUS
            return i + 2
        elif not (0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A):
            return i + 1
        m = None
        if buf.find(b">", i) >= 0:  # else unfinished
            m = syn.TAG_FAST.match(buf, i) or syn.TAG.match(buf, i)
        if m is None and not final and n - i >= _RESUME_MIN:
            # Only long tags are worth it: rescanning a short one costs less.
            self._resume_at = self._offset + i
            self._resume_rel = 0
            self._resume_q = 0
            self._resume_tag(buf, i, False)
        if m is None:
            if final:
                return n  # EOF in tag: the tokenizer drops it; the bytes stay as they are
            if n - i > self._max:
                self._resume_at = -1
                return self._tag_overflow(buf, i)
            self._need_gt = True
            return -1 - i
        if m.end() - i > self._max:
            return self._long_tag(m)
        if m.group(1):
            return self._end_tag(m)
        return self._start_tag(m)

    def _resume_tag(self, buf: bytes, i: int, retry: bool = True) -> re.Match[bytes] | None:
        """Match an unfinished tag again with more input, without rescanning it whole.

        The attribute units before the last one are final (a unit's extent depends only
        on bytes before the next unit), so the scan resumes at the start of the last
        unit; inside an unclosed quoted value it waits for the closing quote. This keeps
        a long tag fed in small chunks linear.
        """
        n = len(buf)
        q = self._resume_q
        if q:
            j = buf.find(bytes([q]), i + self._resume_scan)
            if j < 0:
                self._resume_scan = n - i
                return None
        rel = i + self._resume_rel
        if rel == i:
            name = syn.TAG_NAME.match(buf, i)
            assert name is not None  # "<" and a letter: _markup checked
            rel = name.end()
        if retry and syn.TAG_REST.match(buf, rel):
            return syn.TAG.match(buf, i)
        u = syn.TAG_UNITS_FROM.match(buf, rel)
        assert u is not None  # it matches the empty string
        stuck = u.end()
        self._resume_q = 0
        if stuck < n:
            # An attribute with an unclosed quoted value: the tag cannot end before the
            # closing quote.
            v = syn.OPEN_VALUE.match(buf, stuck)
            if v is not None:
                self._resume_q = buf[v.end() - 1]
                self._resume_scan = v.end() - i
                self._resume_rel = stuck - i
                return None
        if u.lastindex:
            self._resume_rel = u.start(u.lastindex) - i
        return None

    def _bang(self, buf: bytes, i: int, final: bool) -> int:
        head = buf[i : i + 9]
        if head.startswith(b"<!--"):
            if len(head) < 6 and not final:
                return -1 - i
            if head[4:5] == b">":  # "<!-->": abrupt closing of empty comment
                return i + 5
            if head[4:6] == b"->":  # "<!--->"
                return i + 6
            self._state = _COMMENT
            return i + 4
        frames = self._frames
        # CDATA sections exist only when the adjusted current node is not an HTML element.
        # Inside an integration point that node may be an HTML child the fast path did
        # not track, so there "<![CDATA[" is taken as a bogus comment (fails closed).
        cdata = bool(frames) and not frames[-1].integration and not self._uncertain
        if cdata and head == b"<![CDATA[":
            self._state = _CDATA
            return i + 9
        if (
            not final
            and len(head) < 9
            and (b"<!--".startswith(head) or (cdata and b"<![CDATA[".startswith(head)))
        ):
            return -1 - i
        self._state = _BOGUS  # DOCTYPE ends at ">" just like a bogus comment
        return i + 2

    def _comment(self, buf: bytes, pos: int, final: bool) -> int:
        # "comment end state" is reached by "--"; ">" or "!>" after it ends the comment.
        j = buf.find(b"--", pos)
        n = len(buf)
        while j >= 0:
            k = j + 2
            while k < n and buf[k] == 0x2D:
                k += 1
            if k < n and buf[k] == 0x3E:
                self._state = _DATA
                return k + 1
            if k + 1 < n and buf[k] == 0x21 and buf[k + 1] == 0x3E:
                self._state = _DATA
                return k + 2
            if k + 1 >= n:
                return n if final else -1 - j
            j = buf.find(b"--", k)
        if final:
            return n
        return -1 - max(pos, n - 1) if buf.endswith(b"-") else n

    def _raw(self, buf: bytes, pos: int, final: bool) -> int:
        m = self._raw_re.search(buf, pos)
        n = len(buf)
        if m is None:
            return n if final else -1 - max(pos, n - self._raw_keep)
        return self._raw_close(buf, m.start(), final)

    def _script_data(self, buf: bytes, pos: int, final: bool) -> int:
        st = self._state
        if st == _SCRIPT:
            m = syn.SCRIPT_SCAN.search(buf, pos)
        elif st == _SCRIPT_ESC:
            m = syn.SCRIPT_ESC_SCAN.search(buf, pos)
        else:
            m = syn.SCRIPT_DESC_SCAN.search(buf, pos)
        if m is None:
            n = len(buf)
            return n if final else -1 - max(pos, n - syn.SCRIPT_KEEP)
        j = m.start()
        c = buf[j + 1]
        if st == _SCRIPT:
            if c == 0x21:  # "<!--": script data escaped dash dash state
                self._state = _SCRIPT_ESC
                return j + 2  # the dashes may also close it: "<!-->"
            return self._raw_close(buf, j, final)
        if c == 0x2D:  # "-->": back to script data
            self._state = _SCRIPT
            return j + 3
        if st == _SCRIPT_ESC:
            if m.group(1):
                return self._raw_close(buf, j, final)
            self._state = _SCRIPT_DESC
            return m.end()
        self._state = _SCRIPT_ESC  # "</script" in double escaped: back to escaped
        return m.end()

    def _raw_close(self, buf: bytes, j: int, final: bool) -> int:
        """At the appropriate end tag of RCDATA, RAWTEXT or script data."""
        m = syn.TAG_FAST.match(buf, j) or syn.TAG.match(buf, j)
        if m is None:
            n = len(buf)
            if final:
                return n
            if n - j > self._max:
                self._state = _DATA
                return self._tag_overflow(buf, j)
            self._need_gt = True
            return -1 - j
        self._state = _DATA
        end = m.end()
        if end - j > self._max:
            return self._long_tag(m)
        if self._hold_name == self._raw_name and (self._sink != _EMIT or self._shadow):
            self._finish_hold(j, end)
        return end

    # -- tags --------------------------------------------------------------------------

    def _enter_raw(self, name: bytes) -> None:
        self._state = _RAW
        self._raw_name = name
        self._raw_re = syn.raw_end(name)
        self._raw_keep = len(name) + 2

    def _mode(self, name: bytes) -> None:
        """Insertion modes an HTML start tag enters or leaves (as far as modelled)."""
        if name == b"select":
            self._select = not self._select  # a <select> inside one closes it
        elif name in (b"input", b"keygen", b"textarea"):
            if not self._select:
                return
            self._select = False  # these close an open <select>, then are processed
        elif name == b"frameset":
            self._frameset = True
            return
        elif name == b"template":
            self._template += 1
        self._skip = self._skip_for()  # the fast path must see </select>, </template>

    def _ignored(self, name: bytes) -> bool:
        """In <select> or <frameset>, a start tag that switches tokenizer state in one
        parser and is ignored in another: no switch here, so what follows is judged."""
        if self._select:
            return True
        return self._frameset and name != b"noframes"

    def _effects(self, name: bytes, m: re.Match[bytes] | None, self_closing: bool = False) -> None:
        """Tokenizer state changes of an HTML start tag (tree builder dispatch)."""
        if name == b"script":
            self._state = _SCRIPT
            self._raw_name = b"script"
        elif name in _EFFECT_NAMES:
            if (self._select or self._frameset) and self._ignored(name):
                if name == b"svg" or name == b"math":
                    # Foreign content in one reading, HTML in the other: foreign, unsure.
                    if m is not None:
                        self_closing = _self_closing(self._buf, m)
                    if not self_closing:
                        self._uncertain = True
                        self._push(_Frame(name, name == b"svg", False))
                return
            if name == b"plaintext":
                self._state = _PLAINTEXT
            elif name == b"svg" or name == b"math":
                if m is not None:
                    self_closing = _self_closing(self._buf, m)
                if not self_closing:
                    self._push(_Frame(name, name == b"svg", False))
            else:
                self._enter_raw(name)

    def _push(self, frame: _Frame) -> None:
        frames = self._frames
        if len(frames) >= _MAX_FRAMES:
            # Past the cap only a count is kept; the context stays that of the top frame,
            # and being unsure of it makes more markup judged.
            self._extra_frames += 1
            self._uncertain = True
            return
        if frame.integration:
            self._dirty.discard(len(frames))
        frames.append(frame)
        self._skip = self._skip_for()

    def _pop_to(self, size: int, at: int) -> None:
        del self._frames[size:]
        self._extra_frames = 0
        if self._dirty:
            self._dirty = {i for i in self._dirty if i < size}
        if not size:
            self._uncertain = False
        if self._hold_name and size < self._hold_frames:
            self._finish_hold(at, at)
        self._skip = self._skip_for()

    def _break_out(self, at: int) -> None:
        """Pop foreign elements up to an integration point or HTML content."""
        frames = self._frames
        size = len(frames)
        while size and not frames[size - 1].integration:
            size -= 1
        self._pop_to(size, at)

    def _start_tag(self, m: re.Match[bytes]) -> int:
        start, end = m.span()
        name = m.group(2).lower()
        frames = self._frames
        if frames:
            top = frames[-1]
            if not top.integration:
                return self._foreign_start(m, name, start, end)
            if (
                (name == b"mglyph" or name == b"malignmark")
                and not top.svg
                and top.name != b"annotation-xml"
            ):
                # Under a MathML text integration point these stay MathML.
                if len(frames) - 1 in self._dirty:
                    self._uncertain = True  # an HTML element may be the current node
                if not _self_closing(self._buf, m):
                    self._push(_Frame(name, False, False))
                return end
            if name not in _VOID and name != b"svg" and name != b"math":
                self._dirty.add(len(frames) - 1)
        if name in _MODE_NAMES:
            self._mode(name)
        sink = self._sink
        if sink == _DROP:
            if name == self._hold_name:
                self._hold_depth += 1
            elif (
                self._hold_name in _SOFT_CONTAINERS
                and name not in _VOID
                and len(self._drop_open) < _MAX_FRAMES
            ):
                self._drop_open.append(name)
            self._effects(name, m)
            return end
        if sink == _CAPTURE:
            # Only an SVG script is captured in the data state; a tag inside it ends it.
            self._finish_hold(start, start)
        if (
            self._inject is not None
            and not self.injected
            and not frames
            and (name == b"script" or name == b"body")
        ):
            self._do_inject(start)
        kind = _KIND.get(name, 0)
        if kind == _K_RAW:
            self._effects(name, m)
            if self._state == _RAW:
                return self._past(self._whole(self._buf, end, self._raw_re), end)
        elif kind == _K_FETCH:
            return self._fetch(m, name, start, end)
        elif kind == _K_SCRIPT:
            return self._script(m, start, end)
        elif kind == _K_NOSCRIPT:
            if not ((self._select or self._frameset) and self._ignored(name)):
                self._enter_raw(b"noscript")
                close = self._whole(self._buf, end, self._raw_re)
                if close is not None:
                    return self._whole_held(m, start, close, "noscript")
                self._begin_capture(m, b"noscript", "noscript", svg=False)
        elif kind in (_K_FOREIGN, _K_PLAINTEXT):
            self._effects(name, m)
        elif kind == _K_BASE and self._base_url is None and not self._template:
            href = _values(self._buf, m).get(b"href")
            if href is not None:
                self._set_base(syn.decode_attr(href))
        return end

    def _end_tag(self, m: re.Match[bytes]) -> int:
        start, end = m.span()
        name = m.group(2).lower()
        frames = self._frames
        if frames and not frames[-1].integration:
            return self._foreign_end(m, name, start, end)
        if name == self._hold_name and (self._sink != _EMIT or self._shadow):
            if self._hold_depth:
                self._hold_depth -= 1
            else:
                self._finish_hold(start, end)
            return end
        if self._sink == _DROP and self._hold_name in _SOFT_CONTAINERS:
            opened = self._drop_open
            if name in opened:
                del opened[len(opened) - 1 - opened[::-1].index(name) :]
                return end
            # An end tag of an element around the video or audio closes it too.
            self._finish_hold(start, start)
        if name == b"select" and self._select:
            self._select = False
            self._skip = self._skip_for()
        elif name == b"template" and self._template:
            self._template -= 1
            self._skip = self._skip_for()
        if frames:
            self._close_foreign(name, start)
        elif name == b"head" and self._inject is not None and not self.injected:
            self._do_inject(start)
        return end

    def _close_foreign(self, name: bytes, at: int) -> None:
        """An end tag that may close foreign elements ("any other end tag" in foreign
        content): the nearest open one of that name, and every one above it."""
        if name not in _FRAME_NAMES:
            return
        if self._extra_frames:
            self._extra_frames -= 1
            return
        frames = self._frames
        i = len(frames) - 1
        while i >= 0:
            if frames[i].name == name:
                if any(j >= i for j in self._dirty):
                    # HTML elements opened in an integration point being closed may still
                    # be open; then the browser ignores this end tag and stays in HTML.
                    self._uncertain = True
                self._pop_to(i, at)
                return
            i -= 1

    def _foreign_start(self, m: re.Match[bytes], name: bytes, start: int, end: int) -> int:
        if name in _BREAKOUT or (
            name == b"font"
            and any(a in _values(self._buf, m) for a in (b"color", b"face", b"size"))
        ):
            self._break_out(start)
            self._breakout = True
            try:
                return self._start_tag(m)
            finally:
                self._breakout = False
        sc = _self_closing(self._buf, m)
        top = self._frames[-1]
        sink = self._sink
        if sink == _DROP:
            if name == self._hold_name and not sc:
                self._hold_depth += 1
        else:
            if sink == _CAPTURE or self._shadow:
                self._finish_hold(start, start)
            if name == b"script" or name == b"image":
                return self._svg_fetch(m, name, sc, start, end, top.svg)
            if name in _FETCH:
                return self._foreign_html_fetch(m, name, start, end)
        if not sc:
            self._foreign_push(name, top, m)
        return end

    def _foreign_push(self, name: bytes, top: _Frame, m: re.Match[bytes]) -> None:
        if name == b"svg" or name == b"math":
            # A start tag in foreign content takes the namespace of the current node
            # (<svg><math> is an SVG element named math), except <svg> in annotation-xml.
            svg = top.svg or (name == b"svg" and top.name == b"annotation-xml")
            self._push(_Frame(name, svg, False))
        elif top.svg and name in _SVG_INTEGRATION:
            self._push(_Frame(name, True, True))
        elif not top.svg and name in _MATH_INTEGRATION:
            self._push(_Frame(name, False, True))
        elif not top.svg and name == b"annotation-xml":
            enc = syn.decode_attr(_values(self._buf, m).get(b"encoding", b"")).lower()
            self._push(_Frame(name, False, enc in ("text/html", "application/xhtml+xml")))

    def _foreign_end(self, m: re.Match[bytes], name: bytes, start: int, end: int) -> int:
        frames = self._frames
        if name == b"p" or name == b"br":
            self._break_out(start)
            return self._end_tag(m)
        if name == self._hold_name and (self._sink != _EMIT or self._shadow):
            if self._hold_depth:
                self._hold_depth -= 1
                return end
            if len(frames) > self._hold_frames:
                # An HTML container's end tag seen in foreign content: it is processed as
                # HTML, closing the foreign elements opened inside the container.
                del frames[self._hold_frames :]
            self._finish_hold(start, end)
            self._skip = self._skip_for()
            return end
        self._close_foreign(name, start)
        return end

    # -- judging -----------------------------------------------------------------------

    def _match_urls(
        self, values: dict[bytes, bytes], spec: tuple[tuple[bytes, bool], ...]
    ) -> tuple[Rule, str] | None:
        for attr, is_srcset in spec:
            raw = values.get(attr)
            if raw is None:
                continue
            for value in syn.decode_attr_variants(raw):
                for url in syn.srcset_urls(value) if is_srcset else (value,):
                    rule = self._rules.match_url(url, self._base_url)
                    if rule is not None:
                        return rule, url
        return None

    def _blocked_tag(self, m: re.Match[bytes], rule: Rule, rename: frozenset[bytes]) -> bytes:
        """The start tag with fetching attributes renamed and the rule attribute added.

        New attributes go right after the tag name, so they come first and win over any
        duplicate (the tokenizer keeps the first of duplicate attributes).
        """
        buf = self._buf
        prefix = self._prefix
        name_end = m.end(2)
        pieces = [buf[m.start() : name_end], b" ", prefix, b'rule="', syn.escape_attr(rule.name)]
        pieces.append(b'" type="text/plain"' if b"type" in rename else b'"')
        cursor = name_end
        for lname, at in _attr_names(buf, m):
            if lname in rename:
                pieces.append(buf[cursor:at])
                pieces.append(prefix)
                cursor = at
        pieces.append(buf[cursor : m.end()])
        return b"".join(pieces)

    def _replace(self, start: int, end: int, data: bytes) -> None:
        self._cut(start)
        self._out.append(data)
        self._mark = end

    def _fetch_hit(self, m: re.Match[bytes], name: bytes, start: int, end: int) -> _Hit | None:
        """Would this HTML fetching element reach a tracker?"""
        key = (self._buf[start:end], self._base_url, self._depth, self._max)
        verdicts = self._verdicts.fetch
        if key in verdicts:
            return verdicts[key]
        logged = self._logged
        self._logged = False
        hit = self._fetch_hit_now(m, name, start, end)
        if not self._logged:  # else the log would not come again
            _remember(verdicts, key, hit)
        self._logged = self._logged or logged
        return hit

    def _fetch_hit_now(
        self, m: re.Match[bytes], name: bytes, start: int, end: int
    ) -> _Hit | None:
        hostish = self._hostish
        if (
            hostish is not None
            and not hostish.found(self._buf, start, end)
            and not (name in _DOC_FETCH and b":" in self._buf[start:end])
        ):
            # No rule host and nothing that could disguise one: not a tracker. (A data:
            # or javascript: URL can hide a host in base64; such tags are judged fully.)
            return None
        values = _values(self._buf, m)
        if name == b"link":
            rel = syn.decode_attr(values.get(b"rel", b"")).lower().split()
            if not _LINK_RELS.intersection(rel):
                return None
        elif (
            name == b"input"
            and syn.decode_attr(values.get(b"type", b"")).strip(_WS_STR).lower() != "image"
        ):
            return None
        hit: tuple[Rule, str | None] | None = self._match_urls(values, _FETCH[name])
        if hit is None and name in _DOC_FETCH:
            hit = self._judge_doc_urls(values, _FETCH[name][0][0])
        if hit is None and name == b"iframe":
            srcdoc = values.get(b"srcdoc")
            if srcdoc is not None:
                hit = self._judge_fragment(syn.decode_attr(srcdoc).encode("utf-8", "replace"))
        return hit

    def _judge_doc_urls(
        self, values: dict[bytes, bytes], attr: bytes
    ) -> tuple[Rule, str | None] | None:
        """A data: URL holding a document, or a javascript: URL, of a frame or object."""
        raw = values.get(attr)
        if raw is None or (b":" not in raw and b"&" not in raw):
            return None
        url = syn.decode_attr(raw)
        body = syn.data_url_body(url)
        if body is not None:
            return self._judge_fragment(body)
        code = syn.javascript_url_code(url)
        if code is not None:
            rule = self._rules.match_inline(code)
            if rule is not None:
                return rule, url
        return None

    def _fetch(self, m: re.Match[bytes], name: bytes, start: int, end: int) -> int:
        iframe = name == b"iframe"
        hit = self._fetch_hit(m, name, start, end)
        if hit is None:
            if iframe:
                self._effects(name, m)
            return end
        rule, url = hit
        action = rule.action
        if self._breakout and action is Action.STRIP:
            # This tag ended foreign content (<svg><img>); without it what follows would
            # stay inside the SVG and tokenize differently, so it is neutralised instead.
            action = Action.BLOCK
        self._record(rule, name.decode("ascii"), url, self._where(start), action)
        if self._report:
            if iframe:
                self._effects(name, m)
            return end
        if action is Action.STRIP:
            if iframe:
                self._effects(name, m)
                if self._state == _RAW:
                    close = self._whole(self._buf, end, self._raw_re)
                    if close is not None:
                        return self._drop_whole(start, close)
                    self._begin_drop(start, name)
                else:  # ignored in <select>: its content is not its own
                    self._replace(start, end, b"")
            elif name in _CONTAINERS:
                self._begin_drop(start, name)
            else:
                self._replace(start, end, b"")
            return end
        self._replace(start, end, self._blocked_tag(m, rule, _RENAME[name]))
        if iframe:
            self._effects(name, m)
        return end

    def _foreign_html_fetch(self, m: re.Match[bytes], name: bytes, start: int, end: int) -> int:
        """An HTML fetching element's name in foreign content: an inert foreign element,
        unless the browser is in HTML content after all (see ``_uncertain``). Judged
        either way; only its start tag is removed (its content is tokenized as usual)."""
        hit = self._fetch_hit(m, name, start, end)
        if hit is None:
            return end
        rule, url = hit
        self._record(rule, name.decode("ascii"), url, self._where(start))
        if self._report:
            return end
        if rule.action is Action.STRIP:
            self._replace(start, end, b"")
        else:
            self._replace(start, end, self._blocked_tag(m, rule, _RENAME[name]))
        return end

    def _script(self, m: re.Match[bytes], start: int, end: int) -> int:
        self._state = _SCRIPT
        self._raw_name = b"script"
        buf = self._buf
        key = (buf[start:end], self._base_url, self._depth, self._max)
        verdicts = self._verdicts.script
        if key in verdicts:
            verdict = verdicts[key]
        else:
            verdict = self._script_verdict(m, start, end)
            _remember(verdicts, key, verdict)
        close = self._whole(buf, end, syn.SCRIPT_SCAN)
        if verdict is None or verdict is _Body.INERT:
            return self._past(close, end)
        if verdict is _Body.INLINE:
            if close is None:
                self._begin_capture(m, b"script", "script", svg=False)
                return end
            return self._whole_held(m, start, close, "script")
        rule, url = verdict
        self._record(rule, "script", url, self._where(start))
        if self._report:
            return self._past(close, end)
        if rule.action is not Action.STRIP:
            self._replace(start, end, self._blocked_tag(m, rule, _RENAME[b"script"]))
            return self._past(close, end)
        if close is None:
            self._begin_drop(start, b"script")
            return end
        return self._drop_whole(start, close)

    def _script_verdict(self, m: re.Match[bytes], start: int, end: int) -> _ScriptVerdict:
        values = _values(self._buf, m)
        if b"src" not in values:
            return _Body.INLINE if self._inline and _runs(values) else _Body.INERT
        hostish = self._hostish
        if hostish is not None and not hostish.found(self._buf, start, end):
            return None
        return self._match_urls(values, _FETCH[b"script"])

    # -- whole elements ----------------------------------------------------------------
    #
    # A script, <noscript> or <iframe> usually ends in the same input as its start tag.
    # Judged whole, it needs none of the holding machinery (capture, drop, and the
    # fast-path switches around them); the output is the same byte for byte.

    def _whole(self, buf: bytes, end: int, scan: re.Pattern[bytes]) -> re.Match[bytes] | None:
        """The end tag of the script data or raw text that starts at ``end``, if it is in
        ``buf`` and nothing before it needs the slow path (an escaped script, a held
        element, a construct past ``max_pending``); else None."""
        if self._shadow or self._hold_name:
            return None
        found = scan.search(buf, end)
        if found is None:
            return None
        j = found.start()
        if buf[j + 1] == 0x21 or j - end > self._max:  # "<!--" in script data
            return None
        close = syn.TAG_FAST.match(buf, j) or syn.TAG.match(buf, j)
        if close is None or close.end() - j > self._max:
            return None
        return close

    def _past(self, close: re.Match[bytes] | None, end: int) -> int:
        """Go on after the element's end tag if it is known, else after its start tag."""
        if close is None:
            return end
        self._state = _DATA
        return close.end()

    def _drop_whole(self, start: int, close: re.Match[bytes]) -> int:
        self._cut(start)
        self._state = _DATA
        self._mark = close_end = close.end()
        return close_end

    def _whole_held(
        self, m: re.Match[bytes], start: int, close: re.Match[bytes], element: str
    ) -> int:
        """An inline script or a <noscript> in one piece: what capturing it would do."""
        end = m.end()
        self._state = _DATA
        j = close.start()
        content = self._buf[end:j]
        self._cap_elem = element
        hit = self._judge_capture(content)
        if hit is None:
            return close.end()
        rule = hit[0]
        self._record(rule, element, hit[1], self._where(start))
        if self._report:
            return close.end()
        if rule.action is Action.STRIP:
            return self._drop_whole(start, close)
        self._cap_tag = self._buf[start:end]
        self._cap_svg = False
        self._replace(start, j, self._blocked_capture(rule, content))
        self._cap_tag = b""
        return close.end()

    def _svg_fetch(
        self, m: re.Match[bytes], name: bytes, sc: bool, start: int, end: int, svg: bool
    ) -> int:
        # SVG <script> and <image> fetch from href (or the older xlink:href). The content
        # of an SVG script is ordinary foreign content, not script data. (A MathML script
        # runs nothing; it is judged the same way in case the browser is in HTML content.)
        element = ("svg:" if svg else "math:") + name.decode("ascii")
        values = _values(self._buf, m)
        spec: tuple[tuple[bytes, bool], ...]
        if svg:
            spec = _SVG_FETCH if name == b"script" else _SVG_IMAGE_FETCH
        else:
            spec = _MATH_FETCH if name == b"script" else _MATH_IMAGE_FETCH
        hit = self._match_urls(values, spec)
        if hit is None:
            if (
                name == b"script"
                and self._inline
                and (svg or self._uncertain)
                and not sc
                and b"href" not in values
                and b"xlink:href" not in values
                and b"src" not in values
                and _runs(values)
            ):
                self._begin_capture(m, b"script", element, svg=True)
            return end
        rule, url = hit
        self._record(rule, element, url, self._where(start))
        if self._report:
            return end
        if rule.action is Action.STRIP:
            if sc:
                self._replace(start, end, b"")
            else:
                self._begin_drop(start, name)
            return end
        rename = _SVG_SCRIPT_RENAME if name == b"script" else _SVG_RENAME
        self._replace(start, end, self._blocked_tag(m, rule, rename))
        return end

    def _judge_fragment(self, data: bytes) -> _Hit | None:
        """Would this HTML (noscript content, srcdoc) fetch from a tracker?

        The fragment is run through a report-only rewriter; anything URL-like or any inline
        marker in its text counts too, since with scripting off the browser may read it
        differently (a tag left open at the end continues past ``</noscript>``).

        The verdict depends on nothing else than the key below, and pages repeat the same
        fragments (tracking pixels in ``<noscript>``) from response to response, so short
        fragments are judged once.
        """
        rules = self._rules
        key = (id(rules), data, self._base_url, self._depth, self._max)
        if len(data) <= _FRAGMENT_CACHEABLE:
            cached = _FRAGMENT_CACHE.get(key)
            if cached is not None and cached[0] is rules:
                return cached[1]
        hit, cacheable = self._judge_fragment_now(data)
        if not cacheable:
            self._logged = True
        elif len(data) <= _FRAGMENT_CACHEABLE:
            if len(_FRAGMENT_CACHE) >= _FRAGMENT_CACHE_MAX:
                _FRAGMENT_CACHE.clear()
            _FRAGMENT_CACHE[key] = (rules, hit)
        return hit

    def _judge_fragment_now(self, data: bytes) -> tuple[_Hit | None, bool]:
        """The verdict, and whether it may be reused (nothing was logged)."""
        if self._depth < _MAX_FRAGMENT_DEPTH:
            sub = HTMLRewriter(
                self._rules, report_only=True, max_pending=self._max, line_numbers=False
            )
            sub._depth = self._depth + 1
            if self._base_url is not None:
                sub._set_base(self._base_url)
            sub.feed(data)
            sub.close()
            reusable = not sub._logged
            if sub._hits:
                return (sub._hits[0], sub.findings[0].url), reusable
        else:
            reusable = True
        text = syn.decode_attr(data)
        for url in _URLISH.findall(text):
            rule = self._rules.match_url(url, self._base_url)
            if rule is not None:
                return (rule, url), reusable
        rule = self._rules.match_inline(text)
        return ((rule, None) if rule is not None else None), reusable

    # -- held elements -----------------------------------------------------------------

    def _hold(self, name: bytes) -> None:
        self._hold_name = name
        self._hold_depth = 0
        self._hold_frames = len(self._frames)

    def _begin_drop(self, start: int, name: bytes) -> None:
        self._cut(start)
        self._sink = _DROP
        self._hold(name)
        self._skip = self._skip_for()

    def _begin_capture(self, m: re.Match[bytes], name: bytes, element: str, *, svg: bool) -> None:
        start, end = m.span()
        self._cap_tag = self._buf[start:end]
        self._cap_elem = element
        self._cap_where = self._where(start)
        self._cap_svg = svg
        self._cap = []
        self._cap_len = 0
        if self._report:
            self._cut(end)
            self._shadow = True
        else:
            self._cut(start)
            self._mark = end
            self._sink = _CAPTURE
        self._hold(name)
        self._skip = self._skip_for()

    def _finish_hold(self, at: int, end: int) -> None:
        """The held element ends: its end tag spans ``at:end`` (empty if it just stops)."""
        if self._sink == _DROP:
            self._cut(end)
            self._sink = _EMIT
            self._hold_name = b""
            self._skip = self._skip_for()
        else:
            self._cut(at)
            self._finish_capture(end if end > at else None)

    def _judge_capture(self, content: bytes) -> tuple[Rule, str | None] | None:
        if self._cap_elem == "noscript":
            return self._judge_fragment(content)
        rule = self._rules.match_inline(syn.decode_text(content))
        return (rule, None) if rule is not None else None

    def _finish_capture(self, end_tag_end: int | None) -> None:
        """Judge the captured element and send it on; the end tag (if any) follows."""
        content = b"".join(self._cap)
        self._cap = []
        self._cap_len = 0
        self._hold_name = b""
        hit = self._judge_held(content)
        shadow = self._shadow
        self._shadow = False
        self._sink = _EMIT
        self._skip = self._skip_for()
        if shadow:
            return
        out = self._out
        if hit is None:
            out.append(self._cap_tag)
            out.append(content)
        elif hit[0].action is Action.STRIP or (
            self._cap_elem == "noscript" and len(content) > self._max
        ):
            if end_tag_end is not None:
                self._mark = end_tag_end
        else:
            out.append(self._blocked_capture(hit[0], content))
        self._cap_tag = b""

    def _blocked_capture(self, rule: Rule, content: bytes) -> bytes:
        tag = self._cap_tag
        m = syn.TAG.match(tag)
        if m is None:  # pragma: no cover - the tag matched when it was captured
            return tag + content
        saved = self._buf
        self._buf = tag
        try:
            if self._cap_elem == "noscript":
                if syn.raw_end(b"template").search(content) is not None:
                    # The content could close our <template> early: drop it instead.
                    return self._blocked_tag(m, rule, _EMPTY)
                # With scripting off the content is parsed as HTML; inside <template> it is
                # inert (nothing fetched), yet a consent tool can still revive it.
                return self._blocked_tag(m, rule, _EMPTY) + b"<template>" + content + b"</template>"
            rename = _SVG_SCRIPT_RENAME if self._cap_svg else _RENAME[b"script"]
            return self._blocked_tag(m, rule, rename) + content
        finally:
            self._buf = saved

    def _judge_held(self, content: bytes) -> tuple[Rule, str | None] | None:
        """Judge held content; past max_pending only its first max_pending bytes count,
        so the verdict does not depend on how the input was chunked."""
        if len(content) > self._max:
            self._note_overflow(f"{self._cap_elem} longer than max_pending ({self._max} bytes)")
            content = content[: self._max]
        hit = self._judge_capture(content)
        if hit is not None:
            self._record(hit[0], self._cap_elem, hit[1], self._cap_where)
        return hit

    def _capture_overflow(self) -> None:
        """The held element grew past max_pending: decide on what is held so far."""
        content = b"".join(self._cap)
        self._cap = []
        self._cap_len = 0
        hit = self._judge_held(content)
        if self._shadow:
            self._shadow = False
            self._hold_name = b""
            return
        if hit is not None and hit[0].action is Action.STRIP:
            self._sink = _DROP  # keep dropping up to the end tag
            return
        self._hold_name = b""
        self._sink = _EMIT
        self._skip = self._skip_for()
        if hit is None:
            self._out.append(self._cap_tag)
            self._out.append(content)
        elif self._cap_elem == "noscript":
            # Too long to wrap safely: drop the rest of it.
            self._hold_name = b"noscript"
            self._sink = _DROP
        else:
            self._out.append(self._blocked_capture(hit[0], content))

    def _note_overflow(self, reason: str) -> None:
        self.overflowed = True
        self._logged = True
        if self.overflow_reason is None:
            self.overflow_reason = reason
        _log.warning("optout_mw: buffer_overflow: %s; passed through unjudged", reason)

    def _set_base(self, url: str) -> None:
        """The document base URL ("frozen base URL" of the first <base href>)."""
        self._base_url = url
        hostish = self._hostish_all
        self._same_origin = (
            hostish is not None and not hostish.found(url.encode("utf-8", "replace"))
        )
        self._hostish = hostish if self._same_origin else None
        self._skip = self._skip_for()

    def _do_inject(self, at: int) -> None:
        assert self._inject is not None
        self._cut(at)
        self._out.append(self._inject)
        self.injected = True
        self._skip = self._skip_for()

    # -- tags longer than max_pending ----------------------------------------------------

    def _long_tag(self, m: re.Match[bytes]) -> int:
        """A complete tag longer than max_pending: treated exactly like one that overflowed
        while incomplete, so the output does not depend on chunking."""
        self._note_overflow(f"tag longer than max_pending ({self._max} bytes)")
        end = m.end()
        sc = not m.group(1) and _self_closing(self._buf, m)
        self._long_tag_done(m.group(2).lower(), bool(m.group(1)), sc, end)
        return end

    def _long_tag_done(self, name: bytes, is_end: bool, self_closing: bool, end: int) -> None:
        """Effects of a tag passed through unjudged: tokenizer state and held elements."""
        held = name == self._hold_name and (self._sink != _EMIT or self._shadow)
        if is_end:
            if held:
                if self._hold_depth:
                    self._hold_depth -= 1
                else:
                    self._finish_hold(end, end)
            return
        if held and self._sink == _DROP:
            self._hold_depth += 1
        frames = self._frames
        if not frames or frames[-1].integration:
            self._effects(name, None, self_closing)

    def _tag_overflow(self, buf: bytes, i: int) -> int:
        end_tag = buf[i + 1] == 0x2F
        m = _NAME.match(buf, i + (2 if end_tag else 1))
        assert m is not None
        self._note_overflow(f"tag longer than max_pending ({self._max} bytes)")
        self._tag_end = end_tag
        self._tag_name = m.group().lower()
        self._tag_sub = 0 if m.end() < len(buf) else 7
        self._tag_slash = False
        self._state = _TAG
        return m.end()

    def _scan_tag(self, buf: bytes, pos: int) -> int:
        """Walk the tokenizer's tag states byte by byte (rarely used, for huge tags).

        Sub-states: 0 before attribute name (and after a quoted value), 1 attribute name,
        2 after attribute name, 3 before attribute value, 4/5 double/single-quoted value,
        6 unquoted value, 7 tag name.
        """
        n = len(buf)
        sub = self._tag_sub
        while pos < n:
            c = buf[pos]
            ws = c in b"\t\n\f\r "
            if sub == 4 or sub == 5:
                j = buf.find(b'"' if sub == 4 else b"'", pos)
                if j < 0:
                    pos = n
                    break
                pos = j + 1
                sub = 0
                continue
            if c == 0x3E:  # ">" ends the tag in every state but the quoted values
                self._state = _DATA
                self._long_tag_done(self._tag_name, self._tag_end, self._tag_slash, pos + 1)
                return pos + 1
            # "self-closing start tag state" is entered by "/" outside a value.
            self._tag_slash = c == 0x2F and sub != 6 and sub != 3
            if sub == 7:
                sub = 0 if (ws or c == 0x2F) else 7
            elif sub == 0:
                if not (ws or c == 0x2F):
                    sub = 1
            elif sub == 1:
                if ws:
                    sub = 2
                elif c == 0x2F:
                    sub = 0
                elif c == 0x3D:
                    sub = 3
            elif sub == 2:
                if c == 0x3D:
                    sub = 3
                elif c == 0x2F:
                    sub = 0
                elif not ws:
                    sub = 1
            elif sub == 3:
                if c == 0x22:
                    sub = 4
                elif c == 0x27:
                    sub = 5
                elif not ws:
                    sub = 6
            elif ws:  # sub == 6
                sub = 0
            pos += 1
        self._tag_sub = sub
        return pos


_WARM_RULES = RuleSet(
    [Rule(name="warm-up", hosts=("tracker.invalid",), inline_markers=("warmUp(",))]
)
_WARM_PAGE = (
    b"<!DOCTYPE html><html><head><title>t</title>"
    b"<script>warmUp(1)</script><script>first()</script>"
    b'<script src="https://tracker.invalid/a.js"></script></head><body><p>text</p>'
    b'<noscript><img src="https://tracker.invalid/p.gif"></noscript>'
    b'<iframe src="https://tracker.invalid/f"><p>x</p></iframe><img src="/local.png">'
    b"</body></html>"
)


def warm_up() -> None:
    """Compile the data-state patterns an ordinary page needs, so that the first page a
    process rewrites does not pay for them (they take tens of milliseconds each to
    compile, and depend only on the tokenizer context, not on the rules)."""
    for inject in (None, b"<script>0</script>"):
        rewriter = HTMLRewriter(_WARM_RULES, inject=inject)
        rewriter.feed(_WARM_PAGE)
        rewriter.close()
