"""Fault injection shared by both simulators: what can go wrong, per endpoint, switched at start or at run time.

An endpoint key is ``family`` or ``family:operation`` (``soap``, ``soap:LayChiTietHoSo``, ``dvcqg``,
``dvcqg:DongBoHoSoMC``, ``api``, ``api:create``, ``lgsp``, ``lgsp:token``) or ``*``; the most specific key that has
a spec decides. Every roll comes from one seeded RNG, so a run with a seed fails the same way again; a rate of 1.0
always fires, and ``times`` limits a spec to the next N requests it matches.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

Rate = float


class FaultSpec(BaseModel):
    """The faults of one endpoint; every ``*_rate`` is a probability per request."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: float = Field(default=0.0, ge=0, description="median / fixed added latency")
    latency_jitter_ms: float = Field(default=0.0, ge=0, description="spread: uniform width or lognormal sigma×median")
    latency_distribution: Literal["fixed", "uniform", "lognormal"] = "uniform"
    error_rate: Rate = Field(default=0.0, ge=0, le=1, description="answer HTTP error_status with no useful body")
    error_status: Literal[500, 502, 503] = 500
    soap_fault_rate: Rate = Field(default=0.0, ge=0, le=1, description="SOAP: an INTERNAL SOAP Fault")
    hang_rate: Rate = Field(default=0.0, ge=0, le=1, description="hold the connection hang_seconds, answer nothing")
    hang_seconds: float = Field(default=30.0, ge=0)
    rate_limit_rate: Rate = Field(default=0.0, ge=0, le=1, description="429 Too Many Requests with Retry-After")
    retry_after: int = Field(default=2, ge=0)
    truncate_rate: Rate = Field(default=0.0, ge=0, le=1, description="200 with the body cut in half")
    malformed_rate: Rate = Field(default=0.0, ge=0, le=1, description="200 with a syntactically broken body")
    expire_session_rate: Rate = Field(default=0.0, ge=0, le=1, description="portal: the session/token is expired")
    error_in_200_rate: Rate = Field(default=0.0, ge=0, le=1, description="portal: 200 with a non-zero error_code")
    feed_duplicate_rate: Rate = Field(default=0.0, ge=0, le=1, description="SOAP feed: entries repeated")
    feed_shuffle_rate: Rate = Field(default=0.0, ge=0, le=1, description="SOAP feed: a page out of order")
    feed_unreadable_rate: Rate = Field(
        default=0.0, ge=0, le=1, description="vendor feeds: the page's first entry without its change time or revision"
    )
    times: int | None = Field(default=None, ge=1, description="only the next N matching requests")


@dataclass(slots=True)
class Decision:
    """What to do to one request; at most one of the failures that replace the answer is set."""

    delay: float = 0.0  # seconds added before answering
    hang: float = 0.0
    rate_limited: int | None = None  # Retry-After seconds
    error_status: int | None = None
    soap_fault: bool = False
    expire_session: bool = False
    error_in_200: bool = False
    truncate: bool = False
    malformed: bool = False
    feed_duplicate: Rate = 0.0
    feed_shuffle: bool = False
    feed_unreadable: bool = False


class FaultInjector:
    """The fault specs by endpoint and the seeded RNG that rolls them; thread-safe."""

    def __init__(self, seed: int = 0, specs: dict[str, FaultSpec] | None = None) -> None:
        self.rng = random.Random(f"faults:{seed}")
        self._specs: dict[str, FaultSpec] = dict(specs or {})
        self._left: dict[str, int] = {k: s.times for k, s in self._specs.items() if s.times is not None}
        self._lock = threading.Lock()

    def set(self, endpoint: str, spec: FaultSpec | dict[str, Any]) -> FaultSpec:
        parsed = spec if isinstance(spec, FaultSpec) else FaultSpec.model_validate(spec)
        with self._lock:
            self._specs[endpoint] = parsed
            self._left.pop(endpoint, None)
            if parsed.times is not None:
                self._left[endpoint] = parsed.times
        return parsed

    def clear(self, endpoint: str | None = None) -> None:
        with self._lock:
            if endpoint is None:
                self._specs.clear()
                self._left.clear()
            else:
                self._specs.pop(endpoint, None)
                self._left.pop(endpoint, None)

    def specs(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {k: v.model_dump(exclude_defaults=True) for k, v in self._specs.items()}

    def decide(self, family: str, operation: str | None = None) -> Decision:
        """Roll the dice for one request to ``family`` / ``operation``."""
        with self._lock:
            key = next(
                (k for k in (f"{family}:{operation}" if operation else None, family, "*") if k in self._specs), None
            )
            if key is None:
                return Decision()
            spec = self._specs[key]
            if key in self._left:
                self._left[key] -= 1
                if self._left[key] <= 0:
                    del self._left[key]
                    del self._specs[key]
            return self._roll(spec)

    def _roll(self, spec: FaultSpec) -> Decision:
        rng = self.rng
        d = Decision(delay=self._latency(spec) / 1000.0)

        def hit(rate: float) -> bool:
            return rate > 0 and rng.random() < rate

        if hit(spec.hang_rate):
            d.hang = spec.hang_seconds
        elif hit(spec.rate_limit_rate):
            d.rate_limited = spec.retry_after
        elif hit(spec.error_rate):
            d.error_status = spec.error_status
        elif hit(spec.soap_fault_rate):
            d.soap_fault = True
        elif hit(spec.expire_session_rate):
            d.expire_session = True
        elif hit(spec.error_in_200_rate):
            d.error_in_200 = True
        elif hit(spec.truncate_rate):
            d.truncate = True
        elif hit(spec.malformed_rate):
            d.malformed = True
        d.feed_duplicate = spec.feed_duplicate_rate
        d.feed_shuffle = hit(spec.feed_shuffle_rate)
        d.feed_unreadable = hit(spec.feed_unreadable_rate)
        return d

    def _latency(self, spec: FaultSpec) -> float:
        if spec.latency_distribution == "fixed" or spec.latency_jitter_ms == 0:
            return spec.latency_ms
        if spec.latency_distribution == "uniform":
            return spec.latency_ms + self.rng.random() * spec.latency_jitter_ms
        median = max(spec.latency_ms, 0.001)
        return self.rng.lognormvariate(0.0, spec.latency_jitter_ms / median) * median


def load(path: Path) -> dict[str, FaultSpec]:
    """Fault specs from a YAML file mapping endpoint keys to specs (``soap:LayChiTietHoSo: {error_rate: 0.1}``)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): FaultSpec.model_validate(v or {}) for k, v in data.items()}


def truncate(body: bytes) -> bytes:
    return body[: max(1, len(body) // 2)]


def malform_xml(body: bytes) -> bytes:
    # an entity reference that never ends: every XML parser stops here
    return body.replace(b">", b">&broken", 1)


def malform_json(body: bytes) -> bytes:
    return b"{'" + body[1:]
