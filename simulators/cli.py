"""``dvc-hub simulate``: serve the one-stop-shop simulators and the national-portal simulator on fixed ports.

The one-stop-shop port serves every simulated vendor, each under its own path, for the units whose system names that
vendor's profile in the topology (``config/topologies/quang-nam-2023-three-vendors.yaml`` uses all three).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from foundation.topology import load
from simulators import faults as faults_module

app = typer.Typer(help="Chạy các trình mô phỏng một cửa (ba nhà cung cấp: SOAP, SOAP, JSON) và Cổng DVCQG (simulate).")


@app.callback(invoke_without_command=True)
def simulate(
    soap_port: Annotated[
        int,
        typer.Option(
            help="One-stop-shop port (/motcua, /phuongnam SOAP; /bachdang JSON; /thubon ASMX; /truongson REST)."
        ),
    ] = 8701,
    portal_port: Annotated[int, typer.Option(help="National portal port (/dvcqg, /api, /lgsp).")] = 8702,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    seed: Annotated[int, typer.Option(help="Seed of the data and of the fault dice.")] = 1,
    dossiers: Annotated[int, typer.Option(help="Dossiers generated before serving.")] = 200,
    topology: Annotated[Path, typer.Option(help="Topology YAML.")] = Path("config/topologies/quang-nam-2023.yaml"),
    faults: Annotated[Path | None, typer.Option(help="YAML of fault specs by endpoint key.")] = None,
    username: Annotated[str, typer.Option(help="Username both simulators accept.")] = "hub",
    password: Annotated[str, typer.Option(help="Password both simulators accept.")] = "hub-secret",  # noqa: S107
    session_ttl: Annotated[float, typer.Option(help="Portal session lifetime, seconds.")] = 1800.0,
    token_ttl: Annotated[float, typer.Option(help="LGSP access-token lifetime, seconds.")] = 3600.0,
    tick: Annotated[
        float, typer.Option(help="Every TICK real seconds play --tick-hours of simulated time; 0 off.")
    ] = 0.0,
    tick_hours: Annotated[float, typer.Option(help="Simulated hours per tick.")] = 1.0,
) -> None:
    """Serve both simulators until interrupted."""
    # CLI entry point: the simulators' web servers (uvicorn, Starlette, the generated data) are loaded only when they
    # are asked to serve, so that every other `dvc-hub` command starts without them.
    from simulators.server import Simulators, units_by_vendor

    specs = faults_module.load(faults) if faults else None
    sims = Simulators(
        load(topology),
        seed=seed,
        dossiers=dossiers,
        username=username,
        password=password,
        session_ttl=session_ttl,
        token_ttl=token_ttl,
        faults=specs,
        soap_port=soap_port,
        portal_port=portal_port,
        host=host,
    )
    with sims:
        typer.echo(f"one-stop-shop SOAP: {sims.wsdl_url}")
        for vendor, units in sorted(units_by_vendor(sims.topology).items()):
            if vendor != "default":
                typer.echo(f"  vendor {vendor}: {sims.vendor_url(vendor)} (units {', '.join(units)})")
        typer.echo(f"national portal:    {sims.portal_url}/dvcqg  {sims.portal_url}/api  {sims.portal_url}/lgsp")
        typer.echo(f"simulated clock:    {sims.now():%Y-%m-%d %H:%M %z}, {sims.store.count()} dossier copies")
        stop = threading.Event()
        try:
            while not stop.wait(tick if tick > 0 else 3600):
                if tick > 0:
                    sims.advance(tick_hours)
        except KeyboardInterrupt:
            typer.echo("simulators stopped")
