"""An in-memory connector that is both a :class:`~connectors.base.Source` and a :class:`~connectors.base.Target`.

It is the fake beside the real connectors (dramatiq's ``StubBroker``): hub tests seed dossiers per unit, read the
change feed and dossiers back through the same interface the SOAP connector offers, and assert on what was pushed
and how often (delivery is at-least-once, so the push counters are how a test proves idempotence). Failures are
injected per operation, and per dossier, either as a queue of :class:`~hub.errors.HubError` or as a callable.
Every method is thread-safe: the embedded broker runs actors on several worker threads at once.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import typing
from collections import defaultdict, deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Self

from connectors.base import ChangePage, ChangeRef, Health, PushResult, RawRecord
from connectors.errors import RemoteRejected
from foundation.clock import VN_TZ
from foundation.errors import HubError

Operation = Literal["fetch_changes", "get_dossier", "lookup", "push_dossiers", "push_progress", "health"]
OPERATIONS: tuple[Operation, ...] = typing.get_args(Operation)

# ``(operation, unit_code, dossier_code) -> error to raise, or None``; dossier_code is None for whole-call checks.
FailureHook = Callable[[str, str, str | None], HubError | None]
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(VN_TZ)


@dataclass(frozen=True, slots=True)
class Call:
    """One call the fake received, for tests that assert on batching and order."""

    operation: str
    unit_code: str
    dossier_codes: tuple[str, ...]


@dataclass(slots=True)
class _Stored:
    record: RawRecord
    ref: ChangeRef


class FakeConnector:
    """A one-stop-shop and a portal in memory: seed with :meth:`put`, inspect with :attr:`pushed` and friends."""

    def __init__(
        self,
        name: str = "fake",
        *,
        code_field: str = "MaHoSo",
        page_size: int = 100,
        progress_chunk: int = 10,
        clock: Clock = _now,
        failures: FailureHook | None = None,
        latency: float = 0.0,
    ) -> None:
        self.name = name
        self.code_field = code_field
        self.page_size = page_size
        self.progress_chunk = progress_chunk
        self.failures = failures
        self.latency = latency
        self._clock = clock
        self._lock = threading.RLock()
        self._source: dict[str, dict[str, _Stored]] = defaultdict(dict)
        self._queued: dict[tuple[str, str | None], deque[HubError]] = defaultdict(deque)
        self._pushed: dict[str, RawRecord] = {}
        self._progress: dict[str, list[RawRecord]] = defaultdict(list)
        self._push_counts: dict[tuple[str, str], int] = defaultdict(int)
        self._calls: list[Call] = []
        self.closed = False

    # ── seeding and failure injection ──────────────────────────────────────────────────────────────────────

    def put(self, unit_code: str, record: RawRecord, *, updated_at: datetime | None = None) -> ChangeRef:
        """Create or change a dossier at the source; it enters the change feed with the record's own revision
        (``PhienBan``), or the previous one's plus one when the record carries none, as a real feed announces it."""
        code = self._code(record)
        with self._lock:
            previous = self._source[unit_code].get(code)
            own = record.get("PhienBan")
            version = own if isinstance(own, int) else (previous.ref.version + 1 if previous else 1)
            ref = ChangeRef(code, updated_at or self._clock(), version)
            self._source[unit_code][code] = _Stored(copy.deepcopy(record), ref)
            return ref

    def fail(self, operation: Operation, *errors: HubError, dossier_code: str | None = None) -> None:
        """Queue errors for the next calls of ``operation`` (for one dossier when ``dossier_code`` is given).

        A dossier-scoped error on a push is reported in that record's :class:`PushResult`; every other queued
        error is raised by the call that consumes it.
        """
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; one of {OPERATIONS}")
        with self._lock:
            self._queued[(operation, dossier_code)].extend(errors)

    def seed_target(self, record: RawRecord) -> None:
        """Put a dossier on the target side as if an earlier run had pushed it (not counted as a push)."""
        with self._lock:
            self._pushed[self._code(record)] = copy.deepcopy(record)

    def drop_target(self, dossier_code: str) -> None:
        """Lose a dossier on the target side, as a portal that was restored from an old backup would."""
        with self._lock:
            self._pushed.pop(dossier_code, None)

    # ── Source ─────────────────────────────────────────────────────────────────────────────────────────────

    def fetch_changes(self, unit_code: str, since: datetime, token: str | None = None) -> ChangePage:
        """The latest revision of every dossier changed at or after ``since``, oldest first; token = offset."""
        self._enter("fetch_changes", unit_code, ())
        with self._lock:
            refs = sorted(
                (s.ref for s in self._source.get(unit_code, {}).values() if s.ref.updated_at >= since),
                key=lambda r: (r.updated_at, r.dossier_code),
            )
        start = int(token) if token else 0
        end = start + self.page_size
        return ChangePage(items=refs[start:end], next_token=str(end) if end < len(refs) else None)

    def get_dossier(self, unit_code: str, dossier_code: str, *, seen: ChangeRef | None = None) -> RawRecord:
        self._enter("get_dossier", unit_code, (dossier_code,))
        self._raise_scoped("get_dossier", unit_code, dossier_code)
        with self._lock:
            stored = self._source.get(unit_code, {}).get(dossier_code)
            if stored is None:
                raise RemoteRejected(
                    f"Không tìm thấy hồ sơ {dossier_code} tại đơn vị {unit_code} "
                    f"(dossier not found at unit {unit_code})",
                    remote_message="Không tìm thấy hồ sơ",
                    status_code=404,
                    dossier_code=dossier_code,
                    target=self.name,
                )
            return copy.deepcopy(stored.record)

    # ── Target ─────────────────────────────────────────────────────────────────────────────────────────────

    def lookup(self, unit_code: str, dossier_code: str) -> RawRecord | None:
        self._enter("lookup", unit_code, (dossier_code,))
        self._raise_scoped("lookup", unit_code, dossier_code)
        with self._lock:
            found = self._pushed.get(dossier_code)
            return copy.deepcopy(found) if found is not None else None

    def push_dossiers(
        self, unit_code: str, records: Sequence[RawRecord], *, existing: Collection[str] | None = None
    ) -> list[PushResult]:
        codes = tuple(self._code(r) for r in records)
        self._enter("push_dossiers", unit_code, codes)
        results: list[PushResult] = []
        for code, record in zip(codes, records, strict=True):
            error = self._scoped_error("push_dossiers", unit_code, code)
            if error is not None:
                results.append(PushResult(code, error=error))
                continue
            with self._lock:
                created = code not in self._pushed
                self._pushed[code] = copy.deepcopy(record)
                self._push_counts[(code, _fingerprint(record))] += 1
            results.append(PushResult(code, created=created))
        return results

    def push_progress(self, unit_code: str, entries: Sequence[RawRecord]) -> list[PushResult]:
        codes = tuple(self._code(e) for e in entries)
        results: list[PushResult] = []
        # Chunked like the portal's progress call, so tests of the hub see the same number of round trips.
        for start in range(0, len(entries), self.progress_chunk):
            chunk = entries[start : start + self.progress_chunk]
            chunk_codes = codes[start : start + self.progress_chunk]
            self._enter("push_progress", unit_code, chunk_codes)
            for code, entry in zip(chunk_codes, chunk, strict=True):
                error = self._scoped_error("push_progress", unit_code, code)
                if error is not None:
                    results.append(PushResult(code, error=error))
                    continue
                with self._lock:
                    self._progress[code].append(copy.deepcopy(entry))
                    self._push_counts[(code, _fingerprint(entry))] += 1
                results.append(PushResult(code, created=True))
        return results

    # ── both ───────────────────────────────────────────────────────────────────────────────────────────────

    def health(self) -> Health:
        started = time.perf_counter()
        try:
            self._enter("health", "", ())
        except HubError as exc:
            return Health(ok=False, latency_ms=(time.perf_counter() - started) * 1000, detail=str(exc))
        return Health(ok=True, latency_ms=(time.perf_counter() - started) * 1000, detail="in-memory")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.closed = True

    # ── inspection ─────────────────────────────────────────────────────────────────────────────────────────

    @property
    def pushed(self) -> dict[str, RawRecord]:
        """The target's dossiers by code, as last pushed (copies)."""
        with self._lock:
            return copy.deepcopy(self._pushed)

    def progress(self, dossier_code: str) -> list[RawRecord]:
        """The progress entries pushed for a dossier, in order (copies)."""
        with self._lock:
            return copy.deepcopy(self._progress.get(dossier_code, []))

    def push_count(self, dossier_code: str, record: RawRecord | None = None) -> int:
        """How many times ``record`` was pushed for the dossier (dossiers and progress); all records when None."""
        with self._lock:
            if record is not None:
                return self._push_counts.get((dossier_code, _fingerprint(record)), 0)
            return sum(n for (code, _), n in self._push_counts.items() if code == dossier_code)

    @property
    def calls(self) -> list[Call]:
        """Every call received, in order."""
        with self._lock:
            return list(self._calls)

    # ── internals ──────────────────────────────────────────────────────────────────────────────────────────

    def _code(self, record: RawRecord) -> str:
        try:
            return str(record[self.code_field])
        except KeyError:
            raise ValueError(f"record has no {self.code_field!r} field: {sorted(record)}") from None

    def _enter(self, operation: str, unit_code: str, codes: tuple[str, ...]) -> None:
        """Record the call, wait the simulated latency, raise a whole-call injected failure if one is due."""
        with self._lock:
            self._calls.append(Call(operation, unit_code, codes))
            queued = self._queued.get((operation, None))
            error = queued.popleft() if queued else None
        if self.latency:
            time.sleep(self.latency)
        if error is None and self.failures is not None:
            error = self.failures(operation, unit_code, None)
        if error is not None:
            raise error

    def _scoped_error(self, operation: str, unit_code: str, dossier_code: str) -> HubError | None:
        with self._lock:
            queued = self._queued.get((operation, dossier_code))
            if queued:
                return queued.popleft()
        if self.failures is not None:
            return self.failures(operation, unit_code, dossier_code)
        return None

    def _raise_scoped(self, operation: str, unit_code: str, dossier_code: str) -> None:
        error = self._scoped_error(operation, unit_code, dossier_code)
        if error is not None:
            raise error


def _fingerprint(record: RawRecord) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
