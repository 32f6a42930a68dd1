"""The sandbox answers every recorded Odoo 18 and Odoo 19 JSON-RPC exchange as the real servers did.

Two checks per recorded scenario and release (``tests/cassettes/odoo`` and ``tests/cassettes/odoo19``: the vcr
cassettes of ``shared/odoo-reference/transcripts`` and ``shared/odoo-reference-19/transcripts``, kept with the
tests so they run on any clone; the 18 flavour of the sandbox answers the first, the ``odoo19`` flavour the
second):

* each HTTP exchange's request body is replayed against the sandbox on the same path and the answer
  compared: exact ``result`` for data calls; field names and attribute keys for an unfiltered
  ``fields_get``; ``code``, ``message``, ``data.name``/``message``/``arguments`` for errors;
* the scenario's Python snippet runs through the real odoorpc client and must give the recorded
  ``client_outcome`` (value returned, or exception type and message).
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import odoorpc
import pytest
import yaml

from odoo_sandbox import SandboxServer

pytestmark = pytest.mark.contract

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
#: release served by the sandbox -> the folder of its recorded transcripts
FOLDERS = {"odoo18": CASSETTES / "odoo", "odoo19": CASSETTES / "odoo19"}
SKIP = pytest.mark.skip(reason=f"the recorded Odoo transcripts are not available in {CASSETTES}")


def _index(release: str) -> dict[str, Any] | None:
    path = FOLDERS[release] / "index.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _exchanges(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    """The cassette's interactions as ``{method, url, request_json, status, response_json}``."""
    cassette = yaml.safe_load((scenario["folder"] / scenario["cassette"]).read_text(encoding="utf-8"))
    return [
        {
            "method": item["request"]["method"],
            "url": item["request"]["uri"],
            "request_json": json.loads(item["request"]["body"]),
            "status": item["response"]["status"]["code"],
            "response_json": json.loads(item["response"]["body"]["string"]),
        }
        for item in cassette["interactions"]
    ]


def _object_call(exchange: dict[str, Any]) -> tuple[str, str, list[Any]] | None:
    params = exchange["request_json"].get("params") or {}
    args = params.get("args") or []
    if params.get("service") != "object" or len(args) < 5:
        return None
    return args[3], args[4], args[5:]


def _label(exchange: dict[str, Any]) -> str:
    params = exchange["request_json"].get("params") or {}
    call = _object_call(exchange)
    if call:
        return f"{call[0]}.{call[1]}"
    if params.get("service"):
        return f"{params['service']}.{params.get('method')}"
    return urlsplit(exchange["url"]).path.rsplit("/", 1)[-1]


def transcript_ids(index: dict[str, Any]) -> dict[str, int]:
    """Record ids the scenarios name as ``IDS[...]``, read from the transcripts.

    ``P00009`` is the id of the purchase order of that name in any recorded answer;
    ``P00010_line`` is the order line the scenario that uses it sends to the server.
    """
    names: dict[str, int] = {}
    scenarios = index["scenarios"]
    for scenario in scenarios:
        for exchange in _exchanges(scenario):
            call = _object_call(exchange)
            result = exchange["response_json"].get("result")
            if call and call[0] == "purchase.order" and isinstance(result, list):
                for row in result:
                    if isinstance(row, dict) and isinstance(row.get("name"), str) and "id" in row:
                        names[row["name"]] = row["id"]
    ids: dict[str, int] = {}
    for scenario in scenarios:
        for key in re.findall(r'IDS\["(\w+)"\]', scenario["python"]):
            if key in names:
                ids[key] = names[key]
            elif key.endswith("_line"):
                for exchange in _exchanges(scenario):
                    call = _object_call(exchange)
                    if call and call[0] == "purchase.order.line" and call[2] and call[2][0]:
                        first = call[2][0]
                        ids[key] = first[0] if isinstance(first, list) else first
                        break
    return ids


def _scenarios(release: str) -> list[dict[str, Any]]:
    index = _index(release)
    if index is None:
        return []
    return [{**scenario, "folder": FOLDERS[release]} for scenario in index["scenarios"]]


def _exchange_params() -> list[Any]:
    params = []
    for release in FOLDERS:
        for scenario in _scenarios(release):
            for number, exchange in enumerate(_exchanges(scenario)):
                label = f"{release}-{scenario['name']}#{number}-{_label(exchange)}"
                params.append(pytest.param(release, exchange, id=label))
    return params or [pytest.param(None, None, id="no-reference", marks=SKIP)]


