"""Run-time control endpoints both simulators share: fault switches and, on the one-stop-shop, the clock.

``GET /_faults`` lists the specs, ``POST /_faults`` with ``{"endpoint": "soap:LayChiTietHoSo", "error_rate": 1}``
sets one (``{"endpoint": ..., "clear": true}`` removes it), ``DELETE /_faults`` clears all.
``POST /_control/advance`` with ``{"hours": 24, "units": ["20965"]}`` plays simulated time forward.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators.faults import FaultInjector
from simulators.lifecycle import Lifecycle


def routes(faults: FaultInjector, lifecycle: Lifecycle | None = None) -> list[Route]:
    async def list_faults(request: Request) -> Response:
        return JSONResponse(faults.specs())

    async def set_fault(request: Request) -> Response:
        try:
            data: dict[str, Any] = await request.json()
            endpoint = str(data.pop("endpoint"))
            if data.pop("clear", False):
                faults.clear(endpoint)
                return JSONResponse({"endpoint": endpoint, "cleared": True})
            spec = faults.set(endpoint, data)
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"endpoint": endpoint, **spec.model_dump(exclude_defaults=True)})

    async def clear_faults(request: Request) -> Response:
        faults.clear()
        return JSONResponse({"cleared": True})

    result = [
        Route("/_faults", list_faults, methods=["GET"]),
        Route("/_faults", set_fault, methods=["POST"]),
        Route("/_faults", clear_faults, methods=["DELETE"]),
    ]
    if lifecycle is not None:
        engine = lifecycle

        async def advance(request: Request) -> Response:
            data: dict[str, Any] = await request.json()
            report = engine.advance(float(data.get("hours", 1)), units=data.get("units"))
            return JSONResponse(
                {"created": report.created, "changes": report.changes, "now": engine.clock.now().isoformat()}
            )

        async def now(request: Request) -> Response:
            return JSONResponse({"now": engine.clock.now().isoformat(), "dossiers": engine.store.count()})

        result += [
            Route("/_control/advance", advance, methods=["POST"]),
            Route("/_control/clock", now, methods=["GET"]),
        ]
    return result
