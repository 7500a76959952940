"""Runtime settings: environment variables prefixed ``DVC_HUB_`` and an optional ``.env`` file.

Secrets (credentials of the remote systems) are never stored here in clear: a topology names a credentials
reference, and :func:`foundation.credentials.credentials` resolves it.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TOPOLOGY = PROJECT_ROOT / "config" / "topologies" / "quang-nam-2023.yaml"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything that changes between a laptop demo and a province's production cluster."""

    model_config = SettingsConfigDict(env_prefix="DVC_HUB_", env_file=".env", extra="ignore", frozen=True)

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'dvc-hub.sqlite3'}",
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://... in production",
    )
    broker_url: str = Field(
        default="memory://",
        description=(
            "memory:// for the embedded in-process broker; redis://host:6379/0 or amqp://user:pass@host:5672/vhost"
            " (RabbitMQ, durable queues) in production"
        ),
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for cross-process locks, tick claims and rate limits when the broker is RabbitMQ",
    )
    topology_file: Path = DEFAULT_TOPOLOGY
    topology_overlay: Path | None = Field(
        default=None, description="a second topology file whose systems (base URLs, credentials) override the first's"
    )
    secrets_dir: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] | None = Field(
        default=None, description="console in development, json in production unless set"
    )

    poll_overlap_seconds: int = Field(default=120, ge=0, description="a poll re-reads this much before its watermark")
    retry_max_attempts: int = Field(default=20, ge=1, description="a retryable failure is parked after this many")
    retry_max_age_seconds: int = Field(default=24 * 3600, ge=1, description="or when the message is this old")
    unexpected_max_attempts: int = Field(
        default=3, ge=1, description="an unexpected exception (a bug, not the remote) is parked after this many"
    )
    retry_min_backoff_ms: int = Field(default=1000, ge=1)
    retry_max_backoff_ms: int = Field(default=10 * 60 * 1000, ge=1)
    reconcile_after_seconds: int = Field(
        default=300, ge=1, description="a message queued or in flight this long without news is sent again"
    )
    message_lease_seconds: float = Field(
        default=60, gt=0, description="a claimed message is taken over if its worker stops renewing this long"
    )
    verify_deliveries_until: AwareDatetime | None = Field(
        default=None,
        description="until then, every delivery looks the target's copy up before pushing (after a database restore:"
        " docs/rebuild.md)",
    )
    attempt_body_cap: int = Field(
        default=65536, ge=0, description="characters of each request and answer body an attempt keeps verbatim"
    )
    worker_threads: int = Field(default=8, ge=1)
    date_min_year: int = Field(default=1990, ge=1900, description="a dossier date before this year is refused")
    date_max_year: int = Field(default=2100, le=9998, description="a dossier date after this year is refused")

    console_trusted_proxies: str = Field(
        default="", description="comma-separated proxy addresses whose X-Forwarded-For is believed; none by default"
    )
    console_metrics_token: str | None = Field(
        default=None, description="bearer token for /metrics on the console; unset: only on --metrics-port"
    )
    console_max_body_bytes: int = Field(default=1_000_000, ge=1024, description="larger request bodies get 413")
    console_api_docs: bool | None = Field(default=None, description="/api/docs: on in development, off in production")
    console_header_timeout: float = Field(
        default=10.0, gt=0, description="seconds a client has to send a request's headers; then it is cut"
    )
    console_keep_alive_timeout: float = Field(default=5.0, gt=0, description="an idle kept-alive connection closes")
    console_max_connections: int = Field(
        default=200, ge=1, description="open connections the console keeps; more are closed as they open"
    )
    signin_free_failures: int = Field(default=3, ge=0, description="failed sign-ins before a key starts waiting")
    signin_user_lockout_after: int = Field(
        default=10, ge=1, description="failures that lock a username, when they come from several addresses"
    )
    signin_lockout_addresses: int = Field(
        default=3, ge=2, description="addresses a username's failures must come from to lock it"
    )
    signin_client_lockout_after: int = Field(default=30, ge=1, description="failures that lock a client address")
    signin_lockout_seconds: int = Field(default=900, ge=1, description="how long a lockout lasts")

    retention_personal_days: int = Field(
        default=90, ge=1, description="request/response payloads (may hold personal data) are emptied after this"
    )
    retention_redacted_days: int = Field(default=365, ge=1, description="the redacted payloads, after this")
    retention_metadata_days: int = Field(
        default=5 * 365, ge=1, description="attempt rows are moved to the archive and deleted after this"
    )
    retention_audit_days: int = Field(
        default=5 * 365, ge=1, description="audit entries (sign-ins, who did what) are deleted after this"
    )
    archive_dir: Path = Field(default=PROJECT_ROOT / "var" / "archive", description="the attempts' archive files")
    log_chain_key_file: Path | None = Field(
        default=None,
        description="the integration log chain's HMAC key, kept outside the database (<secrets_dir>/log-chain-key "
        "when unset; production refuses to seal without one)",
    )
    log_anchor_file: Path | None = Field(
        default=None, description="each sealed day's signed head, one line a day; <archive_dir>/log-heads.jsonl"
    )

    @property
    def effective_log_format(self) -> Literal["console", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment is Environment.PRODUCTION else "console"

    @property
    def uses_redis(self) -> bool:
        return self.broker_url.startswith(("redis://", "rediss://", "unix://"))

    @property
    def uses_rabbitmq(self) -> bool:
        return self.broker_url.startswith(("amqp://", "amqps://"))

    @property
    def external_broker(self) -> bool:
        """Messages go through a broker server, so workers run as processes of their own."""
        return self.uses_redis or self.uses_rabbitmq

    @property
    def shared_redis_url(self) -> str | None:
        """The Redis that worker processes share for locks: the broker itself, or ``redis_url`` beside RabbitMQ."""
        return self.broker_url if self.uses_redis else self.redis_url

    def __repr_args__(self):  # type: ignore[no-untyped-def]
        # The database URL may carry a password: never print it.
        for name, value in super().__repr_args__():
            if name == "console_metrics_token":
                yield name, "***" if value else value
                continue
            yield name, (_mask_url(value) if name in {"database_url", "broker_url", "redis_url"} else value)


def _mask_url(url: object) -> object:
    if not isinstance(url, str) or "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


@cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
