"""Dependencies as ``Annotated`` aliases: settings, the facade, the caller, scopes, idempotency."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from channels.http.auth import ANONYMOUS, Client, Scope, TokenTable
from channels.http.budget import SkillRunner
from channels.http.errors import IdempotentReplay
from channels.http.idempotency import (
    IdempotencyConflict,
    IdempotencyInProgress,
    IdempotencyStore,
    fingerprint,
)
from copilot.application import ServiceClient
from copilot.approvals import ApprovalBackend
from copilot.config import Settings
from copilot.service import Copilot

__all__ = [
    "BackendDep",
    "CopilotDep",
    "CurrentClient",
    "Idempotency",
    "IdempotencyDep",
    "RunnerDep",
    "SettingsDep",
    "actor",
    "require",
]

_bearer = HTTPBearer(auto_error=False, description="A token from COPILOT_API_TOKENS")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
MAX_KEY_CHARS = 255


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _copilot(request: Request) -> Copilot:
    return request.app.state.copilot  # type: ignore[no-any-return]


def _runner(request: Request) -> SkillRunner:
    return request.app.state.skill_runner  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(_settings)]
RunnerDep = Annotated[SkillRunner, Depends(_runner)]
CopilotDep = Annotated[Copilot, Depends(_copilot)]


def actor(client: Client) -> ServiceClient:
    """The API client as the facade's principal: a service client with its token's scopes."""
    return ServiceClient.api(client.name, (scope.value for scope in client.scopes))


def _backend(copilot: CopilotDep) -> ApprovalBackend:
    return copilot.backend


BackendDep = Annotated[ApprovalBackend, Depends(_backend)]


def _client(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Client:
    """The caller, from its bearer token; 401 without a valid one (unless anonymous access is on)."""
    tokens: TokenTable = request.app.state.tokens
    if credentials is None:
        if tokens.allow_anonymous and "authorization" not in request.headers:
            return ANONYMOUS
        message = "a bearer token is required" if len(tokens) else "no API token is configured (COPILOT_API_TOKENS)"
        raise HTTPException(401, message, headers=_CHALLENGE)
    client = tokens.find(credentials.credentials)
    if client is None:
        raise HTTPException(401, "invalid bearer token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    request.state.client = client.name  # for logs: the client's name, never its token
    return client


CurrentClient = Annotated[Client, Depends(_client)]


def require(scope: Scope) -> Callable[[Client], Client]:
    """A dependency that lets the request through only if the caller has ``scope`` (else 403 naming it)."""

    def check(client: CurrentClient) -> Client:
        if scope not in client.scopes:
            raise HTTPException(
                403, {"type": "insufficient_scope", "message": f"this token lacks the scope {scope.value!r}"}
            )
        return client

    check.__name__ = f"require_{scope.value}"
    return check


class Idempotency:
    """Sends a route's response; with an ``Idempotency-Key``, stores it for replay."""

    def __init__(self, store: IdempotencyStore | None = None, client: str = "", key: str | None = None) -> None:
        self.store = store
        self.client = client
        self.key = key
        self.done = False

    def respond(self, content: Any, status_code: int = 200) -> JSONResponse:
        """``content`` (a model or plain data) as JSON with ``status_code``; stored under the key if any."""
        response = JSONResponse(jsonable_encoder(content), status_code=status_code)
        if self.store is not None and self.key is not None:
            self.store.complete(self.client, self.key, status_code, bytes(response.body))
        self.done = True
        return response


async def _idempotency(
    request: Request,
    client: CurrentClient,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Replays the stored response of an earlier POST with this key and the same body (24 h)",
        ),
    ] = None,
) -> AsyncIterator[Idempotency]:
    if key is None:
        yield Idempotency()
        return
    key = key.strip()
    if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise HTTPException(400, f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable characters")
    store: IdempotencyStore = request.app.state.idempotency
    body = await request.body()
    print_ = fingerprint(request.method, request.url.path, body)
    try:
        stored = await run_in_threadpool(store.begin, client.name, key, print_)
    except IdempotencyConflict:
        raise HTTPException(
            422,
            {"type": "idempotency_key_reused", "message": "this Idempotency-Key was used with a different request"},
        ) from None
    except IdempotencyInProgress:
        raise HTTPException(
            409, {"type": "idempotency_in_progress", "message": "a request with this Idempotency-Key is running"}
        ) from None
    if stored is not None:
        raise IdempotentReplay(stored.status_code, stored.body)
    handle = Idempotency(store, client.name, key)
    try:
        yield handle
    finally:
        if not handle.done:
            await run_in_threadpool(store.abandon, client.name, key)


IdempotencyDep = Annotated[Idempotency, Depends(_idempotency)]
