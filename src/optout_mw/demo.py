"""The demo: its configuration, the hints it prints, and serving it on 127.0.0.1.

Used by ``optout-mw demo`` and by the example apps (``python -m examples.flask_app``,
``python -m examples.starlette_app [--fastapi]``), so every way of running the demo gives
the same hints, and the hints are right for the mode and configuration in force.
"""

from __future__ import annotations

import contextlib
import html
import importlib
import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from socketserver import ThreadingMixIn
from typing import Any, Final
from wsgiref.simple_server import WSGIServer, make_server

from ._types import StartResponse, WSGIEnviron
from .config import Mode, OptOutConfig, development_config, env_var_name, load_config
from .errors import ConfigError
from .request import get_decision
from .wsgi import OptOutWSGIMiddleware

DEFAULT_PORT: Final = 8000
#: The hosts of the demo pages' vendor tags, for ``grep -E``.
VENDOR_PATTERN: Final = "googletagmanager|facebook|tiktok|bing|doubleclick"

#: The demo's own settings, under any ``OPTOUT_*`` variable: every preset, the write-back of
#: ``usprivacy`` and the IAB API stubs on, so the pages show everything the middleware does.
DEMO_DEFAULTS: Final[Mapping[str, object]] = {
    "presets": ("all",),
    "write_us_privacy": True,
    "inject_stubs": True,
    "gpc_json_last_update": "2026-11-01",
}

DEV_WARNING: Final = """\
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! optout-mw demo: DEVELOPMENT CONFIGURATION. Its cookie-signing secret is     !!
!! public and NOT FOR PRODUCTION: anyone can forge choice cookies with it.     !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"""

_MODE_TEXT: Final = {
    Mode.ENFORCE: "enforce: tracker tags are stripped from the pages of visitors who opt out",
    Mode.REPORT: "report: pages are not changed; what would be stripped is logged",
    Mode.OFF: "off: pages are not changed; the opt-out page, gpc.json and the status "
              "endpoint still answer",
}

logger = logging.getLogger("optout_mw")


def demo_config(*, environ: Mapping[str, str] | None = None, **defaults: object) -> OptOutConfig:
    """The demo's configuration: the development configuration (public secret, cookies not
    ``Secure``) and :data:`DEMO_DEFAULTS`, then ``defaults``, with the ``OPTOUT_*``
    environment variables (and the file named by ``OPTOUT_CONFIG``) over all of them, so
    ``OPTOUT_MODE=report optout-mw demo`` runs the demo in report mode.

    :raises ConfigError: when a variable is invalid.
    """
    values: dict[str, object] = {
        "secret_keys": development_config().secret_keys,
        "cookie_secure": False,
        **DEMO_DEFAULTS,
        **defaults,
    }
    return load_config(mapping={env_var_name(name): value for name, value in values.items()},
                       environ=environ)


def uses_public_secret(config: OptOutConfig) -> bool:
    """Whether ``config`` signs with the development configuration's public secret."""
    return bool(set(config.secret_keys) & set(development_config().secret_keys))


# --- the hints ---------------------------------------------------------------------------


class Expect(StrEnum):
    """What a hint's command prints."""

    SOME = "a number above 0: the lines of the page with vendor tags"
    NONE = "0: with GPC, every vendor tag on this page is stripped"
    FEWER = "a smaller number: with GPC, the tags your rules match are stripped"
    SAME = "the same number"
    VARY = "the Vary header"
    STATUS = "the decision as JSON"


@dataclass(frozen=True, slots=True)
class Hint:
    """One command to try against the running demo, and what it prints."""

    #: The request path.
    path: str
    #: Whether the request sends ``Sec-GPC: 1``.
    gpc: bool
    expect: Expect
    #: For :attr:`Expect.VARY`: the header's value; for :attr:`Expect.STATUS`: whether the
    #: decision says opted out; for :attr:`Expect.SAME`: why nothing changes.
    detail: str = ""

    def command(self, base: str) -> str:
        """The shell command, for ``base`` such as ``http://127.0.0.1:8000``."""
        header = " -H 'Sec-GPC: 1'" if self.gpc else ""
        url = base + self.path
        if self.expect is Expect.VARY:
            # A GET that prints its headers: HEAD is not routed by every framework (FastAPI
            # answers 405), so `curl -I` could print nothing.
            return f"curl -s -o /dev/null -D -{header} {url} | grep -i '^vary'"
        if self.expect is Expect.STATUS:
            return f"curl -s{header} {url}"
        return f"curl -s{header} {url} | grep -c -E '{VENDOR_PATTERN}'"

    def says(self) -> str:
        """What the command prints, in words."""
        if self.expect is Expect.VARY:
            return f"{self.expect.value}: Vary: {self.detail}"
        if self.expect is Expect.STATUS:
            return f'{self.expect.value}, with "opted_out": {self.detail}'
        if self.expect is Expect.SAME:
            return f"{self.expect.value}: {self.detail}"
        return self.expect.value


