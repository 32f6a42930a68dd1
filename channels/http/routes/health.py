"""``/healthz`` (the process is up) and ``/readyz`` (what the service depends on answers, quickly).

Readiness checks run concurrently, each within ``CHECK_SECONDS``: Odoo (an authenticated
``search_count``), the database (``SELECT 1``), the data dir (writable), Chroma (the
heartbeat of the embedded client the start-up opened, or the server's ``/api/v2/heartbeat``), the LLM
(``GET {base_url}/models`` when one is configured) and the background workers. The LLM is optional: the
deterministic engine answers when it is away, so its failure is reported under ``degraded`` and the service stays ready.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from channels.http.schemas import Check, ErrorBody, Health, Readiness
from copilot.config import Settings

router = APIRouter(tags=["health"])

#: Seconds one check may take; they run concurrently, so /readyz answers within about this long.
CHECK_SECONDS = 1.5
#: The LLM endpoint when only a model is configured (OpenAI itself).
OPENAI_BASE_URL = "https://api.openai.com/v1"


@router.get("/healthz", response_model=Health, summary="Liveness: 200 while the process runs")
async def healthz() -> Health:
    """Always 200 when the process is up."""
    return Health()


def _odoo(state: Any) -> Check:
    odoo = state.odoo
    users = odoo.client.search_count("res.users", [])
    where = "embedded sandbox" if odoo.sandbox else "Odoo"
    return Check(name="odoo", ok=True, detail=f"{where} answered ({users} users visible)")


def _database(state: Any) -> Check:
    state.webhook_events.ping()
    return Check(name="database", ok=True, detail="SELECT 1 answered")


def _data_dir(state: Any) -> Check:
    folder = Path(state.settings.data_dir).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".readyz-"):
            pass
    except OSError as exc:
        return Check(name="data_dir", ok=False, detail=f"not writable: {exc.strerror or type(exc).__name__}")
    return Check(name="data_dir", ok=True, detail="writable")


def _chroma_embedded(state: Any) -> Check:
    """The client the start-up opened answers its heartbeat; a probe never imports or opens Chroma itself."""
    client = getattr(state, "chroma_client", None)
    if client is None:
        why = getattr(state, "chroma_error", None) or "the service is still starting"
        return Check(name="chroma", ok=False, detail=f"not opened at start-up: {why}")
    client.heartbeat()
    return Check(name="chroma", ok=True, detail="embedded store answered")


async def _chroma(state: Any) -> Check:
    url = state.settings.chroma_url
    if url is None:
        return await run_in_threadpool(_chroma_embedded, state)
    base = str(url).rstrip("/")
    async with httpx.AsyncClient(timeout=CHECK_SECONDS) as http:
        response = await http.get(f"{base}/api/v2/heartbeat")
    if response.status_code != 200:
        return Check(name="chroma", ok=False, detail=f"server answered {response.status_code}")
    return Check(name="chroma", ok=True, detail="server answered")


async def _llm(state: Any) -> Check:
    settings: Settings = state.settings
    if not settings.llm_enabled:
        return Check(name="llm", ok=True, required=False, detail="not configured: the deterministic engine answers")
    base = str(settings.llm_base_url or OPENAI_BASE_URL).rstrip("/")
    headers = {}
    if settings.llm_api_key is not None:
        headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
    async with httpx.AsyncClient(timeout=CHECK_SECONDS) as http:
        response = await http.get(f"{base}/models", headers=headers)
    if response.status_code in (401, 403):
        return Check(
            name="llm", ok=False, required=False, detail=f"the endpoint refused the API key ({response.status_code})"
        )
    if response.status_code >= 400:
        return Check(name="llm", ok=False, required=False, detail=f"GET /models answered {response.status_code}")
    return Check(name="llm", ok=True, required=False, detail=f"{settings.llm_model} endpoint answered")


def _workers(state: Any) -> Check:
    queue = getattr(state, "task_queue", None)
    if queue is not None:  # scale-out: the work runs in `copilot worker`s; this replica needs their queue
        queue.ping()
        return Check(name="workers", ok=True, detail="the task queue (COPILOT_REDIS_URL) answers")
    workers = getattr(state, "workers", [])
    if not workers:
        return Check(name="workers", ok=True, detail="none configured")
    down = [w.name for w in workers if not _healthy(w)]
    if down:
        return Check(name="workers", ok=False, detail=f"not healthy: {', '.join(down)}")
    return Check(name="workers", ok=True, detail=f"healthy: {', '.join(w.name for w in workers)}")


def _healthy(worker: Any) -> bool:
    try:
        return bool(worker.healthy())
    except Exception:
        return False


async def _timed(name: str, run: Callable[[], Awaitable[Check]], *, required: bool = True) -> Check:
    started = time.monotonic()
    try:
        check = await asyncio.wait_for(run(), timeout=CHECK_SECONDS)
    except TimeoutError:
        check = Check(name=name, ok=False, required=required, detail=f"no answer within {CHECK_SECONDS:g} s")
    except Exception as exc:  # any failure makes the check fail; the class name says which
        check = Check(name=name, ok=False, required=required, detail=type(exc).__name__)
    check.seconds = round(time.monotonic() - started, 3)
    return check


def _threaded(fn: Callable[[Any], Check], state: Any) -> Callable[[], Awaitable[Check]]:
    return lambda: run_in_threadpool(fn, state)


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: Odoo, database, data dir, Chroma, LLM (optional) and workers answer",
    responses={503: {"model": Readiness, "description": "A required check failed; `failing` names it"}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 when every required check passes (optional ones may be ``degraded``), else 503 with the failing ones."""
    state = request.app.state
    checks = list(
        await asyncio.gather(
            _timed("odoo", _threaded(_odoo, state)),
            _timed("database", _threaded(_database, state)),
            _timed("data_dir", _threaded(_data_dir, state)),
            _timed("chroma", lambda: _chroma(state)),
            _timed("llm", lambda: _llm(state), required=False),
            _timed("workers", _threaded(_workers, state)),
        )
    )
    failing = [c.name for c in checks if not c.ok and c.required]
    degraded = [c.name for c in checks if not c.ok and not c.required]
    body = Readiness(status="not_ready" if failing else "ready", checks=checks, failing=failing, degraded=degraded)
    if failing:
        body.error = ErrorBody(type="not_ready", message=f"failing checks: {', '.join(failing)}")
        return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=503)
    return JSONResponse(body.model_dump(mode="json", exclude={"error"}), status_code=200)
