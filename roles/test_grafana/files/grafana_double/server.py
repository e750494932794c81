"""HTTP(S) glue: a threaded HTTP/1.1 server with keep-alive around :class:`app.Double`.

Every response carries ``Content-Length`` (so one connection serves many requests, which the
collection's one-session-per-run design and the benchmarks rely on) and a ``Date`` header
from the double's clock (the collection takes "now" from it).
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

from .app import Double, Drop
from .clock import http_date
from .context import Request
from .responses import Response

MAX_BODY = 10 * 1024 * 1024
IDLE_TIMEOUT = 120  # seconds an idle keep-alive connection may stay open


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    server: "DoubleHTTPServer"

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes; without NODELAY, Nagle plus the client's
        # delayed ACK would add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(self.connection, ssl.SSLSocket):
            # Handshake here, in the connection's thread, so a slow client never blocks accept().
            self.connection.do_handshake()

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        body = self._read_body()
        if body is None:
            return
        request = Request.build(self.command, self.path, self.headers.items(), body)
        outcome = self.server.double.handle(request)
        if isinstance(outcome, Drop):
            self._drop()
        else:
            self._send(outcome)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> Optional[bytes]:
        """The whole body, so the connection stays in sync for the next request."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        if not length.isdigit() or int(length) > MAX_BODY:
            self.send_error(400 if not length.isdigit() else 413)
            return None
        return self.rfile.read(int(length))

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline().strip():  # trailers
            pass
        return b"".join(chunks)

    def _send(self, response: Response) -> None:
        self.send_response_only(response.status)
        self.send_header("Date", self.date_time_string())
        for name, value in response.headers:
            self.send_header(name, value)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _drop(self) -> None:
        """Close without a single byte of response (a crashed upstream)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def date_time_string(self, timestamp: Optional[float] = None) -> str:
        return http_date(self.server.double.clock.now())

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        """Quiet: the request log is available through the control API."""


class DoubleHTTPServer(ThreadingHTTPServer):
    """One thread per connection; daemon threads so idle keep-alives never block shutdown."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # listen backlog: benchmarks open many connections at once

    def __init__(
        self, host: str, port: int, double: Double, tls: Optional[ssl.SSLContext] = None
    ) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)
        self.double = double
        if tls is not None:
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def handle_error(self, request: object, client_address: object) -> None:
        """One line instead of a traceback: clients hanging up is normal in fault tests."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, ssl.SSLError, socket.timeout)):
            print(f"grafana_double: error serving {client_address}: {error!r}", file=sys.stderr)


def tls_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    return context


def write_atomically(path: str, text: str) -> None:
    """Temp file + rename in the same directory: readers see nothing or the whole content."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".grafana-double-", dir=directory)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, path)


def _remove(path: Optional[str]) -> None:
    if path:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def run(
    server: DoubleHTTPServer, port_file: Optional[str] = None, pid_file: Optional[str] = None
) -> int:
    """Serve until SIGTERM/SIGINT, then close the socket, remove the files and return 0."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    worker = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    worker.start()
    if pid_file:
        write_atomically(pid_file, f"{os.getpid()}\n")
    if port_file:
        write_atomically(port_file, str(server.port))  # only now: the socket already listens
    scheme = "https" if isinstance(server.socket, ssl.SSLSocket) else "http"
    print(
        f"grafana_double {server.double.settings.version} listening on {scheme}://"
        f"{server.server_address[0]}:{server.port}{server.double.config.sub_path}",
        file=sys.stderr,
        flush=True,
    )
    try:
        while not stop.wait(0.2):
            pass
    finally:
        server.shutdown()
        server.server_close()
        _remove(port_file)
        _remove(pid_file)
    return 0
