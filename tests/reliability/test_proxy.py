"""The fault proxy itself, against a local echo server: each fault does what it says, so a
fault test that passes proves something."""

from __future__ import annotations

import contextlib
import queue
import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from tests.reliability.proxy import FaultProxy


class Echo(socketserver.BaseRequestHandler):
    """Echoes; when a connection ends, what it received is put on ``received``."""

    received: queue.Queue[bytes] = queue.Queue()

    def handle(self) -> None:
        seen = b""
        try:
            while data := self.request.recv(65536):
                seen += data
                self.request.sendall(data)
        except OSError:
            pass
        finally:
            self.received.put(seen)


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    while not Echo.received.empty():
        Echo.received.get()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with FaultProxy(server.server_address) as p:  # type: ignore[arg-type]
            yield p
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def connect(proxy: FaultProxy) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    return sock


def echo(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def test_forwards_both_ways(proxy: FaultProxy) -> None:
    with connect(proxy) as sock:
        assert echo(sock, b"hello" * 1000) == b"hello" * 1000
    assert proxy.stats.bytes_up == proxy.stats.bytes_down == 5000


def test_cut_after_n_bytes_exactly_then_forwards_again(proxy: FaultProxy) -> None:
    proxy.cut_after(10)
    with connect(proxy) as sock:
        sock.sendall(b"0123456789abcdef")
        with contextlib.suppress(ConnectionResetError):
            while sock.recv(100):  # until the proxy closes the connection
                pass
    assert Echo.received.get(timeout=10) == b"0123456789"  # exactly the first 10 bytes
    assert proxy.stats.cuts == 1 and proxy.fault.kind == "forward"
    with connect(proxy) as sock:
        assert echo(sock, b"again") == b"again"


def test_cut_that_stays_down_resets_later_connections(proxy: FaultProxy) -> None:
    proxy.cut_after(3, once=False, reset=True)
    with connect(proxy) as sock:
        sock.sendall(b"abcdef")
        with pytest.raises((ConnectionResetError, ConnectionAbortedError)):
            while sock.recv(100):
                pass
    with pytest.raises((ConnectionResetError, BrokenPipeError)), connect(proxy) as sock:
        sock.sendall(b"x")  # the reset may come at connect, at send or at recv
        sock.recv(100)


def test_down_resets_live_connections_and_forward_restores(proxy: FaultProxy) -> None:
    live = connect(proxy)
    assert echo(live, b"up") == b"up"
    proxy.down()
    with pytest.raises((ConnectionResetError, BrokenPipeError)):
        live.sendall(b"x")
        if live.recv(100) == b"":
            raise ConnectionResetError  # an orderly close is a dropped connection too
    live.close()
    proxy.forward()
    with connect(proxy) as sock:
        assert echo(sock, b"back") == b"back"


def test_hang_answers_nothing_until_lifted(proxy: FaultProxy) -> None:
    live = connect(proxy)
    proxy.hang()
    live.settimeout(0.3)
    live.sendall(b"anyone?")
    with pytest.raises(TimeoutError):
        live.recv(100)
    proxy.forward()  # the held connection is dropped, new ones work
    live.settimeout(5)
    with pytest.raises((ConnectionResetError, OSError)):
        if live.recv(100) == b"":
            raise ConnectionResetError
    live.close()
    with connect(proxy) as sock:
        assert echo(sock, b"ok") == b"ok"


def test_error_answers_an_s3_error_document(proxy: FaultProxy) -> None:
    proxy.error(503, "SlowDown")
    with connect(proxy) as sock:
        sock.sendall(b"HEAD /b/k HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 503 SlowDown\r\n")
    assert b"<Code>SlowDown</Code>" in answer and proxy.stats.bytes_up == 0


def test_stop_listening_refuses_and_start_reopens_the_same_port(proxy: FaultProxy) -> None:
    port = proxy.port
    proxy.stop_listening()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    proxy.start()
    assert proxy.port == port
    with connect(proxy) as sock:
        assert echo(sock, b"again") == b"again"
