"""Run both simulators: in-process on ephemeral ports (tests, demo) or as the ``dvc-hub simulate`` process.

:class:`Simulators` is the Python API: it builds the data world from a topology and a seed, serves the one-stop-shop
SOAP service and the national portal from background threads, plays simulated time forward, switches faults, and
exposes both sides' state for reconciliation.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any, Self

import uvicorn
import yaml
from starlette.applications import Starlette

from foundation.clock import VN_TZ
from foundation.topology import System, Topology
from simulators import bachdang, phuongnam, portal, soap, thubon, truongson
from simulators import catalogue as catalogue_module
from simulators.clock import SimClock
from simulators.faults import FaultInjector, FaultSpec
from simulators.lifecycle import AdvanceReport, Lifecycle
from simulators.motcua import OneStopShop
from simulators.records import HoSo
from simulators.soap import Credentials

# Which simulated vendor serves a system: its profile's name (options.vendor) → the path it is served under.
VENDOR_PATHS = {
    "default": "/motcua",
    "phuongnam": phuongnam.PATH,
    "bachdang": bachdang.PATH,
    "thubon": thubon.PATH,
    "truongson": truongson.PATH,
}


def vendor_of(system: System) -> str:
    """The simulated vendor a one-stop-shop system of the topology uses (the default contract's unless named)."""
    return str(system.options.get("vendor") or "default")


def units_by_vendor(topology: Topology) -> dict[str, list[str]]:
    """Each simulated vendor's units: the units whose system names that vendor's profile."""
    out: dict[str, list[str]] = {}
    for unit in topology.units:
        system = topology.system_for(unit)
        if system is not None and system.name not in topology.spec.targets:
            out.setdefault(vendor_of(system), []).append(unit.code)
    return out


def default_start(topology: Topology) -> datetime:
    """Monday 2 October 2023 08:00, or the first day every served unit of a later topology exists."""
    first = max([date(2023, 10, 2)] + [u.valid_from for u in topology.units if u.system and u.valid_to == date.max])
    return datetime(first.year, first.month, first.day, 8, 0, tzinfo=VN_TZ)


class ServerThread:
    """A uvicorn server in a daemon thread; ``port`` is known once started (port 0 picks a free one)."""

    def __init__(self, app: Starlette, host: str = "127.0.0.1", port: int = 0) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"sim-{port}", daemon=True)
        self.host = host

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("simulator server did not start")
            time.sleep(0.01)

    @property
    def port(self) -> int:
        sock: socket.socket = self.server.servers[0].sockets[0]
        return int(sock.getsockname()[1])

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


