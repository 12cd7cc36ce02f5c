"""``RequestView``: one request as optout-mw sees it, built once per call by an adapter.

The view holds what the middleware may need of a request (method, path, query, scheme,
any header) without reading any of it up front, and computes the :class:`Decision` only
when something first asks for it: the application (through :func:`get_decision`,
``request.state.optout``, the FastAPI dependency or the environ/scope key) or the response
path, once a response turns out to need it (an HTML page, an endpoint). A read by the
application is remembered, so that the response carries ``Vary`` for the signals the
decision was made from, whatever its content type: a JSON answer that depends on the
decision must not be served from a shared cache to a visitor sending different signals.

What the adapters store under ``"optout_mw.decision"`` (and in ``request.state.optout``) is
a :class:`PendingDecision`: a :class:`Decision` whose every attribute reads the view's
decision, so the application holds an ordinary decision and the middleware learns that it
was read. A request that reads nothing and answers with a non-HTML response never computes
a decision and never scans its headers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields
from typing import Any, Final

from .decision import DECISION_KEY, Decider, Decision
from .errors import MiddlewareNotInstalled


class RequestView(ABC):
    """The protocol-neutral view of one request. Subclasses (one per adapter) say how the
    request is read; everything else is shared.

    :param decider: the engine's decider for the configuration in force.
    :param clock: seconds since the epoch, read once, when the decision is computed.
    """

    __slots__ = ("_clock", "_decider", "_decision", "_now", "read_by_app")

    def __init__(self, decider: Decider, clock: Callable[[], float]) -> None:
        self._decider = decider
        self._clock = clock
        self._decision: Decision | None = None
        self._now: float | None = None
        #: Whether the application read the decision (the response then carries ``Vary``).
        self.read_by_app = False

    # --- what each adapter provides -------------------------------------------------------

    @property
    @abstractmethod
    def method(self) -> str: ...

    @property
    @abstractmethod
    def path(self) -> str: ...

    @property
    @abstractmethod
    def query(self) -> str: ...

    @property
    @abstractmethod
    def scheme(self) -> str: ...

    @abstractmethod
    def header(self, name: str) -> str | None:
        """The value of header ``name`` (lowercase); repeated fields joined as HTTP allows
        (``", "``, and ``"; "`` for ``cookie``); ``None`` when absent."""

    @abstractmethod
    def headers(self) -> Iterator[tuple[str, str]]:
        """Every header as ``(lowercase name, value)``, repeated fields not joined."""

    def signal_headers(self) -> tuple[str | None, str | bytes | None]:
        """``(Sec-GPC, Cookie)`` as the decider takes them: repeated ``Sec-GPC`` fields
        joined with ``", "``, ``Cookie`` fields with ``"; "``. An adapter may return raw
        bytes for the cookie header (decoded only when the decision is not cached)."""
        return self.header("sec-gpc"), self.header("cookie")

    # --- the decision ---------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The clock reading of this request (taken once, on first use)."""
        now = self._now
        if now is None:
            now = self._now = self._clock()
        return now

    @property
    def decided(self) -> bool:
        """Whether the decision has been computed (by anyone)."""
        return self._decision is not None

    @property
    def decision(self) -> Decision:
        """The decision, computed on first use. Reading it here does not count as the
        application's read: the middleware's own reads use this."""
        decision = self._decision
        if decision is None:
            gpc, cookie = self.signal_headers()
            decision = self._decision = self._decider.for_request(gpc, cookie, self.now)
        return decision

    def decision_for_app(self) -> Decision:
        """The decision, as the application reads it: remembered for ``Vary``."""
        self.read_by_app = True
        return self.decision




class PendingDecision(Decision):
    """The request's :class:`Decision`, as the application sees it: computed on first use of
    any of its attributes, and remembering that the application read it (the response then
    carries ``Vary``). It is a :class:`Decision` (``isinstance`` holds, every attribute and
    method works) and equal to the decision it stands for.
    """

    __slots__ = ("_view",)
    _view: RequestView

    def __init__(self, view: RequestView) -> None:
        _set_view(self, view)

    def resolve(self) -> Decision:
        """The decision itself (computed now if it was not yet)."""
        return self._view.decision_for_app()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PendingDecision):
            other = other.resolve()
        return self.resolve() == other

    def __hash__(self) -> int:
        return hash(self.resolve())

    def __repr__(self) -> str:
        return repr(self.resolve())


def _delegate(name: str) -> property:
    def read(self: PendingDecision) -> Any:
        return getattr(self.resolve(), name)

    return property(read, doc=f"The decision's ``{name}``.")


# Each field of Decision reads the view's decision: these properties come before the
# parent's slots in the lookup, so this object's own (unset) field slots are never read.
for _field in fields(Decision):
    setattr(PendingDecision, _field.name, _delegate(_field.name))
del _field

_new_pending = object.__new__
#: The slot's own setter: a Decision is frozen, so its ``__setattr__`` refuses.
_set_view: Callable[[PendingDecision, RequestView], None] = vars(PendingDecision)["_view"].__set__


def pending_decision(view: RequestView) -> PendingDecision:
    """``PendingDecision(view)`` without a Python-level ``__init__`` call: one is made for
    every request."""
    pending: PendingDecision = _new_pending(PendingDecision)
    _set_view(pending, view)
    return pending


#: Header names whose repeated fields join with ``"; "`` rather than ``", "`` (RFC 9113
#: §8.2.3 and RFC 6265 §5.4: one ``Cookie`` header, pairs separated by ``"; "``).
SEMICOLON_JOINED: Final = frozenset({"cookie"})


def get_decision(request: Any) -> Decision:
    """The decision for ``request``: a WSGI environ, an ASGI scope, a Starlette/FastAPI
    ``Request`` or a Flask/Werkzeug ``Request``.

    :raises MiddlewareNotInstalled: when no optout-mw middleware handled the request.
    """
    mapping: Any = None
    for attribute in ("scope", "environ"):
        inner = getattr(request, attribute, None)
        if isinstance(inner, Mapping):
            mapping = inner
            break
    else:
        if isinstance(request, Mapping):
            mapping = request
    decision = mapping.get(DECISION_KEY) if mapping is not None else None
    if not isinstance(decision, Decision):
        raise MiddlewareNotInstalled(
            "no optout-mw decision on this request: wrap the application with "
            "OptOutWSGIMiddleware (Flask: app.wsgi_app = OptOutWSGIMiddleware(app.wsgi_app, "
            "config=...)) or add OptOutASGIMiddleware (Starlette/FastAPI: "
            "app.add_middleware(OptOutASGIMiddleware, config=...))"
        )
    if isinstance(decision, PendingDecision):
        decision.resolve()  # asking for the decision is reading it (the response varies)
    return decision