def hints(config: OptOutConfig, *, demo_rules: bool | None = None) -> tuple[Hint, ...]:
    """The commands that show what ``config`` does to the demo page, with what each prints.

    :param demo_rules: whether the rules are the demo's own (they match every tag on the
        page); by default, whether the presets are :data:`DEMO_DEFAULTS`' and no rule was
        added or disabled.
    """
    if demo_rules is None:
        demo_rules = (config.presets == DEMO_DEFAULTS["presets"] and not config.rules
                      and not config.disabled_rules)
    if config.mode is not Mode.ENFORCE:
        with_gpc = Hint("/", True, Expect.SAME, f"{config.mode} mode changes no page")
    elif not config.read_gpc:
        with_gpc = Hint("/", True, Expect.SAME, "GPC is not read (read_gpc is off)")
    elif not config.ruleset:
        with_gpc = Hint("/", True, Expect.SAME, "no rule is enabled")
    else:
        with_gpc = Hint("/", True, Expect.NONE if demo_rules else Expect.FEWER)
    found = [Hint("/", False, Expect.SOME), with_gpc]
    if config.mode is not Mode.OFF and config.vary:
        found.append(Hint("/", True, Expect.VARY, ", ".join(config.vary)))
    if config.status_path:
        found.append(Hint(config.status_path, True, Expect.STATUS,
                          "true" if config.read_gpc else "false"))
    return tuple(found)


def hint_lines(config: OptOutConfig, base: str) -> list[str]:
    """The hints as printed: for each, a ``#`` comment saying what it prints, then the
    command; both lines can be pasted into a shell."""
    lines: list[str] = []
    for hint in hints(config):
        lines += [f"  # {hint.says()}", f"  {hint.command(base)}"]
    return lines


def banner(config: OptOutConfig, base: str, description: str) -> str:
    """What the demo prints when it starts: the warning about the public secret (when it is
    in use), what is served, the mode, the hints, and where the opt-out page is."""
    lines = [DEV_WARNING, ""] if uses_public_secret(config) else []
    lines.append(f"serving {description} on {base}/  (Ctrl-C to stop)")
    lines.append(f"mode: {_MODE_TEXT[config.mode]}")
    lines.append("try:")
    lines += hint_lines(config, base)
    if config.optout_page_path:
        lines.append(f"open {base}{config.optout_page_path} in a browser to opt out with a "
                     "cookie")
    return "\n".join(lines)


# --- the built-in page ---------------------------------------------------------------------

_PAGE_HEAD: Final = (
    b'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    b"<title>optout-mw demo</title>\n"
    b'<script async src="https://www.googletagmanager.com/gtm.js?id=GTM-DEMO0"></script>\n'
    b"<script>fbq('init', '000000000000000'); fbq('track', 'PageView');</script>\n"
    b"</head>\n<body>\n<h1>optout-mw demo</h1>\n"
)
_PAGE_TAIL: Final = (
    b'<noscript><img height="1" width="1" alt=""\n'
    b' src="https://www.facebook.com/tr?id=000000000000000&amp;ev=PageView&amp;noscript=1">'
    b"</noscript>\n<p>View the source of this page with and without <code>Sec-GPC: 1</code>."
    b"</p>\n</body>\n</html>\n"
)


def builtin_demo_app(config: OptOutConfig | None = None) -> Any:
    """A tiny WSGI site with tracker tags, wrapped in the middleware (for a directory
    without the project's examples)."""

    def page(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        decision = get_decision(environ)
        state = (
            f"<p>Sale or sharing permitted: <strong>{'yes' if decision.sale_permitted else 'no'}"
            f"</strong>. {html.escape(decision.status_text or '')}</p>\n"
            f"<pre>{html.escape(json.dumps(decision.to_json(), indent=2))}</pre>\n"
        )
        body = _PAGE_HEAD + state.encode("utf-8") + _PAGE_TAIL
        start_response(
            "200 OK",
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return OptOutWSGIMiddleware(page, config=config or demo_config())


# --- serving -------------------------------------------------------------------------------


class PortBusy(OSError):
    """The demo cannot listen on its port; the message says what to do, in one line."""


def _busy(host: str, port: int, error: OSError) -> PortBusy:
    reason = error.strerror or str(error)
    return PortBusy(f"cannot listen on {host}:{port}: {reason}; stop what is using it, or "
                    "choose another port (optout-mw demo --port N, or PORT=N for the examples)")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    # A browser opens several connections at once; one thread each keeps the page loading.
    daemon_threads = True


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``.

    :raises PortBusy: when the port is taken or cannot be used.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise _busy(host, port, error) from None
    return sock


def serve(app: Any, kind: str, port: int, host: str = "127.0.0.1") -> None:
    """Serve ``app`` (``kind`` ``wsgi`` or ``asgi``) until interrupted.

    :raises PortBusy: when the port is taken.
    :raises ModuleNotFoundError: when an ASGI app is served without uvicorn.
    """
    if kind == "asgi":
        uvicorn: Any = importlib.import_module("uvicorn")
        sock = listen(host, port)
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port))
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
        return
    try:
        httpd = make_server(host, port, app, server_class=_ThreadingWSGIServer)
    except OSError as error:
        raise _busy(host, port, error) from None
    with httpd, contextlib.suppress(KeyboardInterrupt):
        httpd.serve_forever()


def run_example(make_app: Callable[[OptOutConfig], Any], kind: str, description: str) -> int:
    """``python -m examples...``: build the demo configuration and the app, print the
    banner, serve on ``$PORT`` (default 8000) and return the exit code. An invalid
    ``OPTOUT_*`` variable or a busy port ends in a message on stderr, not a traceback."""
    try:
        port = int(os.environ.get("PORT", str(DEFAULT_PORT)))
    except ValueError:
        print(f"PORT must be a number, got {os.environ['PORT']!r}", file=sys.stderr)
        return 2
    try:
        config = demo_config()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    show_report_lines(config)
    print(banner(config, f"http://127.0.0.1:{port}", description), flush=True)
    try:
        serve(make_app(config), kind, port)
    except PortBusy as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def show_report_lines(config: OptOutConfig) -> None:
    """In report mode, print what would be stripped: the middleware logs it at ``INFO``,
    which a bare Python process does not show."""
    if config.mode is Mode.REPORT and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
