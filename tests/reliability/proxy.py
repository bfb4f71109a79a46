"""A small fault-injecting TCP proxy on 127.0.0.1, between boto3 and the S3 server.

It forwards bytes both ways, one thread per connection (at most ``max_connections`` at a
time: one more is reset on arrival), and can be switched at any moment to:

* ``forward()``: pass everything through (the default);
* ``cut_after(n)``: close (FIN) or reset (RST) the connection whose client-to-server bytes,
  counted over all connections since the call, cross ``n``, exactly at byte ``n``; with
  ``once=True`` the proxy then forwards again (a blip a retry can survive), otherwise it
  stays down (every connection reset on arrival);
* ``down()``: reset every live connection and every new one (a server that died);
* ``hang()``: swallow every request, on new and kept-alive connections, and never answer
  (a stuck server: read timeouts fire); lifting it resets the connections it held;
* ``delay(s)``: hold each server-to-client chunk for ``s`` seconds (a slow server);
* ``error(503, "SlowDown")``: answer every request with that S3 error, never forwarding it
  (an overloaded or failing server: the one fault here that is an HTTP answer);
* ``stop_listening()`` / ``start()``: close the listening socket (connection refused, a
  stopped server) and open it again on the same port (the server restarted).

From the client's side each of these is what a stopped, crashed or slow S3 server does, so
the shared session RGW never has to be stopped.
"""

from __future__ import annotations

import dataclasses
import select
import socket
import struct
import threading
from typing import Any

CHUNK = 64 * 1024


