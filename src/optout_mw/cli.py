"""The ``optout-mw`` command (also ``python -m optout_mw``).

Commands::

    optout-mw check [FILE] [--strict]           validate and print the effective config
    optout-mw scan FILE|URL [--config FILE] [--preset NAME ...]
                                                list what would be stripped or blocked
    optout-mw rewrite FILE [--config FILE] [--preset NAME ...]
                                                write the enforced page to stdout
    optout-mw decode STRING                     decode a US Privacy or GPP string as JSON
    optout-mw demo [--port N] [--framework ...] serve a demo site on 127.0.0.1

Exit codes:

* ``0`` - success: the configuration is valid, the scan found nothing, the string decoded;
* ``1`` - something was found: ``scan`` found trackers (for a URL: in the response to the
  ``Sec-GPC: 1`` request), ``decode`` was given a malformed string, ``check --strict``
  found warnings;
* ``2`` - invalid configuration or command line;
* ``3`` - the input could not be read: missing file, network error, missing optional
  dependency (httpx, uvicorn, a framework); for ``demo``, its port is busy.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, Final

from . import __version__
from .config import (
    FORCE_MODE_VARIABLE,
    OptOutConfig,
    apply_operator_override,
    load_config,
    redacted,
)
from .csp_cli import add_csp_command
from .engine import Engine
from .errors import ConfigError
from .gpp import decode_any
from .records.cli import add_records_command
from .rewrite import HTMLRewriter
from .signals import Verdict, parse_us_privacy, us_privacy_fields

__all__ = ["EXIT_FOUND", "EXIT_INVALID", "EXIT_OK", "EXIT_UNREADABLE", "main"]

EXIT_OK: Final = 0
EXIT_FOUND: Final = 1
EXIT_INVALID: Final = 2
EXIT_UNREADABLE: Final = 3

#: Read and write files in chunks of this size, so pages of any size stream through.
CHUNK: Final = 64 * 1024

_DEFAULT_PORT: Final = 8000


class _Unreadable(Exception):
    """Input could not be read; the message says why."""


# --- helpers -----------------------------------------------------------------------------


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(f"optout-mw: {text}\n")


def _print_json(data: object) -> None:
    _out(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _print_problems(error: ConfigError, *, as_json: bool, stream: Callable[[str], None]) -> None:
    if as_json:
        _print_json(
            {
                "valid": False,
                "problems": [{"key": key, "message": message} for key, message in error.problems],
            }
        )
        return
    stream(f"invalid configuration ({len(error.problems)} problem"
           f"{'s' if len(error.problems) != 1 else ''}):")
    for key, message in error.problems:
        stream(f"  {key}: {message}")


def _read_chunks(target: str) -> Iterator[bytes]:
    """The bytes of a file (``-`` for standard input), in chunks."""
    try:
        if target == "-":
            stream: IO[bytes] = sys.stdin.buffer
            handle = None
        else:
            handle = open(target, "rb")  # noqa: SIM115 - closed in finally below
            stream = handle
    except OSError as error:
        raise _Unreadable(f"cannot read {target}: {error.strerror or error}") from error
    try:
        while chunk := stream.read(CHUNK):
            yield chunk
    finally:
        if handle is not None:
            handle.close()


def _rules_config(config_file: str | None, presets: Sequence[str] | None) -> OptOutConfig:
    """The configuration whose rules ``scan`` and ``rewrite`` apply.

    Only rule settings matter here, so the choice cookie is switched off: scanning a page
    needs no secret.
    """
    if config_file is None and not presets:
        presets = ["all"]
    config = _load(config_file, read_site_cookie=False)
    if presets:
        config = config.replace(presets=(*config.presets, *presets))
    return config


def _load(file: str | None, **overrides: Any) -> OptOutConfig:
    return load_config(file=file, environ=os.environ, **overrides)


# --- check ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _logger_silenced() -> Iterator[None]:
    log = logging.getLogger("optout_mw")
    disabled = log.disabled
    log.disabled = True
    try:
        yield
    finally:
        log.disabled = disabled


def _toml_value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _cmd_check(args: argparse.Namespace) -> int:
    file: str | None = args.file
    source = file or os.environ.get("OPTOUT_CONFIG") or None
    try:
        configured = _load(file)
        # The middleware's own start-up log lines would repeat what check prints below
        # (the forced mode, the warnings), so they are held back while it builds.
        with _logger_silenced():
            config = apply_operator_override(configured, os.environ)
            # Build exactly what the middleware builds at start-up (the endpoints load
            # the page template), so "valid" means the middleware will start.
            Engine(config)
    except ConfigError as error:
        _print_problems(error, as_json=args.json, stream=_out)
        return EXIT_INVALID
    warnings = config.warnings()
    forced = config.mode if config.mode is not configured.mode else None
    code = EXIT_FOUND if warnings and args.strict else EXIT_OK
    view = redacted(config)
    if args.json:
        _print_json({
            "valid": True, "file": source, "config": view, "warnings": list(warnings),
            "forced_mode": None if forced is None else forced.value,
        })
        return code
    _out(f"# configuration valid; file: {source or '(none)'}; "
         "OPTOUT_* environment variables applied")
    _out("# secrets are redacted")
    if forced is not None:
        _out(f"# {FORCE_MODE_VARIABLE}={forced.value} overrides the configured mode "
             f"{configured.mode.value}")
    rules = view.pop("rules")
    for key, value in view.items():
        if value is None:
            _out(f"# {key} = (unset)")
        else:
            _out(f"{key} = {_toml_value(value)}")
    for rule in rules if isinstance(rules, list) else ():
        _out("")
        _out("[[rules]]")
        for key, value in rule.items():
            _out(f"{key} = {_toml_value(value)}")
    for warning in warnings:
        _err(f"warning: {warning}")
    return code


# --- scan --------------------------------------------------------------------------------


def _findings_of(chunks: Iterable[bytes], config: OptOutConfig) -> list[Any]:
    rewriter = HTMLRewriter(
        config.ruleset,
        report_only=True,
        attr_prefix=config.block_attr_prefix,
        max_pending=config.max_pending,
    )
    for chunk in chunks:
        rewriter.feed(chunk)
    rewriter.close()
    return list(rewriter.findings)


def _finding_json(finding: Any) -> dict[str, object]:
    return {
        "rule": finding.rule,
        "action": str(finding.action),
        "element": finding.element,
        "url": finding.url,
        "line": finding.line,
        "column": finding.column,
        "offset": finding.offset,
    }


def _print_findings(findings: Sequence[Any], indent: str = "  ") -> None:
    for f in findings:
        where = f"{f.line}:{f.column}"
        _out(f"{indent}{where:>9}  {f.action!s:<5}  {f.rule}  <{f.element}>  "
             f"{f.url or '(inline script)'}")


def _finding_key(finding: Any) -> tuple[str, str, str]:
    return (finding.rule, finding.element, finding.url or "")


def _cmd_scan(args: argparse.Namespace) -> int:
    try:
        config = _rules_config(args.config, args.preset)
    except ConfigError as error:
        _print_problems(error, as_json=False, stream=_err)
        return EXIT_INVALID
    if not config.ruleset:
        _err("no rules configured (add presets or [[rules]]); nothing to look for")
    target: str = args.target
    try:
        if target.startswith(("http://", "https://")):
            return _scan_url(target, config, as_json=args.json, timeout=args.timeout)
        findings = _findings_of(_read_chunks(target), config)
    except _Unreadable as error:
        _err(str(error))
        return EXIT_UNREADABLE
    if args.json:
        _print_json({"target": target, "findings": [_finding_json(f) for f in findings]})
    elif findings:
        _out(f"{target}: {len(findings)} tracker element(s) would be stripped or blocked:")
        _print_findings(findings)
    else:
        _out(f"{target}: no tracker elements found")
    return EXIT_FOUND if findings else EXIT_OK


@dataclass
class _Fetched:
    status: int
    content_type: str
    findings: list[Any]


def _scan_url(url: str, config: OptOutConfig, *, as_json: bool, timeout: float) -> int:
    try:
        httpx: Any = importlib.import_module("httpx")
    except ImportError as error:
        raise _Unreadable("scanning a URL needs httpx: pip install httpx") from error

    def fetch(client: Any, headers: dict[str, str]) -> _Fetched:
        try:
            with client.stream("GET", url, headers=headers) as response:
                findings = _findings_of(response.iter_bytes(CHUNK), config)
                return _Fetched(
                    response.status_code, response.headers.get("content-type", ""), findings
                )
        except httpx.HTTPError as error:
            raise _Unreadable(f"cannot fetch {url}: {error}") from error

    client_headers = {"User-Agent": f"optout-mw/{__version__} (scan)"}
    with httpx.Client(follow_redirects=True, timeout=timeout, headers=client_headers) as client:
        plain = fetch(client, {})
        gpc = fetch(client, {"Sec-GPC": "1"})

    gpc_keys = {_finding_key(f) for f in gpc.findings}
    removed = [f for f in plain.findings if _finding_key(f) not in gpc_keys]
    honours = bool(plain.findings) and not gpc.findings
    if as_json:
        _print_json(
            {
                "url": url,
                "plain": {
                    "status": plain.status,
                    "content_type": plain.content_type,
                    "findings": [_finding_json(f) for f in plain.findings],
                },
                "gpc": {
                    "status": gpc.status,
                    "content_type": gpc.content_type,
                    "findings": [_finding_json(f) for f in gpc.findings],
                },
                "removed_by_server_with_gpc": [_finding_json(f) for f in removed],
                "server_honours_gpc": honours,
            }
        )
    else:
        for label, fetched in (("without GPC", plain), ("with Sec-GPC: 1", gpc)):
            _out(f"{url} {label}: HTTP {fetched.status}, {fetched.content_type or 'no type'}, "
                 f"{len(fetched.findings)} tracker element(s)")
            _print_findings(fetched.findings)
        if not plain.findings and not gpc.findings:
            _out("no tracker elements in either response")
        elif honours:
            _out("the server already honours GPC: every tracker element of the plain "
                 "response is absent with Sec-GPC: 1")
        else:
            _out(f"{len(gpc.findings)} tracker element(s) still served to a visitor sending "
                 "Sec-GPC: 1; optout-mw would strip or block them")
            if removed:
                _out(f"(the server itself removed {len(removed)} with Sec-GPC: 1)")
    return EXIT_FOUND if gpc.findings else EXIT_OK


# --- rewrite ---------------------------------------------------------------------------------


def _cmd_rewrite(args: argparse.Namespace) -> int:

    try:
        config = _rules_config(args.config, args.preset)
    except ConfigError as error:
        _print_problems(error, as_json=False, stream=_err)
        return EXIT_INVALID
    rewriter = HTMLRewriter(
        config.ruleset,
        attr_prefix=config.block_attr_prefix,
        max_pending=config.max_pending,
    )
    sys.stdout.flush()
    # Bytes in, bytes out: the page's own encoding is never touched.
    out: IO[bytes] = getattr(sys.stdout, "buffer", None) or sys.stdout  # type: ignore[assignment]
    try:
        for chunk in _read_chunks(args.file):
            data = rewriter.feed(chunk)
            if data:
                out.write(data)
    except _Unreadable as error:
        _err(str(error))
        return EXIT_UNREADABLE
    out.write(rewriter.close())
    out.flush()
    count = len(rewriter.findings)
    _err(f"{count} element(s) stripped or blocked")
    if rewriter.overflowed:
        _err(f"a construct exceeded max_pending and passed through unchanged "
             f"({rewriter.overflow_reason})")
    return EXIT_OK


# --- decode ------------------------------------------------------------------------------------


def _cmd_decode(args: argparse.Namespace) -> int:
    text: str = args.string
    stripped = text.strip(" \t\r\n")
    # Every GPP string starts with its header, Type 3 and Version 1: "DB" in base64url.
    # Anything else is read as the middleware reads a usprivacy cookie.
    decoded = decode_any(text) if stripped.startswith("DB") else _us_privacy_json(stripped)
    _print_json(decoded)
    return EXIT_FOUND if decoded.get("error") else EXIT_OK


def _us_privacy_json(value: str) -> dict[str, object]:
    """A US Privacy string as JSON, with the verdict and reason the middleware gives it."""
    signal = parse_us_privacy(value)
    fields = us_privacy_fields(value)
    error: str | None = None
    if signal.verdict is Verdict.INVALID:
        error = signal.reason
    elif fields is None:
        error = "US Privacy string malformed"
    return {
        "type": "usprivacy",
        "value": value,
        **(fields or {}),
        "verdict": {"outcome": signal.verdict.value, "reason": signal.reason},
        "error": error,
    }


# --- demo ------------------------------------------------------------------------------------


@dataclass
class Demo:
    """An application ready to serve: ``kind`` is ``wsgi`` or ``asgi``."""

    app: Any
    kind: str
    description: str


_EXAMPLES: Final = {
    "flask": ("examples.flask_app.app", "wsgi", "examples/flask_app/app.py"),
    "starlette": ("examples.starlette_app.app", "asgi", "examples/starlette_app/app.py"),
    "fastapi": ("examples.starlette_app.fastapi_app", "asgi",
                "examples/starlette_app/fastapi_app.py"),
}


def build_demo(framework: str, directory: str, config: OptOutConfig) -> Demo:
    """The demo application: an example from ``directory/examples`` when present,
    otherwise the built-in WSGI site, both with ``config``.

    :param framework: ``auto``, ``flask``, ``starlette``, ``fastapi`` or ``builtin``.
    :raises _Unreadable: when an explicitly chosen framework is not installed.
    """
    # Deferred, as every command's own imports: the other commands need no servers.
    from .demo import builtin_demo_app

    builtin = Demo(builtin_demo_app(config), "wsgi", "the built-in demo page (WSGI)")
    if framework == "builtin":
        return builtin
    choice = "flask" if framework == "auto" else framework
    module_name, kind, relative = _EXAMPLES[choice]
    if not os.path.isfile(os.path.join(directory, relative)):
        if framework != "auto":
            _err(f"{relative} not found under {directory}; serving the built-in demo page")
        return builtin
    # The examples are a package of the project checkout, imported as examples.* (they
    # use relative imports); the directory goes first so its package wins.
    if directory in sys.path:
        sys.path.remove(directory)
    sys.path.insert(0, directory)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        problem = f"cannot import {relative}: {error}; pip install 'optout-mw[examples]'"
    else:
        found = getattr(module, "__file__", None) or os.devnull
        problem = (
            ""
            if os.path.samefile(found, os.path.join(directory, relative))
            else f"another 'examples' package shadows {relative} ({found})"
        )
    if problem:
        if framework == "auto":
            _err(f"{problem}; serving the built-in demo page")
            return builtin
        raise _Unreadable(problem)
    factory = getattr(module, "create_app", None)
    if callable(factory):
        takes_config = "config" in inspect.signature(factory).parameters
        app = factory(config=config) if takes_config else factory()
    else:
        app = module.app
    # A Flask object is itself a WSGI callable; Starlette and FastAPI apps are ASGI ones.
    return Demo(app, kind, f"{relative} ({kind.upper()})")


def _serve(demo: Demo, port: int) -> None:  # pragma: no cover - blocks until interrupted
    from .demo import serve  # deferred: see build_demo

    try:
        serve(demo.app, demo.kind, port)
    except ModuleNotFoundError as error:
        raise _Unreadable(f"serving an ASGI demo needs uvicorn: pip install uvicorn ({error})"
                          ) from None


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import PortBusy, banner, demo_config, show_report_lines  # see build_demo

    try:
        # The operator's file as it is; otherwise the demo's settings under OPTOUT_*.
        config = _load(args.config) if args.config else demo_config()
    except ConfigError as error:
        _print_problems(error, as_json=False, stream=_err)
        return EXIT_INVALID
    try:
        demo = build_demo(args.framework, os.getcwd(), config)
    except _Unreadable as error:
        _err(str(error))
        return EXIT_UNREADABLE
    show_report_lines(config)
    _out(banner(config, f"http://127.0.0.1:{args.port}", demo.description))
    sys.stdout.flush()
    try:
        _serve(demo, args.port)
    except (_Unreadable, PortBusy) as error:
        _err(str(error))
        return EXIT_UNREADABLE
    return EXIT_OK


# --- entry point ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``optout-mw``."""
    parser = argparse.ArgumentParser(
        prog="optout-mw",
        description="Server-side enforcement of privacy opt-out signals: tools.",
        epilog="exit codes: 0 ok, 1 found (trackers; malformed string), "
        "2 invalid configuration or usage, 3 unreadable input or missing dependency",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check", help="validate a configuration and print it (secrets redacted)",
        description="Validate the configuration (FILE, or the file named by OPTOUT_CONFIG, "
        "plus OPTOUT_* environment variables and the OPTOUT_FORCE_MODE override) as the "
        "middleware would at start-up, page template included, and print the effective "
        "values. Warnings go to standard error.",
    )
    check.add_argument("file", nargs="?", help="TOML configuration file")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.add_argument(
        "--strict", action="store_true", help="exit 1 when the configuration has warnings"
    )
    check.set_defaults(handler=_cmd_check)

    scan = commands.add_parser(
        "scan", help="list the tracker elements a page holds",
        description="List what would be stripped or blocked in an HTML file or a URL. A URL is "
        "fetched twice, plainly and with Sec-GPC: 1, and the responses compared.",
    )
    scan.add_argument("target", metavar="FILE|URL", help="HTML file ('-' for stdin) or URL")
    _rule_options(scan)
    scan.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    scan.add_argument("--json", action="store_true", help="print JSON")
    scan.set_defaults(handler=_cmd_scan)

    rewrite = commands.add_parser(
        "rewrite", help="write the enforced page to stdout",
        description="Rewrite an HTML file as an opted-out visitor would receive it.",
    )
    rewrite.add_argument("file", metavar="FILE", help="HTML file ('-' for stdin)")
    _rule_options(rewrite)
    rewrite.set_defaults(handler=_cmd_rewrite)

    decode = commands.add_parser(
        "decode", help="decode a US Privacy or GPP string as JSON, with the verdict",
        description="Decode a GPP string (it starts with DB) or a US Privacy string (anything "
        "else) as JSON, with the verdict and reason the middleware gives it.",
    )
    decode.add_argument("string", metavar="STRING")
    decode.set_defaults(handler=_cmd_decode)

    demo = commands.add_parser(
        "demo", help="serve a demo site on 127.0.0.1",
        description="Serve the example app from ./examples if present, else a built-in page. "
        "Without --config, the demo's settings apply under any OPTOUT_* variable "
        "(e.g. OPTOUT_MODE=report).",
    )
    demo.add_argument("--port", type=int, default=_DEFAULT_PORT,
                      help=f"port on 127.0.0.1 (default {_DEFAULT_PORT})")
    demo.add_argument(
        "--framework", choices=["auto", "flask", "starlette", "fastapi", "builtin"],
        default="auto",
    )
    demo.add_argument("--config", metavar="FILE", help="serve with this configuration instead")
    demo.set_defaults(handler=_cmd_demo)
    add_records_command(commands)
    add_csp_command(commands)
    return parser


def _rule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML configuration with the rules")
    parser.add_argument(
        "--preset", action="append", metavar="NAME",
        help="enable a preset (repeatable); without --config and --preset, all presets",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``optout-mw`` with ``argv`` (default: the process arguments); return the exit
    code.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        # --help and --version exit 0, usage errors 2; return instead so callers decide.
        return exit_.code if isinstance(exit_.code, int) else EXIT_INVALID
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)
