"""``ResponseEnforcer``: every response-level rule, written once for both adapters.

One enforcer per response, sans-IO and protocol-neutral. The adapter hands it the status
and headers once and the body chunks as they come, and sends what it returns::

    enforcer = engine.enforcer(view)
    start = enforcer.start(status, headers)   # edited headers, a hold, or a refusal
    out = enforcer.body(chunk, more=more)     # the bytes to send for this chunk
    headers = enforcer.take_start()           # after body(): the held start, once

What lives here: which responses change (eligibility), ``Vary``, the write-back cookies,
``ETag`` weakening, ``Content-Length``, body digests, the 502 refusal of pages that cannot
be checked, and the body pipeline (decode, rewrite with injection, re-encode). Header
lists come in the adapter's own type (ASGI ``bytes`` pairs, WSGI ``str`` pairs) and go back
in it; edits are made once, on ``str`` pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from optout_mw.headers import (
    get_all,
    get_header,
    merge_vary,
    remove_headers,
    set_header,
    weaken_etag,
)

from ._pipeline import BodyPipeline
from ._plan import BODY_DIGEST_HEADERS, REFUSABLE, SkipReason, plan_response, refusal

if TYPE_CHECKING:
    from optout_mw.engine import Engine
    from optout_mw.metrics import Observer
    from optout_mw.request import RequestView

#: ``(name, value)`` pairs as the enforcer edits them.
Headers = list[tuple[str, str]]

_DROP_ON_REWRITE = ("content-length", *BODY_DIGEST_HEADERS)


class Refusal(NamedTuple):
    """A response sent instead of the application's (status, headers, body)."""

    status: int
    headers: Headers
    body: bytes


class Start(NamedTuple):
    """What to do with the application's response start."""

    #: The headers to send, in the adapter's own type; ``None``: send the app's unchanged.
    headers: Any = None
    #: Do not send the start yet: call :meth:`ResponseEnforcer.body` first, then
    #: :meth:`ResponseEnforcer.take_start` (the body's length may still be set).
    hold: bool = False
    #: Send this instead of the application's response, and drop the application's body.
    refusal: Refusal | None = None


#: The start of a response that passes through unchanged.
UNCHANGED = Start()


