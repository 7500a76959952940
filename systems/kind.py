"""What a system kind offers the hub: a connector, and pure mappings between its records and the canonical dossier."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.auth import ClientTls
from connectors.base import RawRecord
from connectors.errors import DEFAULT_TABLE, ErrorTable
from connectors.http import Endpoint
from foundation.errors import ConfigurationError
from foundation.redaction import redact_data
from foundation.settings import Settings
from foundation.topology import System
from mappings.canonical import Dossier, ProgressEntry
from mappings.codes import Status
from mappings.procedures import ProcedureLookup


class Options(BaseModel):
    """Options every kind accepts (``System.options``); a kind's own options subclass this."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connect_timeout: float = 5.0  # seconds; the read bound (each wait on the socket) is System.timeout
    deadline: float = Field(default=60.0, gt=0)  # seconds for a whole call: connect, send and the entire answer
    max_answer_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)  # a larger answer is refused while read
    error_text_max: int = Field(default=500, ge=20)  # characters of a remote's error text kept
    rate_per_second: float | None = None
    burst: int = 1
    rate_max_wait: float = 30.0
    redis_url: str | None = None  # where the rate limit is shared; the broker's Redis by default

    def takes_updates(self) -> bool:
        """Whether the system's contract has an operation for a unit copy's updates (a profile may have none)."""
        return True

    breaker_failures: int = 5
    breaker_cooldown: float = 30.0
    accepted_codes: list[str] | None = None
    reauth_codes: list[str] | None = None
    retry_codes: list[str] | None = None
    pool_size: int = 8
    # Hosts besides the system's own that its redirects may lead to; any other redirect is refused (a 307 would
    # re-send the body, credentials included, to whoever the remote names).
    redirect_hosts: list[str] = Field(default_factory=list)
    tls: ClientTls | None = None  # a client certificate for mutual TLS (connectors/auth.py)
    # Read by the schedules (schedules/plan.py: when to poll, when the portal's daily jobs run) and the daily
    # reconciliation (reports/scheduled.py), which check them; accepted here so that the connector's build does not
    # refuse a system that sets them.
    poll_cron: str | None = None
    unit_poll_cron: Any = None
    procedure_catalogue_cron: str | None = None
    unit_catalogue_cron: str | None = None
    late_scan_cron: str | None = None
    tick_prune_cron: str | None = None
    reconcile_cron: str | None = None
    log_retention_cron: str | None = None
    reconcile_sample: float | None = None
    reconcile_rate: float | None = None


@dataclass(frozen=True)
class Outgoing:
    """What a delivery sends: the record for the target, and the progress entries it has not seen yet."""

    record: RawRecord
    progress: list[RawRecord] = field(default_factory=list)

    def request_log(self, *, redacted: bool = False) -> dict[str, Any]:
        """What is sent, as JSON-ready data for the integration log (the redacted view hides personal data)."""
        body: dict[str, Any] = jsonable({"record": self.record, "progress": self.progress})
        if redacted:
            hidden: dict[str, Any] = redact_data(body)
            return hidden
        return body


def jsonable(value: Any) -> Any:
    """``value`` with dates, decimals and other wire types as JSON strings, for the integration log."""
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# (system, settings, endpoint, options) → the connector; the endpoint carries the session, breaker and rate limit.
Builder = Callable[[System, Settings, Endpoint, Any], Any]
# (raw record, procedure look-up) → canonical dossier.
ToCanonical = Callable[[RawRecord, ProcedureLookup], Dossier]
# (dossier, new progress entries, unit code of the copy or None, procedure look-up) → what to send.
ToTarget = Callable[[Dossier, Sequence[ProgressEntry], str | None, ProcedureLookup], Outgoing]
# (a target's copy, as its look-up returns it) → the status it says; a HubError (ValidationFailed) naming the element
# when it says none the hub knows.
StatusOf = Callable[[RawRecord], Status]


@dataclass(frozen=True)
class CatalogueEntry:
    """One record of a catalogue the system publishes (procedures, agencies), read into the hub's columns: its code
    and name, the catalogue's other columns (``field_code``, ``level``, ``parent_code`` ...), the record as sent."""

    code: str
    name: str
    columns: dict[str, str | None]
    data: dict[str, Any]


# (the system's connector, which catalogue: "procedures" or "agencies") → its entries.
CatalogueReader = Callable[[Any, str], Sequence[CatalogueEntry]]


@dataclass(frozen=True)
class SystemKind:
    """One kind of external system, as the hub sees it.

    ``national``: a system that receives every dossier of the province (the national portal), as opposed to a
    one-stop-shop that receives only the copies of the units it serves. ``batches``: it takes many dossiers per call.
    ``not_echoed``: fields the hub sends that the system does not return in a look-up. ``status_of``: reads the
    status of a unit's or the portal's copy, so that the hub never sends the unit that decides a dossier a status it
    has moved past, nor a target whose copy the hub has no delivery record of a status of an earlier stage
    (:mod:`hub.delivery`), and what reconciliation compares with the source's (a kind that cannot say is not
    guarded). ``catalogue``: reads the catalogues the system publishes (the national portal's procedures and
    agencies), for the daily refresh.
    """

    name: str
    options: type[Options]
    build: Builder
    personal: frozenset[str] = frozenset()
    to_canonical: ToCanonical | None = None
    to_target: ToTarget | None = None
    status_of: StatusOf | None = None
    catalogue: CatalogueReader | None = None
    national: bool = False
    batches: bool = False
    not_echoed: frozenset[str] = frozenset()
    error_table: ErrorTable = DEFAULT_TABLE  # adjusted by the accepted/reauth/retry codes of the options

    @property
    def is_source(self) -> bool:
        return self.to_canonical is not None

    def receives_updates(self, system: System) -> bool:
        """Whether ``system`` can take a unit copy's updates (liên thông): the kind maps a dossier to it, and its
        contract (a vendor profile's ``operations.update``) has the operation."""
        return self.to_target is not None and self.parse_options(system).takes_updates()

    def parse_options(self, system: System) -> Options:
        """The system's options, validated; ConfigurationError names the system and the key."""
        try:
            return self.options.model_validate(system.options)
        except ValidationError as exc:
            problems = "; ".join(
                f"systems.{system.name}.options.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                for err in exc.errors()
            )
            raise ConfigurationError(
                f"Tùy chọn của hệ thống {system.name} không hợp lệ / invalid options: {problems}"
            ) from exc