class Simulators:
    """Both simulators over one data world; a context manager that starts and stops the servers."""

    def __init__(
        self,
        topology: Topology,
        *,
        seed: int = 1,
        dossiers: int = 0,
        start: datetime | None = None,
        username: str = "hub",
        password: str = "hub-secret",  # noqa: S107 - documented default
        session_ttl: float = 1800.0,
        token_ttl: float = 3600.0,
        faults: dict[str, FaultSpec] | None = None,
        soap_port: int = 0,
        portal_port: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        self.topology = topology
        self.seed = seed
        self.credentials = Credentials(username, password)
        self.catalogue = catalogue_module.build(seed)
        self.clock = SimClock(start or default_start(topology))
        self.store = OneStopShop()
        self.lifecycle = Lifecycle(topology, self.catalogue, self.store, self.clock, seed)
        self.faults = FaultInjector(seed, faults)
        self.portal_state = portal.PortalState(self.catalogue, topology, self.credentials, session_ttl, token_ttl)
        self.soap_service = soap.SoapService(self.store, self.lifecycle, self.faults, self.credentials)
        self.portal_app = portal.PortalApp(self.portal_state, self.faults)
        served = units_by_vendor(topology)
        self.phuongnam = phuongnam.PhuongNamService(
            self.store, served.get("phuongnam", ()), self.faults, self.credentials, self.clock
        )
        self.bachdang = bachdang.BachDangApi(
            self.store, served.get("bachdang", ()), self.faults, self.credentials, self.clock
        )
        self.thubon = thubon.ThuBonService(self.store, served.get("thubon", ()), self.faults, self.credentials)
        self.truongson = truongson.TruongSonApi(
            self.store,
            served.get("truongson", ()),
            self.faults,
            self.credentials,
            {u.code: u.agency_id for u in topology.units},
        )
        if dossiers:
            self.lifecycle.populate(dossiers)
        self._host, self._ports = host, (soap_port, portal_port)
        self._servers: list[ServerThread] = []

    # -- servers ------------------------------------------------------------------------------------------------

    def start(self) -> Self:
        # One port serves every simulated one-stop-shop vendor, each under its own path.
        extra = [
            *phuongnam.routes(self.phuongnam),
            *bachdang.routes(self.bachdang),
            *thubon.routes(self.thubon),
            *truongson.routes(self.truongson),
        ]
        soap_server = ServerThread(soap.create_app(self.soap_service, extra), self._host, self._ports[0])
        portal_server = ServerThread(portal.create_app(self.portal_app), self._host, self._ports[1])
        for server in (soap_server, portal_server):
            server.start()
            self._servers.append(server)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
        self._servers.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def soap_url(self) -> str:
        """The SOAP endpoint, e.g. http://127.0.0.1:8701/motcua (WSDL at soap_url + '?wsdl')."""
        return f"http://{self._host}:{self._servers[0].port}/motcua"

    def vendor_url(self, vendor: str) -> str:
        """Where the simulated ``vendor`` (a profile name) is served."""
        return f"http://{self._host}:{self._servers[0].port}{VENDOR_PATHS[vendor]}"

    @property
    def wsdl_url(self) -> str:
        return self.soap_url + "?wsdl"

    @property
    def portal_url(self) -> str:
        """The portal's root; the variants live under /dvcqg, /api and /lgsp."""
        return f"http://{self._host}:{self._servers[1].port}"

    def topology_file(self, path: Path) -> Path:
        """Write a copy of the topology whose systems point at the running simulators; returns ``path``."""
        data: dict[str, Any] = self.topology.spec.model_dump(mode="json", exclude_defaults=True)
        for system in data["systems"]:
            if system["kind"] in ("soap", "rest-json"):
                system["base_url"] = self.vendor_url(str(system.get("options", {}).get("vendor") or "default"))
            elif system["kind"] == "dvcqg-session":
                system["base_url"] = f"{self.portal_url}/dvcqg"
            elif system["kind"] == "dvcqg-url":
                system["base_url"] = f"{self.portal_url}/api"
            elif system["kind"] == "dvcqg-lgsp":
                system["base_url"] = f"{self.portal_url}/lgsp"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    # -- traffic, faults, state ---------------------------------------------------------------------------------

    def advance(self, hours: float = 24.0, units: list[str] | None = None) -> AdvanceReport:
        """Play ``hours`` of simulated time: new dossiers (at ``units`` only, if given) and every due step."""
        return self.lifecycle.advance(hours, units=units)

    def now(self) -> datetime:
        return self.clock.now()

    def set_fault(self, endpoint: str, **spec: Any) -> FaultSpec:
        """Switch faults on for ``endpoint`` (``soap``, ``soap:LayChiTietHoSo``, ``dvcqg:DongBoHoSoMC``, ...)."""
        return self.faults.set(endpoint, spec)

    def clear_faults(self, endpoint: str | None = None) -> None:
        self.faults.clear(endpoint)

    def expire_sessions(self) -> None:
        """Every portal session and LGSP token stops working now."""
        self.portal_state.expire_all()

    def source_copy(self, unit: str, code: str) -> HoSo:
        """``unit``'s own copy of a dossier, as LayChiTietHoSo would return it."""
        return self.store.get(unit, code).clone()

    def source_state(self) -> dict[str, HoSo]:
        """Every dossier's authoritative copy: the processing unit's for transferred dossiers, else the receiver's."""
        out: dict[str, HoSo] = {}
        with self.store.lock:
            for unit in self.store.units():
                for record in self.store.records(unit):
                    # after a merger the successor's system holds the copy of a retired processing unit
                    mine = record.MaDonViXuLy is None or self.store.resolve(record.MaDonViXuLy) == unit
                    if mine or record.MaHoSo not in out:
                        out[record.MaHoSo] = record.clone()
        return out

    def portal_dossiers(self) -> dict[str, dict[str, Any]]:
        """What the portal accepted, by MaHoSo (the last accepted record of each)."""
        with self.portal_state.lock:
            return dict(self.portal_state.dossiers)

    def portal_stats(self) -> dict[str, Any]:
        """Counts, duplicate pushes, progress repeats, status regressions, refusals by error_code."""
        return self.portal_state.stats()