class ResponseEnforcer:
    """Applies one configuration's response rules to one response.

    :param engine: the engine in force for the request.
    :param view: the request (its decision is computed only if the response needs it).
    :param observer: counters and logs.
    :param raw: the adapter's headers are ``bytes`` pairs (ASGI) rather than ``str``.
    """

    __slots__ = (
        "_engine", "_held", "_observer", "_pipeline", "_raw", "_started", "_view",
        "declared_length", "refusal",
    )

    def __init__(
        self, engine: Engine, view: RequestView, observer: Observer, *, raw: bool
    ) -> None:
        self._engine = engine
        self._view = view
        self._observer = observer
        self._raw = raw
        self._pipeline: BodyPipeline | None = None
        self._held: Headers | None = None
        self._started = False
        #: Set when :meth:`body` found the response cannot be sent: send it instead.
        self.refusal: Refusal | None = None
        #: The application's ``Content-Length`` of a held response, before it was removed
        #: (WSGI uses it to tell a whole body from a first chunk).
        self.declared_length: int | None = None

    # --- the start --------------------------------------------------------------------

    def start(self, status: int, headers: Sequence[tuple[Any, Any]]) -> Start:
        """Judge the response start. Call once; :meth:`restart` for a WSGI ``exc_info``
        replacement. Raises ``RuntimeError`` on a second call."""
        if self._started:
            raise RuntimeError("optout_mw: the response was started twice")
        self._started = True
        return self._judge(status, headers)

    def restart(self, status: int, headers: Sequence[tuple[Any, Any]]) -> Start:
        """Judge a replacement start (PEP 3333 ``start_response`` with ``exc_info``): the
        first response's body pipeline is dropped."""
        self._pipeline = None
        self._held = None
        self.refusal = None
        self.declared_length = None
        self._started = True
        return self._judge(status, headers)

    def _judge(self, status: int, headers: Sequence[tuple[Any, Any]]) -> Start:
        if passes_unchanged(self._engine, self._view, status == 304, headers, self._raw):
            return UNCHANGED
        content_type = _content_type(headers, self._raw)
        html = content_type is not None and self._engine.is_html(content_type)
        if not html and status != 304:
            # Not a page, but the application read the decision: the signals join Vary.
            edited = self._to_str(headers)
            if _add_vary(edited, self._engine.vary):
                return Start(self._to_out(edited))
            return UNCHANGED
        return self._judge_page(status, headers, content_type, html)

    def _judge_page(
        self, status: int, raw_headers: Sequence[tuple[Any, Any]], content_type: Any, html: bool
    ) -> Start:
        engine = self._engine
        view = self._view
        decision = view.decision
        applies = engine.path_applies(view.path)
        headers = self._to_str(raw_headers)
        if not engine.wants_rewrite(decision, applies):
            changed = False
            if html or view.read_by_app:
                if (applies or view.read_by_app) and _add_vary(headers, engine.vary):
                    changed = True
                if html and decision.signals:
                    cookies = engine.writeback.response_cookies(decision, view.now)
                    if cookies:
                        headers.extend(("Set-Cookie", value) for value in cookies)
                        changed = True
            return Start(self._to_out(headers)) if changed else UNCHANGED
        plan = plan_response(
            method=view.method,
            status=status,
            content_type=self._text(content_type),
            content_encoding=get_header(headers, "content-encoding"),
            wants_rewrite=True,
        )
        if plan.html or view.read_by_app:
            _add_vary(headers, engine.vary)
        if plan.html:
            cookies = engine.writeback.response_cookies(decision, view.now)
            headers.extend(("Set-Cookie", value) for value in cookies)
        if plan.skip_reason is not None:
            self._observer.skipped(plan.skip_reason, view.path)
            if plan.skip_reason in REFUSABLE and engine.refuses:
                return Start(refusal=self._refuse(plan.skip_reason))
        if engine.enforce:
            if plan.drop_length:
                remove_headers(headers, ("content-length",))
            if plan.weaken_etag:
                _weaken_etag(headers)
        if not plan.rewrite:
            return Start(self._to_out(headers))
        self._pipeline = engine.new_pipeline(
            plan, view.path, decision, get_header(headers, "content-security-policy"),
            self._observer,
        )
        if not engine.enforce:
            return Start(self._to_out(headers))  # report mode changes no byte: no hold
        declared = get_header(headers, "content-length")
        if declared is not None and declared.strip().isdigit():
            self.declared_length = int(declared)
        remove_headers(headers, _DROP_ON_REWRITE)
        _weaken_etag(headers)
        self._held = headers
        return Start(hold=True)

    # --- the body ---------------------------------------------------------------------

    @property
    def rewrites(self) -> bool:
        """Whether body chunks go through the pipeline (else :meth:`body` returns them)."""
        return self._pipeline is not None

    def body(self, chunk: bytes, more: bool) -> bytes:
        """The bytes to send for ``chunk``; ``more=False`` on the last one (which may be
        empty). After a call, check :attr:`refusal`, then :meth:`take_start`."""
        pipeline = self._pipeline
        if pipeline is None:
            return chunk
        out = pipeline.feed(chunk)
        failed = pipeline.failed
        if failed in REFUSABLE and self._held is not None and self._engine.refuses:
            assert failed is not None
            self._observer.skipped(failed, self._view.path)
            self.refusal = self._refuse(failed)
            return b""
        if not more:
            out += pipeline.close()
            self._pipeline = None
            if pipeline.failed is not None:
                self._observer.skipped(pipeline.failed, self._view.path)
            if self._held is not None:
                # The whole body came at once: its new length is known.
                set_header(self._held, "content-length", str(len(out)))
        return out

    def take_start(self) -> Any:
        """The held start's headers (in the adapter's type), once; ``None`` when nothing is
        held (any more)."""
        held = self._held
        if held is None:
            return None
        self._held = None
        return self._to_out(held)

    # --- helpers ----------------------------------------------------------------------

    def _refuse(self, reason: SkipReason) -> Refusal:
        self._pipeline = None
        self._held = None
        status, headers, body = refusal(reason, self._engine.vary)
        return Refusal(status, headers, body)

    def _to_str(self, headers: Sequence[tuple[Any, Any]]) -> Headers:
        if self._raw:
            return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        return list(headers)

    def _to_out(self, headers: Headers) -> Any:
        if self._raw:
            return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        return headers

    def _text(self, value: Any) -> str | None:
        if value is None:
            return None
        return value.decode("latin-1") if self._raw else str(value)


def passes_unchanged(
    engine: Engine,
    view: RequestView,
    not_modified: bool,
    headers: Sequence[tuple[Any, Any]],
    raw: bool,
) -> bool:
    """Whether a response passes with no change at all, decided without an enforcer: not a
    page (by its ``Content-Type``, judged once per value), not a ``304``, and the
    application did not read the decision. The usual response on most sites, so the
    adapters ask this first and build an enforcer only when it says no.

    :param not_modified: the status is ``304`` (it revalidates a page that may have been
        rewritten, and often carries no ``Content-Type``).
    """
    if not_modified or (view.read_by_app and engine.vary):
        return False
    name: Any = b"content-type" if raw else "content-type"
    for key, value in headers:
        if key == name or (len(key) == 12 and key.lower() == name):
            html = engine.html_types.get(value)
            return not (engine.learn_content_type(value) if html is None else html)
    return True


def _content_type(headers: Sequence[tuple[Any, Any]], raw: bool) -> Any:
    name: Any = b"content-type" if raw else "content-type"
    for key, value in headers:
        if key == name or (len(key) == 12 and key.lower() == name):
            return value
    return None


def _add_vary(headers: Headers, vary: tuple[str, ...]) -> bool:
    """Merge ``vary`` into the ``Vary`` header in place; whether anything changed."""
    if not vary:
        return False
    existing = get_all(headers, "vary")
    if not existing:
        headers.append(("Vary", ", ".join(vary)))
        return True
    merged = merge_vary(existing, vary)
    if merged is None:
        return False
    set_header(headers, "vary", merged)
    return True


def _weaken_etag(headers: Headers) -> None:
    etag = get_header(headers, "etag")
    if etag is not None:
        set_header(headers, "etag", weaken_etag(etag))
