"""A local TCP sink standing in for every third-party host during browser tests.

Chromium is started with ``--host-resolver-rules=MAP * 127.0.0.1:<sink port>``, so every
connection to a host other than the first-party origin lands here whatever its scheme or
port. The sink records each connection and the host it was meant for (the SNI server name
of a TLS ClientHello, or the ``Host`` header of plain HTTP), then closes it: no request
ever leaves the machine, and a preconnect that sends nothing but a TLS handshake is still
seen.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass

#: Name recorded for a connection closed before saying which host it was for.
UNIDENTIFIED = "<unidentified>"

# Enough for any ClientHello (a post-quantum key share makes it ~1.8 kB) or request head.
_MAX_BUFFER = 64 * 1024
_SYNC_PREFIX = b"SINK-SYNC "
_HTTP_ANSWER = (
    b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
)


class _Incomplete(Exception):
    """More bytes are needed before the host can be known."""


def client_hello_server_name(data: bytes) -> str | None:
    """The SNI host name of a TLS ClientHello, ``None`` if it has none.

    Raises :class:`_Incomplete` while ``data`` is a truncated prefix and ``ValueError`` when
    it is not a ClientHello at all. The handshake may span several TLS records.
    """
    handshake = bytearray()
    offset = 0
    while True:
        if len(data) < offset + 5:
            raise _Incomplete
        content_type, _version, length = struct.unpack_from("!BHH", data, offset)
        if content_type != 0x16:
            raise ValueError("not a TLS handshake record")
        if len(data) < offset + 5 + length:
            raise _Incomplete
        handshake += data[offset + 5 : offset + 5 + length]
        offset += 5 + length
        if len(handshake) >= 4:
            if handshake[0] != 0x01:
                raise ValueError("not a ClientHello")
            if len(handshake) >= 4 + int.from_bytes(handshake[1:4], "big"):
                break
    body = bytes(handshake[4 : 4 + int.from_bytes(handshake[1:4], "big")])
    pos = 2 + 32  # client_version, random
    pos += 1 + body[pos]  # session_id
    pos += 2 + int.from_bytes(body[pos : pos + 2], "big")  # cipher_suites
    pos += 1 + body[pos]  # compression_methods
    if pos + 2 > len(body):
        return None  # no extensions at all
    end = pos + 2 + int.from_bytes(body[pos : pos + 2], "big")
    pos += 2
    while pos + 4 <= end:
        ext_type, ext_len = struct.unpack_from("!HH", body, pos)
        pos += 4
        if ext_type == 0x0000:  # server_name: list length, then (type, length, name)
            name_type = body[pos + 2]
            name_len = int.from_bytes(body[pos + 3 : pos + 5], "big")
            if name_type == 0:
                return body[pos + 5 : pos + 5 + name_len].decode("ascii").lower()
        pos += ext_len
    return None


def http_host(data: bytes) -> str | None:
    """The ``Host`` header (without port) of an HTTP/1 request head, ``None`` if absent."""
    if b"\r\n\r\n" not in data:
        raise _Incomplete
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "host":
            host = value.strip().lower()
            # Strip a port, keeping bracketed IPv6 literals whole.
            return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return None


@dataclass(frozen=True, slots=True)
class Contact:
    """One connection received by the sink."""

    host: str
    #: ``tls`` or ``http`` (or ``unknown`` when nothing identifying arrived).
    kind: str


@dataclass(slots=True)
class _Pending:
    buffer: bytearray


class TrackerSink:
    """Accepts, identifies and closes connections on a background thread.

    Use as a context manager; :meth:`close` stops the thread and closes every socket.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._pending: dict[socket.socket, _Pending] = {}
        self._contacts: list[Contact] = []
        #: For each answered sync probe, the connections accepted before it and not yet read.
        self._synced: dict[int, set[socket.socket]] = {}
        self._next_sync = 0
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tracker-sink", daemon=True)
        self._thread.start()

    def __enter__(self) -> TrackerSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the test side ---------------------------------------------------------------

    def contacts(self) -> list[Contact]:
        with self._changed:
            return list(self._contacts)

    def hosts(self) -> set[str]:
        return {contact.host for contact in self.contacts()}

    def clear(self) -> None:
        with self._changed:
            self._contacts.clear()

    def wait_for_hosts(self, expected: set[str], timeout: float) -> set[str]:
        """Wait until every host in ``expected`` has been contacted (or ``timeout`` passes);
        return the hosts seen so far so the caller can assert on them.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while not expected <= {c.host for c in self._contacts}:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return {c.host for c in self._contacts}

    def sync(self, timeout: float = 5.0) -> list[Contact]:
        """Every contact made before this call, including connections still being read.

        A connection of our own goes through the same listen queue after every connection
        the browser has already opened, so once the sink has identified it, all earlier
        ones have been accepted; the sink then waits (bounded) for those to say their host.
        """
        with self._changed:
            number = self._next_sync
            self._next_sync += 1
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as probe:
            probe.sendall(_SYNC_PREFIX + str(number).encode() + b"\n")
            deadline = time.monotonic() + timeout
            with self._changed:
                while number not in self._synced or self._synced[number] & self._pending.keys():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._changed.wait(remaining)
                if number not in self._synced:
                    raise TimeoutError("the tracker sink did not answer its sync probe")
                # A connection that never said its host is still a contact.
                silent = self._synced.pop(number) & self._pending.keys()
                return list(self._contacts) + [Contact(UNIDENTIFIED, "silent")] * len(silent)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for conn in list(self._pending):
            self._finish(conn, UNIDENTIFIED, "unknown")
        self._selector.close()
        self._listener.close()

    # --- the sink thread -------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _events in self._selector.select(timeout=0.05):
                if key.fileobj is self._listener:
                    self._accept()
                else:
                    assert isinstance(key.fileobj, socket.socket)
                    self._read(key.fileobj)

    def _accept(self) -> None:
        while True:
            try:
                conn, _addr = self._listener.accept()
            except BlockingIOError:
                return
            conn.setblocking(False)
            with self._changed:
                self._pending[conn] = _Pending(bytearray())
            self._selector.register(conn, selectors.EVENT_READ)

    def _read(self, conn: socket.socket) -> None:
        pending = self._pending[conn]
        try:
            chunk = conn.recv(16384)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        pending.buffer += chunk
        data = bytes(pending.buffer)
        try:
            if data.startswith(_SYNC_PREFIX):
                if not data.endswith(b"\n"):
                    raise _Incomplete
                self._finish_sync(conn, int(data[len(_SYNC_PREFIX) :]))
                return
            if data[:1] == b"\x16":
                host = client_hello_server_name(data)
                self._finish(conn, host or UNIDENTIFIED, "tls")
            elif data:
                host = http_host(data)
                self._answer(conn)
                self._finish(conn, host or UNIDENTIFIED, "http")
            else:
                raise _Incomplete
        except _Incomplete:
            if not chunk or len(data) > _MAX_BUFFER:
                self._finish(conn, UNIDENTIFIED, "unknown")
        except (ValueError, IndexError, UnicodeDecodeError):
            self._finish(conn, UNIDENTIFIED, "unknown")

    def _answer(self, conn: socket.socket) -> None:
        # An answer (rather than a reset) keeps the browser from retrying the request.
        try:
            conn.setblocking(True)
            conn.settimeout(1.0)
            conn.sendall(_HTTP_ANSWER)
        except OSError:
            pass

    def _finish(self, conn: socket.socket, host: str, kind: str) -> None:
        self._unregister(conn)
        with self._changed:
            del self._pending[conn]
            self._contacts.append(Contact(host, kind))
            self._changed.notify_all()

    def _finish_sync(self, conn: socket.socket, number: int) -> None:
        self._unregister(conn)
        with self._changed:
            del self._pending[conn]
            self._synced[number] = set(self._pending)
            self._changed.notify_all()

    def _unregister(self, conn: socket.socket) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn)
        conn.close()
