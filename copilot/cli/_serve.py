"""``copilot serve``: the HTTP API (FastAPI under uvicorn); uvicorn handles graceful shutdown on SIGTERM."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[
        str, typer.Option(help="Interface to listen on (keep it on loopback or put TLS in front).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port.")] = 8000,
    reload: Annotated[bool, typer.Option("--reload", help="Restart on code changes (development only).")] = False,
) -> None:
    """Serve the HTTP API: /healthz, /readyz, /v1 (bearer tokens from COPILOT_API_TOKENS), /docs."""
    import uvicorn

    from copilot.config import get_settings

    settings = get_settings()
    uvicorn.run(
        "channels.http:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=30,
    )
