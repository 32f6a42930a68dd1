"""The HTTP channel: a FastAPI app (``create_app``) with health probes and the ``/v1`` API over the skills."""

from channels.http.auth import Client, Scope
from channels.http.main import create_app

__all__ = ["Client", "Scope", "create_app"]
