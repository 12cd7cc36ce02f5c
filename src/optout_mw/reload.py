"""Hot reload of a TOML configuration file without restarting the server.

:class:`ReloadingConfig` is an engine source: pass it as ``config=`` to either adapter::

    source = ReloadingConfig("/etc/optout.toml")
    app.add_middleware(OptOutASGIMiddleware, config=source)

On the request path it costs a clock reading and a comparison; at most every
``check_interval`` seconds one request also pays for an ``os.stat``. When the file changed,
it is loaded and validated, and a new :class:`~optout_mw.engine.Engine` replaces the old one
in a single attribute assignment, so a request always sees one whole configuration.

Each worker process holds its own :class:`ReloadingConfig` and checks the file itself, so
under gunicorn or uvicorn with several workers every worker picks up a change within
``check_interval`` of its next request; no signal has to reach every process.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any, Final

from .config import OptOutConfig, apply_operator_override, load_config
from .engine import Engine
from .errors import ConfigError

__all__ = ["ReloadingConfig", "install_sighup"]

logger = logging.getLogger("optout_mw")

#: (mtime_ns, size, inode): cheap to read and changes on every save, including editors that
#: write a new file and rename it over the old one (new inode, maybe same size and mtime).
_Stamp = tuple[int, int, int]
_MISSING: Final[_Stamp] = (-1, -1, -1)


class ReloadingConfig:
    """An engine source that reloads its TOML file when the file changes.

    A file that fails validation keeps the last good configuration in force and logs every
    problem once per version of the file. A deleted file also keeps the last good
    configuration and logs a warning; the file is picked up again when it comes back.

    :param path: the TOML file. It must be valid at construction, so a bad deployment
        fails at start-up rather than running on defaults.
    :param check_interval: seconds between two ``os.stat`` checks. ``0`` checks on every
        request.
    :param clock: monotonic seconds; replaceable in tests.
    :param base: a mapping merged under the environment, as in
        :func:`~optout_mw.config.load_config` (e.g. Flask's ``app.config``).
    :param environ: environment variables (default :data:`os.environ`); they take
        precedence over the file, so a value set there cannot be changed by editing it.
        ``OPTOUT_FORCE_MODE`` here, or in the process environment, beats the file on
        every reload (:func:`~optout_mw.config.apply_operator_override`).
    :param overrides: field values applied last, on every reload.
    :raises ConfigError: when the file is invalid at construction.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        check_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        base: Mapping[str, object] | None = None,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> None:
        if check_interval < 0:
            raise ValueError("check_interval must be >= 0")
        self.path = os.fspath(path)
        self.check_interval = check_interval
        self._clock = clock
        self._base = base
        self._environ = environ
        self._overrides = overrides
        # Only one thread reloads at a time; others keep serving the current engine.
        self._lock = threading.Lock()
        self._forced = False
        #: The last validation error, or ``None`` after a successful load.
        self.last_error: ConfigError | None = None
        #: How many times a new configuration was swapped in (0 for the initial load).
        self.reloads = 0
        self._stamp = self._stat()
        self._engine = Engine(self._load())
        self._reported: _Stamp | None = None
        self._next_check = clock() + check_interval

    @property
    def config(self) -> OptOutConfig:
        """The configuration currently in force."""
        return self._engine.config

    def engine(self) -> Engine:
        """The current engine, after a change check if ``check_interval`` has passed."""
        # Fast path: no lock, no system call. Reading a stale _next_check from another
        # thread only means one extra (cheap) check.
        if self._clock() >= self._next_check:
            self._check(blocking=False)
        return self._engine

    def reload(self) -> bool:
        """Load the file now, changed or not; return whether a new engine is in force.

        Invalid files are logged and leave the current engine in place.
        """
        self._forced = True
        return self._check(blocking=True)

    def request_reload(self) -> None:
        """Ask for a reload without waiting: done now if no other thread is reloading,
        otherwise by the next request. Safe to call from a signal handler.
        """
        self._forced = True
        self._next_check = float("-inf")
        self._check(blocking=False)

    def _check(self, *, blocking: bool) -> bool:
        if not self._lock.acquire(blocking=blocking):
            return False  # another thread is on it
        try:
            now = self._clock()
            forced = self._forced
            if not forced and now < self._next_check:
                return False  # another thread checked while we waited
            self._next_check = now + self.check_interval
            self._forced = False
            stamp = self._stat()
            if stamp == _MISSING:
                if self._stamp != _MISSING:
                    logger.warning(
                        "optout_mw: configuration file %s is gone; keeping the last good "
                        "configuration",
                        self.path,
                        extra={"optout_config_path": self.path},
                    )
                    self._stamp = stamp
                return False
            if stamp == self._stamp and not forced:
                return False
            self._stamp = stamp
            return self._swap(stamp)
        finally:
            self._lock.release()

    def _swap(self, stamp: _Stamp) -> bool:
        try:
            config = self._load()
            engine = Engine(config)
        except ConfigError as error:
            self.last_error = error
            if self._reported != stamp:
                # Once per version of the file: a broken file must not flood the log
                # on every check.
                self._reported = stamp
                for key, message in error.problems:
                    logger.error(
                        "optout_mw: configuration not reloaded: %s: %s",
                        key,
                        message,
                        extra={"optout_config_path": self.path, "optout_config_key": key},
                    )
            return False
        # The swap: one attribute assignment, atomic for concurrent readers.
        self._engine = engine
        self.last_error = None
        self._reported = None
        self.reloads += 1
        logger.info(
            "optout_mw: configuration reloaded from %s (mode %s)",
            self.path,
            config.mode.value,
            extra={"optout_config_path": self.path, "optout_mode": config.mode.value},
        )
        return True

    def _load(self) -> OptOutConfig:
        config = load_config(
            file=self.path, mapping=self._base, environ=self._environ, **self._overrides
        )
        # The engine applies the process environment's OPTOUT_FORCE_MODE too; this one
        # honours an ``environ`` given here.
        return apply_operator_override(config, self._environ)

    def _stat(self) -> _Stamp:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return _MISSING
        except OSError:
            # Unreadable for now (permissions mid-deploy): treat like a missing file.
            return _MISSING
        return (st.st_mtime_ns, st.st_size, st.st_ino)


def install_sighup(reloading: ReloadingConfig) -> bool:
    """Reload ``reloading`` when the process receives ``SIGHUP``.

    Any handler installed before is still called. Signal handlers can only be installed
    from the main thread; elsewhere, and on platforms without ``SIGHUP`` (Windows), this
    does nothing and returns ``False``.

    :returns: whether the handler was installed.
    """
    sighup = getattr(signal, "SIGHUP", None)
    if sighup is None or threading.current_thread() is not threading.main_thread():
        return False
    previous = signal.getsignal(sighup)

    def on_sighup(signum: int, frame: FrameType | None) -> None:
        # Non-blocking: the handler may interrupt this very thread inside a reload.
        reloading.request_reload()
        if callable(previous):
            previous(signum, frame)

    signal.signal(sighup, on_sighup)
    return True
