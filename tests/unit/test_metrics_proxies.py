"""Who is asking for /metrics: ``X-Forwarded-For`` and ``Forwarded`` count only when the direct peer is a
configured proxy (``COPILOT_TRUSTED_PROXIES``, loopback by default); otherwise the peer's own address decides
whether "loopback is free", and a name such as ``localhost`` in a header is never loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from pydantic import SecretStr

from channels.http import create_app
from copilot.config import Settings, load_settings
from copilot.errors import ConfigError

READER = "reader-token-0123456789abcdefgh"


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path, api_tokens=SecretStr(f"reader:{READER}:read"), **kw)  # type: ignore[arg-type]


def status(app: object, peer: str, headers: dict[str, str]) -> int:
    """GET /metrics through ``app`` (an ASGI app, lifespan not run) from ``peer``."""

    async def go() -> int:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://copilot") as client:
            return (await client.get("/metrics", headers=headers)).status_code

    return asyncio.run(go())


def test_the_reviews_header_through_uvicorns_own_proxy_handling_needs_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As reproduced: uvicorn trusts the peer's network (FORWARDED_ALLOW_IPS) and takes 'localhost' from the
    header as the client; that name must not count as loopback."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "203.0.113.0/24")
    config = uvicorn.Config(create_app(settings(tmp_path)), lifespan="off")
    config.load()
    assert status(config.loaded_app, "203.0.113.9", {"X-Forwarded-For": "x, localhost"}) == 401


def test_copilot_serve_leaves_the_proxy_decision_to_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from copilot.cli._serve import uvicorn_config

    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # an environment left over from a container image
    config = uvicorn_config(settings(tmp_path), app=create_app(settings(tmp_path)), host="127.0.0.1", port=0)
    config.lifespan = "off"
    config.load()
    assert status(config.loaded_app, "203.0.113.9", {"X-Forwarded-For": "127.0.0.1"}) == 401


@pytest.mark.parametrize(
    ("peer", "headers", "trusted", "expected"),
    [
        ("203.0.113.9", {"X-Forwarded-For": "x, localhost"}, None, 401),  # not a proxy: the header is ignored
        ("203.0.113.9", {"X-Forwarded-For": "127.0.0.1"}, None, 401),
        ("203.0.113.9", {"Forwarded": "for=127.0.0.1"}, None, 401),
        ("203.0.113.9", {"X-Forwarded-For": "x, localhost"}, "203.0.113.9", 401),  # a name is never loopback
        ("203.0.113.9", {"X-Forwarded-For": "127.0.0.1, 198.51.100.7"}, "203.0.113.0/24", 401),  # rightmost
        ("127.0.0.1", {"X-Forwarded-For": "198.51.100.7"}, None, 401),  # a same-host proxy forwarding a stranger
        ("127.0.0.1", {"Forwarded": 'for="[2001:db8::1]:443";proto=https'}, None, 401),
        ("127.0.0.1", {"X-Forwarded-For": "127.0.0.1", "Forwarded": "for=198.51.100.7"}, None, 401),  # disagree
        ("127.0.0.1", {}, None, 200),  # a Prometheus agent on the host
        ("::1", {}, None, 200),
        ("127.0.0.1", {"X-Forwarded-For": "::1"}, None, 200),  # the proxy's own loopback
        ("203.0.113.9", {"Forwarded": 'for="[::1]:9000"'}, "203.0.113.9", 200),
    ],
)
def test_forwarded_headers_count_only_from_configured_proxies(
    tmp_path: Path, peer: str, headers: dict[str, str], trusted: str | None, expected: int
) -> None:
    extra = {"trusted_proxies": trusted} if trusted is not None else {}
    app = create_app(settings(tmp_path, **extra))
    with TestClient(app, client=(peer, 40000)) as client:
        assert client.get("/metrics", headers=headers).status_code == expected
        ok = client.get("/metrics", headers={**headers, "Authorization": f"Bearer {READER}"})
        assert ok.status_code == 200


def test_client_host_takes_the_rightmost_address_no_trusted_proxy_added() -> None:
    from channels.http.client_address import TrustedProxies, client_host

    trusted = TrustedProxies.parse("10.0.0.0/8, 127.0.0.1")
    headers = httpx.Headers({"X-Forwarded-For": "1.1.1.1, 198.51.100.7, 10.0.0.3"})
    assert client_host("10.0.0.2", headers, trusted) == "198.51.100.7"
    assert client_host("192.0.2.1", headers, trusted) == "192.0.2.1"
    assert client_host("10.0.0.2", httpx.Headers({"X-Forwarded-For": "9" * 100_000}), trusted) != "127.0.0.1"


def test_a_padded_header_cannot_push_the_address_the_proxy_saw_out_of_reach() -> None:
    """Proxies append what they saw on the right: a long client-sent prefix must not cut that off."""
    from channels.http.client_address import TrustedProxies, client_host

    trusted = TrustedProxies.parse("10.0.0.0/8, 127.0.0.1")
    padded = ",".join(["127.0.0.1"] * 1_000) + ",198.51.100.7"
    assert client_host("10.0.0.2", httpx.Headers({"X-Forwarded-For": padded}), trusted) == "198.51.100.7"


def test_a_bad_trusted_proxy_setting_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="COPILOT_TRUSTED_PROXIES"):
        load_settings(trusted_proxies="127.0.0.1, proxy.example.com")
