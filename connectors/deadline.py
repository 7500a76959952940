"""An overall deadline for an HTTP call: connect, send and the whole answer, whatever pace the server keeps.

``requests`` only bounds each wait on the socket (the read timeout), so a server that trickles one byte a second
holds a call for as long as it likes. :class:`DeadlineAdapter` makes every connection it opens announce itself to
the calling thread's :class:`Deadline`; one :class:`Watchdog` thread per process shuts those sockets down when a
deadline passes, which ends the blocked read at once. The caller then sees :attr:`Deadline.expired` and reports a
deadline error instead of whatever the cut-off read raised (or the short body it returned).
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class Deadline:
    """One call's deadline and the connections it used; :meth:`expire` cuts them off."""

    __slots__ = ("_lock", "_sockets", "at", "expired")

    def __init__(self, at: float) -> None:
        self.at = at  # time.monotonic() value
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            with suppress(OSError):  # already closed by its owner
                sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv; close() would not


class Watchdog:
    """One daemon thread that expires deadlines in time order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> Deadline:
        deadline = Deadline(time.monotonic() + seconds)
        with self._wake:
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="http-deadlines", daemon=True)
                self._thread.start()
            self._wake.notify()
        return deadline

    def disarm(self, deadline: Deadline) -> None:
        with self._wake:
            self._heap = [item for item in self._heap if item[2] is not deadline]
            heapq.heapify(self._heap)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap:
                    self._wake.wait()
                at, _, deadline = self._heap[0]
                wait = at - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._heap)
            deadline.expire()


WATCHDOG = Watchdog()


@contextmanager
def deadline(seconds: float, watchdog: Watchdog = WATCHDOG) -> Iterator[Deadline]:
    """Arm a deadline for the calls this thread makes inside the block."""
    armed = watchdog.arm(seconds)
    previous = getattr(_current, "deadline", None)
    _current.deadline = armed
    try:
        yield armed
    finally:
        _current.deadline = previous
        watchdog.disarm(armed)


class _Watched:
    """Mixed into urllib3's connections: each request registers the connection with the thread's deadline."""

    sock: socket.socket | None

    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)  # type: ignore[misc]
        current: Deadline | None = getattr(_current, "deadline", None)
        # The socket, not the connection: http.client hands the socket to the response and forgets it when the
        # server will close after answering. Connecting and sending are bounded by the connect and read timeouts.
        if current is not None and self.sock is not None:
            current.watch(self.sock)


class _Connection(_Watched, HTTPConnection):
    pass


class _SecureConnection(_Watched, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _SecurePool(HTTPSConnectionPool):
    ConnectionCls = _SecureConnection


class DeadlineAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections can be cut off by a :func:`deadline`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _SecurePool}
