"""A real HTTP server that misbehaves on purpose: it trickles its answer a byte at a time, or sends 50 MB.

Used by tests/connectors/test_bounds.py and ``bench/bench_bounds.py``: the bounds are about sockets and memory, which
``responses`` (no socket at all) cannot show.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUGE_BYTES = 50 * 1024 * 1024
_BLOCK = b"<x>" + b"0" * (64 * 1024 - 7) + b"</x>"  # one block, sent again and again: the server keeps no copy


class _Handler(BaseHTTPRequestHandler):
    stop: threading.Event
    trickle_every: float

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        if self.path.endswith("/trickle"):
            self._trickle()
        else:
            self._huge()

    def _trickle(self) -> None:
        body = b'{"error_code": 0, "data": []}' + b" " * 1000
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for byte in body:
            if self.stop.wait(self.trickle_every):
                return
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return  # the client cut the call off: what the test wants

    def _huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        if not self.path.endswith("/unsized"):
            self.send_header("Content-Length", str(HUGE_BYTES))
        self.end_headers()
        sent = 0
        try:
            while sent < HUGE_BYTES and not self.stop.is_set():
                self.wfile.write(_BLOCK)
                sent += len(_BLOCK)
        except OSError:
            return

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test output is the assertions'."""


@contextmanager
def hostile_server(trickle_every: float = 1.0) -> Iterator[str]:
    """A server on a free local port; yields its base URL (paths: /trickle, /huge, /huge/unsized)."""
    stop = threading.Event()
    handler = type("Handler", (_Handler,), {"stop": stop, "trickle_every": trickle_every})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="hostile-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
