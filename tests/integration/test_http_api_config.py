"""The HTTP API's configuration edges: token format, no tokens, anonymous mode, Odoo down, idempotency TTL."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from channels.http import Scope, create_app
from channels.http.auth import TokenTable, parse_tokens
from channels.http.idempotency import IdempotencyConflict, IdempotencyInProgress, IdempotencyStore, fingerprint
from copilot.config import Settings
from copilot.errors import ConfigError
from copilot.state import Database

TOKEN = "a-valid-token-0123456789abcdef"


class ApiSettings(Settings):
    """Settings with the API fields (until copilot/config.py has them)."""

    api_tokens: SecretStr | None = None
    api_allow_anonymous: bool = False


def test_tokens_parse_with_scopes() -> None:
    table = TokenTable(parse_tokens(SecretStr(f"n8n:{TOKEN}:summarize, classify;ops:{TOKEN[::-1]}:*")))
    n8n = table.find(TOKEN)
    assert n8n is not None and n8n.name == "n8n" and n8n.scopes == {Scope.SUMMARIZE, Scope.CLASSIFY}
    ops = table.find(TOKEN[::-1])
    assert ops is not None and ops.scopes == set(Scope)
    assert table.find("nope") is None and len(table) == 2


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (f"n8n:{TOKEN}", "not name:token:scopes"),
        ("n8n:short:read", "shorter than"),
        (f"n8n:{TOKEN}:read,admin", "unknown scope admin"),
        (f"n8n:{TOKEN}:read;n8n:{TOKEN}x:read", "appears twice"),
        (f"bad name:{TOKEN}:read", "invalid client name"),
        (f"n8n:{TOKEN}:", "has no scope"),
    ],
)
def test_bad_token_settings_fail_at_start_without_showing_the_token(value: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as info:
        parse_tokens(SecretStr(value))
    assert str(info.value).startswith("COPILOT_API_TOKENS") and TOKEN not in str(info.value)


def test_without_tokens_every_v1_call_is_refused(tmp_path: Path) -> None:
    client = TestClient(create_app(ApiSettings(data_dir=tmp_path)))  # no lifespan: refused before Odoo is used
    response = client.post("/v1/questions", json={"question": "late POs?"})
    assert response.status_code == 401 and "COPILOT_API_TOKENS" in response.json()["error"]["message"]
    assert client.get("/healthz").status_code == 200


def test_anonymous_mode_lets_token_less_calls_through(tmp_path: Path) -> None:
    with TestClient(create_app(ApiSettings(data_dir=tmp_path, api_allow_anonymous=True))) as client:
        assert client.get("/v1/proposals").status_code == 200
        assert client.get("/v1/proposals", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_odoo_down_is_503_on_readyz_and_on_the_api(tmp_path: Path) -> None:
    settings = ApiSettings(
        data_dir=tmp_path,
        odoo_url="http://127.0.0.1:9",
        odoo_db="prod",
        odoo_password=SecretStr("x"),
        odoo_retries=0,
        odoo_timeout=2,
        api_tokens=SecretStr(f"ops:{TOKEN}:*"),
    )
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["failing"] == ["odoo"] and ready.json()["error"]["type"] == "not_ready"
        down = client.get("/v1/proposals", headers={"Authorization": f"Bearer {TOKEN}"})
        assert down.status_code == 503 and down.json()["error"]["type"] == "odoo_unavailable"


def test_a_config_error_is_a_generic_500(tmp_path: Path) -> None:
    app = create_app(ApiSettings(data_dir=tmp_path))

    def broken() -> None:
        raise ConfigError("COPILOT_SECRET_THING: the secret value is wrong")

    app.add_api_route("/broken", broken)
    response = TestClient(app).get("/broken")
    assert response.status_code == 500
    assert response.json()["error"] == {"type": "config_error", "message": "the service is misconfigured; see its log"}


def test_idempotency_store_expires_conflicts_and_releases(tmp_path: Path) -> None:
    now = [1000.0]
    store = IdempotencyStore(Database.open(f"sqlite:///{tmp_path / 'idem.sqlite'}"), clock=lambda: now[0])
    body = fingerprint("POST", "/v1/drafts", b'{"a": 1, "b": 2}')
    assert body == fingerprint("POST", "/v1/drafts", b'{"b":2,"a":1}')  # canonical JSON
    assert store.begin("c", "k", body) is None
    with pytest.raises(IdempotencyInProgress):
        store.begin("c", "k", body)
    with pytest.raises(IdempotencyConflict):
        store.begin("c", "k", fingerprint("POST", "/v1/drafts", b"{}"))
    store.complete("c", "k", 201, b'{"ok":true}')
    replay = store.begin("c", "k", body)
    assert replay is not None and (replay.status_code, replay.body) == (201, b'{"ok":true}')
    assert store.begin("other", "k", body) is None  # per client
    store.abandon("other", "k")
    assert store.begin("other", "k", body) is None
    now[0] += 24 * 3600 + 1
    assert store.begin("c", "k", body) is None  # expired: a new request
    store.close()