def _scenario_params() -> list[Any]:
    params = [
        pytest.param(release, scenario, id=f"{release}-{scenario['name']}")
        for release in FOLDERS
        for scenario in _scenarios(release)
    ]
    return params or [pytest.param(None, None, id="no-reference", marks=SKIP)]


# --------------------------------------------------------------------------- replay


def _post(server: SandboxServer, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - the local sandbox's http URL
        server.url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local sandbox URL
        return response.status, json.loads(response.read())


def _is_unfiltered_fields_get(exchange: dict[str, Any]) -> bool:
    call = _object_call(exchange)
    if not call or call[1] != "fields_get":
        return False
    method = exchange["request_json"]["params"]["method"]
    if method == "execute":
        return len(call[2]) < 2
    args = call[2][0] if call[2] else []
    kwargs = call[2][1] if len(call[2]) > 1 and isinstance(call[2][1], dict) else {}
    return len(args) < 2 and not kwargs.get("attributes")


@pytest.mark.parametrize(("release", "exchange"), _exchange_params())
def test_exchange_replays(contract_sandboxes: dict[str, SandboxServer], release: str, exchange: dict[str, Any]) -> None:
    """The sandbox's answer to a recorded request matches the recorded answer."""
    path = urlsplit(exchange["url"]).path
    status, answer = _post(contract_sandboxes[release], path, exchange["request_json"])
    recorded = exchange["response_json"]
    assert status == exchange["status"]
    assert answer["jsonrpc"] == "2.0"
    assert answer["id"] == exchange["request_json"]["id"]
    if "error" in recorded:
        assert "error" in answer, f"expected an error, got {json.dumps(answer)[:500]}"
        want, got = recorded["error"], answer["error"]
        assert (got["code"], got["message"]) == (want["code"], want["message"])
        for key in ("name", "message", "arguments"):
            assert got["data"][key] == want["data"][key], key
        assert isinstance(got["data"]["debug"], str) and got["data"]["debug"].startswith("Traceback")
        return
    assert "result" in answer, f"unexpected error: {json.dumps(answer.get('error'))[:800]}"
    if _is_unfiltered_fields_get(exchange):
        want_fields, got_fields = recorded["result"], answer["result"]
        assert set(got_fields) == set(want_fields)
        for name, attrs in want_fields.items():
            assert sorted(got_fields[name]) == sorted(attrs), name
        return
    assert answer["result"] == recorded["result"]


# --------------------------------------------------------------------------- odoorpc client


def _outcome(func: Any) -> dict[str, Any]:
    try:
        value = func()
    except Exception as exc:
        info = getattr(exc, "info", None)
        data_name = info.get("data", {}).get("name") if isinstance(info, dict) else None
        return {
            "raised": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "message": str(exc),
            "error.data.name": data_name,
        }
    return {"returned": json.loads(json.dumps(value))}


@pytest.mark.parametrize(("release", "scenario"), _scenario_params())
def test_odoorpc_client_outcome(
    contract_sandboxes: dict[str, SandboxServer], release: str, scenario: dict[str, Any]
) -> None:
    """The recorded odoorpc snippet gets the same value (or exception) from the sandbox."""
    index = _index(release)
    assert index is not None
    index["scenarios"] = _scenarios(release)
    server = contract_sandboxes[release]

    def connect() -> odoorpc.ODOO:
        odoo = odoorpc.ODOO(server.host, port=server.port, timeout=30)
        odoo.login(server.db, "copilot", "copilot")
        return odoo

    namespace: dict[str, Any] = {
        "odoorpc": odoorpc,
        "HOST": server.host,
        "PORT": server.port,
        "DB": index["database"],
        "NOW": index["recorded_at_utc"],
        "IDS": transcript_ids(index),
        "connect": connect,
    }
    before = set(namespace)
    exec(compile(scenario["python"], scenario["name"], "exec"), namespace)  # noqa: S102 - recorded test code
    functions = [v for k, v in namespace.items() if k not in before and callable(v) and k != "__builtins__"]
    assert len(functions) == 1, "each recorded snippet defines one function"
    assert _outcome(functions[0]) == scenario["client_outcome"]
