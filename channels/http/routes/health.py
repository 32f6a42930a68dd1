"""``/healthz`` (the process is up) and ``/readyz`` (Odoo answers, the data dir is writable, the LLM's state)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from channels.http.deps import OdooDep, SettingsDep
from channels.http.schemas import Check, ErrorBody, Health, Readiness
from copilot.config import Settings
from copilot.runtime import OdooSession

router = APIRouter(tags=["health"])

#: Seconds the Odoo check may take (the client's own retries would take far longer).
ODOO_CHECK_SECONDS = 5.0


@router.get("/healthz", response_model=Health, summary="Liveness: 200 while the process runs")
async def healthz() -> Health:
    """Always 200 when the process is up."""
    return Health()


async def _odoo_check(odoo: OdooSession) -> Check:
    try:
        users = await asyncio.wait_for(
            run_in_threadpool(odoo.client.search_count, "res.users", []), timeout=ODOO_CHECK_SECONDS
        )
    except TimeoutError:
        return Check(name="odoo", ok=False, detail=f"no answer within {ODOO_CHECK_SECONDS:g} s")
    except Exception as exc:  # any failure makes the service not ready
        return Check(name="odoo", ok=False, detail=type(exc).__name__)
    where = "embedded sandbox" if odoo.sandbox else "Odoo"
    return Check(name="odoo", ok=True, detail=f"{where} answered ({users} users visible)")


def _data_dir_check(settings: Settings) -> Check:
    folder = Path(settings.data_dir).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".readyz-"):
            pass
    except OSError as exc:
        return Check(name="data_dir", ok=False, detail=f"not writable: {exc.strerror or type(exc).__name__}")
    return Check(name="data_dir", ok=True, detail="writable")


def _llm_check(settings: Settings) -> Check:
    if not settings.llm_enabled:
        return Check(name="llm", ok=True, detail="not configured: the deterministic engine answers")
    return Check(name="llm", ok=True, detail=f"configured: {settings.llm_model} (deterministic engine as fallback)")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: Odoo reachable, data dir writable, LLM configured or not",
    responses={503: {"model": Readiness, "description": "A check failed; `failing` names it"}},
)
async def readyz(odoo: OdooDep, settings: SettingsDep) -> JSONResponse:
    """200 when every check passes, else 503 with the failing checks."""
    checks = [await _odoo_check(odoo), await run_in_threadpool(_data_dir_check, settings), _llm_check(settings)]
    failing = [c.name for c in checks if not c.ok]
    body = Readiness(status="not_ready" if failing else "ready", checks=checks, failing=failing)
    if failing:
        body.error = ErrorBody(type="not_ready", message=f"failing checks: {', '.join(failing)}")
        return JSONResponse(body.model_dump(mode="json"), status_code=503)
    return JSONResponse(body.model_dump(mode="json", exclude={"error"}), status_code=200)
