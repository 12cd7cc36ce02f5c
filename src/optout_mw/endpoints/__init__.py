"""The opt-out surface, sans-IO: request in, response out.

Serves the "Do Not Sell or Share My Personal Information" page and its POST handlers
(opt out; opt back in with a two-step, CSRF-protected confirmation), ``/.well-known/gpc.json``
and a JSON status endpoint. The adapters translate to and from WSGI/ASGI and call
:class:`Endpoints`; nothing here touches the network.

The package's parts: :mod:`._http` (request, response, forms, ``next``, cross-site checks),
:mod:`.pages` (HTML from template files), :mod:`.choices` (the opt-out and opt-in flows).
The cookies a choice sets come from :class:`~optout_mw.writeback.WriteBack`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from optout_mw.config import OptOutConfig
from optout_mw.decision import Decider, Decision
from optout_mw.writeback import WriteBack

from ._http import EndpointRequest as EndpointRequest
from ._http import EndpointResponse as EndpointResponse
from ._http import cross_site_reason as cross_site_reason
from ._http import json_response, query_next
from ._http import prefers_json as prefers_json
from ._http import safe_next as safe_next
from .choices import OPT_IN_SALT as OPT_IN_SALT
from .choices import OPT_IN_TOKEN_MAX_AGE as OPT_IN_TOKEN_MAX_AGE
from .choices import ChoiceEvent as ChoiceEvent
from .choices import ChoiceFlows
from .pages import TEMPLATE_VARIABLES as TEMPLATE_VARIABLES
from .pages import Pages

logger = logging.getLogger("optout_mw")

#: The GPC support resource (W3C GPC §"The gpc.json well-known resource", RFC 8615).
GPC_JSON_PATH: Final = "/.well-known/gpc.json"


class Endpoints:
    """The opt-out surface for one configuration: routes a request to the page, the choice
    flows, ``gpc.json`` or the status endpoint. Stateless per request; build once.

    :param decider: the configuration's one :class:`~optout_mw.decision.Decider` (the flows
        use it to tell what the next request will see).
    :param writeback: the configuration's one :class:`~optout_mw.writeback.WriteBack`: the
        cookies of a choice, and the write-back cookies of the page itself.
    :raises ConfigError: when ``config.optout_page_template`` cannot be read or uses an
        unknown ``$variable``.
    """

    __slots__ = ("_choices", "_pages", "_writeback", "config", "paths")

    def __init__(self, config: OptOutConfig, *, decider: Decider, writeback: WriteBack) -> None:
        self.config = config
        paths: dict[str, str] = {}
        if config.serve_gpc_json:
            paths[GPC_JSON_PATH] = "gpc"
        if config.status_path:
            paths[config.status_path] = "status"
        if config.optout_page_path:
            paths[config.optout_page_path] = "page"
        #: The enabled endpoint paths, mapped to what each serves (``path in paths`` is all
        #: the hot path needs).
        self.paths: Mapping[str, str] = paths
        self._writeback = writeback
        self._pages = Pages(config)
        self._choices = ChoiceFlows(config, decider=decider, writeback=writeback,
                                    pages=self._pages)

    def handles(self, path: str) -> bool:
        """Whether ``path`` is one of the enabled endpoints (one dict lookup)."""
        return path in self.paths

    def wants_body(self, method: str, path: str) -> bool:
        """Whether the adapter should read the request body (POST to the page only)."""
        return method == "POST" and self.paths.get(path) == "page"

    def can_opt_in(self, decision: Decision) -> bool:
        """Whether the page offers this visitor to opt back in (docs/endpoints.md)."""
        return self._choices.can_opt_in(decision)

    def handle(self, request: EndpointRequest, decision: Decision, now: float) -> EndpointResponse:
        """Answer one request to an enabled endpoint. Never raises for client input."""
        try:
            response = self._route(request, decision, now)
        except Exception:
            logger.exception("optout_mw: the opt-out surface failed on %s", request.path)
            response = self._pages.error_for(
                request, 500, "Something went wrong on our side. Please try again.", None)
        if request.method == "HEAD":
            response.body = b""
        return response

    def _route(self, request: EndpointRequest, decision: Decision, now: float) -> EndpointResponse:
        kind = self.paths.get(request.path)
        pages = self._pages
        if kind is None:
            return pages.error_for(request, 404, "Not found.", None)
        if kind == "page":
            if request.method in ("GET", "HEAD"):
                response = pages.choices(decision, query_next(request.query),
                                         offer_opt_in=self._choices.can_opt_in(decision))
                response.headers.extend(
                    ("Set-Cookie", cookie)
                    for cookie in self._writeback.response_cookies(decision, now)
                )
                return response
            if request.method == "POST":
                return self._choices.post(request, decision, now)
            return pages.error_for(request, 405, "This page accepts GET and POST requests "
                                   "only.", None, allow="GET, HEAD, POST")
        if request.method not in ("GET", "HEAD"):
            return pages.error_for(request, 405, "This resource accepts GET requests only.",
                                   None, allow="GET, HEAD", as_json=True)
        if kind == "gpc":
            # W3C GPC: "gpc": true states the site abides by GPC; lastUpdate is a full-date.
            document: dict[str, Any] = {"gpc": True}
            if self.config.gpc_json_last_update is not None:
                document["lastUpdate"] = self.config.gpc_json_last_update
            return json_response(200, document)
        return json_response(200, decision.to_json(), vary=self.config.vary)
