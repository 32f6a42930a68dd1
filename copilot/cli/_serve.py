"""``copilot serve``: the HTTP API, the Slack endpoint and the background workers in one uvicorn process.

On SIGTERM (or Ctrl-C) uvicorn stops accepting connections, lets in-flight requests finish (up to
``GRACEFUL_SECONDS``), then runs the application's shutdown: the workers finish their item in flight.

uvicorn's log handlers carry the PII redaction from the start (its access lines lose their query string),
and uvicorn's own proxy-header handling is off: ``FORWARDED_ALLOW_IPS`` is ignored, and the application
decides who the client is from ``COPILOT_TRUSTED_PROXIES`` (``channels.http.client_address``).
"""

from __future__ import annotations

import copy
import logging
import signal
import socket
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import uvicorn

    from copilot.config import Settings

#: Seconds uvicorn waits for in-flight requests after SIGTERM before the workers are stopped.
GRACEFUL_SECONDS = 30


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket (``port`` 0: any free port), so the real address is known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise typer.BadParameter(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", param_hint="--port"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the PII redaction filter on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact"] = {"()": "copilot.guardrails.log_redaction.PiiRedactingFilter"}
    for handler in config.get("handlers", {}).values():
        handler["filters"] = [*handler.get("filters", []), "redact"]
    return config


def uvicorn_config(settings: Settings, *, app: Any, host: str, port: int, reload: bool = False) -> uvicorn.Config:
    """The uvicorn configuration ``copilot serve`` runs (``app``: an application or ``module:factory`` text)."""
    import uvicorn

    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        host=host,
        port=port,
        reload=reload,
        log_level=settings.log_level.lower(),
        log_config=log_config(),
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )


def serve(
    host: Annotated[
        str, typer.Option(help="Interface to listen on (keep it on loopback or put TLS in front).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port, printed at start).")] = 8000,
    reload: Annotated[bool, typer.Option("--reload", help="Restart on code changes (development only).")] = False,
) -> None:
    """Serve the HTTP API (/healthz, /readyz, /metrics, /v1, /docs), webhooks, Slack and the workers."""
    import uvicorn

    from channels.serve import create_app
    from copilot.config import get_settings
    from copilot.state.db import usable_data_dir

    settings = get_settings()
    # Every configuration error is one line here, before anything says "listening".
    usable_data_dir(settings)
    application = None if reload else create_app(settings)
    # Start and stop lines, and the signed audit anchors, are part of operating the service: shown whatever
    # COPILOT_LOG_LEVEL says.
    for name in ("channels.http", "channels.http.workers", "copilot.audit"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
    config = uvicorn_config(
        settings, app=application or "channels.serve:create_app", host=host, port=port, reload=reload
    )
    if reload:
        typer.echo(f"copilot serve: listening on http://{host}:{port} (reload)", err=True)
        uvicorn.run(
            "channels.serve:create_app",
            factory=True,
            host=host,
            port=port,
            reload=True,
            log_level=config.log_level,
            log_config=log_config(),
            proxy_headers=False,
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
        )
        return
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"copilot serve: listening on http://{shown}:{bound} (docs at /docs); SIGTERM stops", err=True)
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again for the previous
    # handler: this one turns it into a clean exit (0) instead of death by signal.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run(sockets=[sock])
    except _Stopped:
        pass
    finally:
        sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not server.started:
        raise SystemExit(1)  # the application failed to start; uvicorn logged why
    typer.echo("copilot serve: stopped", err=True)


class _Stopped(Exception):
    """A stop signal, raised again by uvicorn after its graceful shutdown."""


def _stopped(signum: int, frame: object) -> None:
    raise _Stopped(signum)
