"""FastAPI dependency for the opt-out decision.

.. code-block:: python

    from optout_mw.fastapi import OptOutDecision

    @app.get("/")
    def home(decision: OptOutDecision) -> dict[str, bool]:
        return {"ads": decision.sale_permitted}

Requires FastAPI (``pip install optout-mw[examples]`` or your own FastAPI install).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from .decision import Decision
from .request import get_decision


def optout_decision(request: Request) -> Decision:
    """Dependency returning the request's :class:`~optout_mw.Decision`.

    :raises optout_mw.MiddlewareNotInstalled: when ``OptOutASGIMiddleware`` is missing.
    """
    return get_decision(request)


#: ``decision: OptOutDecision`` in a path operation's parameters injects the decision.
OptOutDecision = Annotated[Decision, Depends(optout_decision)]