@dataclasses.dataclass(frozen=True)
class Fault:
    kind: str = "forward"  # forward | cut | down | hang | delay | error
    after: int = 0  # cut: client-to-server bytes allowed before the cut
    reset: bool = False  # cut: RST instead of FIN
    once: bool = True  # cut: forward again after the one cut
    seconds: float = 0.0  # delay
    status: int = 0  # error
    code: str = ""  # error

    def response(self) -> bytes:
        """The HTTP answer of an ``error`` fault: S3's XML error document."""
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>Injected by the test proxy.</Message>"
            "<RequestId>proxy</RequestId></Error>"
        ).encode()
        head = (
            f"HTTP/1.1 {self.status} {self.code}\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        return head.encode() + body


@dataclasses.dataclass
class Stats:
    connections: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    cuts: int = 0
    resets: int = 0
    hung: int = 0
    overflow: int = 0


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a crashed peer does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def _answer(sock: socket.socket, payload: bytes) -> None:
    """Send ``payload``, then FIN, then read until the peer closes: closing with unread input
    would send an RST that can destroy the answer before the peer reads it."""
    sock.settimeout(10)
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)
    while sock.recv(CHUNK):
        pass
    sock.close()


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class FaultProxy:
    """``FaultProxy((host, port))``: ``start()``, ``url``, the fault switches, ``close()``."""

    def __init__(self, upstream: tuple[str, int], *, max_connections: int = 256) -> None:
        self.upstream = upstream
        self.port = 0
        self.stats = Stats()
        self._fault = Fault()
        self._sent = 0  # client-to-server bytes since the current fault was set
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._slots = threading.BoundedSemaphore(max_connections)
        self._listener: socket.socket | None = None
        self._live: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._closed = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        """Listen (again, on the same port after ``stop_listening``) and accept."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        self._spawn(self._accept_loop, listener)
        return self

    def stop_listening(self) -> None:
        """New connections are refused and live ones reset: the server is gone."""
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        self._reset_live()

    def close(self) -> None:
        self._closed.set()
        self.stop_listening()
        with self._changed:
            self._changed.notify_all()
        for thread in list(self._threads):
            thread.join(timeout=10)
        assert not any(t.is_alive() for t in self._threads), "proxy threads did not stop"

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- faults --------------------------------------------------------------------------

    def _set(self, fault: Fault) -> None:
        with self._changed:
            self._fault = fault
            self._sent = 0
            self._changed.notify_all()

    def forward(self) -> None:
        self._set(Fault())

    def cut_after(self, nbytes: int, *, reset: bool = False, once: bool = True) -> None:
        self._set(Fault("cut", after=nbytes, reset=reset, once=once))

    def down(self) -> None:
        self._set(Fault("down"))
        self._reset_live()

    def hang(self) -> None:
        self._set(Fault("hang"))

    def delay(self, seconds: float) -> None:
        self._set(Fault("delay", seconds=seconds))

    def error(self, status: int = 503, code: str = "SlowDown") -> None:
        self._set(Fault("error", status=status, code=code))

    @property
    def fault(self) -> Fault:
        with self._lock:
            return self._fault

    # -- plumbing ------------------------------------------------------------------------

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=self._run, args=(target, *args), daemon=True)
        with self._lock:
            self._threads = {t for t in self._threads if t.is_alive()}
            self._threads.add(thread)
        thread.start()

    def _run(self, target: Any, *args: Any) -> None:
        try:
            target(*args)
        except (OSError, ValueError):
            pass  # a socket the proxy itself shut down, reset or closed

    def _reset_live(self) -> None:
        """Shut down every live socket with linger 0: their threads wake (a closed fd would
        not wake ``select``) and close them, which sends the RST."""
        with self._lock:
            live, self._live = list(self._live), set()
        for sock in live:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._closed.is_set():
            client, _ = listener.accept()  # OSError once the listener is closed: the end
            if not self._slots.acquire(blocking=False):
                with self._lock:
                    self.stats.overflow += 1
                _reset(client)
                continue
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        try:
            self._connection(client)
        finally:
            self._slots.release()

    def _connection(self, client: socket.socket) -> None:
        with self._lock:
            self.stats.connections += 1
            fault = self._fault
        if fault.kind == "down" or (fault.kind == "cut" and fault.after <= 0 and not fault.once):
            with self._lock:
                self.stats.resets += 1
            _reset(client)
            return
        if fault.kind == "hang":
            with self._changed:
                self.stats.hung += 1  # held open, silent, until the fault changes or we close
                self._live.add(client)
                self._changed.wait_for(lambda: self._closed.is_set() or self._fault is not fault)
                self._live.discard(client)
            _reset(client)
            return
        if fault.kind == "error":
            client.settimeout(10)
            if client.recv(CHUNK):  # the request's first bytes; the rest is never forwarded
                _answer(client, fault.response())
            client.close()
            return
        upstream = socket.create_connection(self.upstream, timeout=10)
        with self._lock:
            self._live |= {client, upstream}
        try:
            self._pump(client, upstream)
        finally:
            with self._lock:
                self._live -= {client, upstream}
            client.close()
            upstream.close()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        for sock in (client, upstream):
            sock.settimeout(30)
        while not self._closed.is_set():
            ready, _, _ = select.select([client, upstream], [], [], 0.5)
            for sock in ready:
                data = sock.recv(CHUNK)
                if not data:
                    return
                if sock is client:
                    if not self._forward_up(client, upstream, data):
                        return
                else:
                    fault = self.fault
                    if fault.kind == "hang":
                        self._hold(fault)
                        return
                    if fault.kind == "delay":
                        self._closed.wait(fault.seconds)  # the fault itself: a slow server
                    with self._lock:
                        self.stats.bytes_down += len(data)
                    client.sendall(data)

    def _hold(self, fault: Fault) -> None:
        """Swallow a live connection's traffic until ``fault`` is lifted (a stuck server)."""
        with self._changed:
            self.stats.hung += 1
            self._changed.wait_for(lambda: self._closed.is_set() or self._fault is not fault)

    def _forward_up(self, client: socket.socket, upstream: socket.socket, data: bytes) -> bool:
        """Send ``data`` upstream, or the part of it before a cut and then cut: False."""
        with self._lock:
            fault = self._fault
        if fault.kind == "hang":
            self._hold(fault)
            _reset(client)
            _reset(upstream)
            return False
        with self._lock:
            fault = self._fault
            allowed = len(data)
            cut = False
            if fault.kind == "cut":
                allowed = max(0, min(len(data), fault.after - self._sent))
                cut = allowed < len(data)
                self._sent += allowed
                if cut:
                    self.stats.cuts += 1
                    self._fault = Fault() if fault.once else Fault("cut", once=False)
                    self._changed.notify_all()
            elif fault.kind in ("down", "error"):
                allowed, cut = 0, True
        if allowed:
            with self._lock:
                self.stats.bytes_up += allowed
            upstream.sendall(data[:allowed])
        if cut:
            if fault.kind == "error":
                _close(upstream)
                _answer(client, fault.response())
            elif fault.reset or fault.kind == "down":
                _reset(client)
                _reset(upstream)
            else:
                _close(client)
                _close(upstream)
            return False
        return True
