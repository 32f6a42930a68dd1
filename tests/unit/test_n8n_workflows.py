"""The n8n workflows in integrations/n8n: their shape, their signature (the copilot's own scheme), and the event
each one builds from a sample Odoo or carrier payload (evaluated by Node.js, as n8n would, when it is installed)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from channels.http.routes.webhooks import EVENT_ADAPTER
from copilot.email import parse_email
from copilot.guardrails.signatures import sign, verify_signature

WORKFLOWS = Path(__file__).resolve().parents[2] / "integrations" / "n8n" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.json"))
SECRET = "n8n-secret-0123456789abcdefghij"
EVENT_ID = re.compile(r"^[\x21-\x7e]{1,200}$")  # what the webhook route accepts
NODE = shutil.which("node")

#: What Odoo's "Send Webhook Notification" posts (ir.actions.server._run_action_webhook: _model, _id, _action and
#: the chosen fields, dates as "YYYY-MM-DD HH:MM:SS" in UTC), and what a carrier posts.
SAMPLES: dict[str, tuple[dict[str, Any], str]] = {
    "odoo-purchase-order-date-changed.json": (
        {
            "_action": "Copilot: PO date changed(#31)",
            "_id": 9,
            "_model": "purchase.order",
            "date_planned": "2026-12-12 10:00:00",
            "name": "P00009",
        },
        "purchase.order.date_changed",
    ),
    "odoo-helpdesk-ticket-created.json": (
        {"_action": "Copilot: ticket created(#32)", "_id": 1, "_model": "helpdesk.ticket"},
        "helpdesk.ticket.created",
    ),
    "odoo-supplier-email-received.json": (
        {
            "_action": "Copilot: email on a PO(#33)",
            "_id": 512,
            "_model": "mail.message",
            "body": "<p>Hello, P00002 will now ship on 18 December.</p><p>Müller, Wood Corner</p>",
            "date": "2026-12-03 08:15:00",
            "email_from": '"Wood Corner" <sales@woodcorner.example>',
            "message_id": "<abc.512@woodcorner.example>",
            "subject": "P00002 new ship date\r\nBcc: injected@example.com",
        },
        "supplier_email.received",
    ),
    "carrier-status.json": (
        {
            "msg": {
                "tracking_number": "1Z999AA10123456784",
                "slug": "ups",
                "tag": "AttemptFail",
                "expected_delivery": "2026-12-12T18:00:00+01:00",
                "subtag_message": "Receiver not available",
                "updated_at": "2026-12-10T09:12:00+00:00",
            }
        },
        "carrier.status",
    ),
}


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def node_named(workflow: dict[str, Any], type_: str) -> dict[str, Any]:
    [found] = [n for n in workflow["nodes"] if n["type"] == type_]
    return found


def test_there_is_one_workflow_per_event_and_each_is_a_connected_chain() -> None:
    assert [p.name for p in FILES] == sorted(SAMPLES)
    for path in FILES:
        workflow = load(path)
        chain = [n["type"] for n in workflow["nodes"]]
        assert chain == [
            "n8n-nodes-base.webhook",
            "n8n-nodes-base.set",
            "n8n-nodes-base.crypto",
            "n8n-nodes-base.httpRequest",
        ], path.name
        names = [n["name"] for n in workflow["nodes"]]
        for a, b in itertools.pairwise(names):  # each node feeds the next
            assert workflow["connections"][a]["main"][0][0]["node"] == b, path.name
        assert workflow["active"] is False and workflow["id"] and len(workflow["id"]) <= 36


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_secret_comes_from_n8ns_environment_and_is_never_in_the_file(path: Path) -> None:
    workflow = load(path)
    crypto = node_named(workflow, "n8n-nodes-base.crypto")["parameters"]
    assert crypto["secret"] == "={{ $env.COPILOT_WEBHOOK_SECRET }}"
    http = node_named(workflow, "n8n-nodes-base.httpRequest")["parameters"]
    assert http["url"] == "={{ $env.COPILOT_URL }}/v1/webhooks/n8n"
    assert "credentials" not in json.dumps(workflow) and "sha256=" not in json.dumps(crypto)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_workflow_signs_exactly_as_the_copilot_verifies(path: Path) -> None:
    workflow = load(path)
    crypto = node_named(workflow, "n8n-nodes-base.crypto")["parameters"]
    # the Crypto node: createHmac(type, secret).update(value).digest(encoding), value = "<ts>.<body>"
    assert (crypto["action"], crypto["type"], crypto["encoding"]) == ("hmac", "SHA256", "hex")
    assert crypto["value"] == "={{ $json.ts + '.' + $json.body }}"
    http = node_named(workflow, "n8n-nodes-base.httpRequest")["parameters"]
    headers = {h["name"]: h["value"] for h in http["headerParameters"]["parameters"]}
    assert headers == {
        "X-Copilot-Timestamp": "={{ $json.ts }}",
        "X-Copilot-Signature": "=sha256={{ $json.signature }}",
        "X-Copilot-Event-Id": "={{ $json.eventId }}",
    }
    # the body sent is the very string that was signed (raw, not re-serialized by n8n)
    assert (http["contentType"], http["rawContentType"], http["body"]) == (
        "raw",
        "application/json",
        "={{ $json.body }}",
    )
    ts, body = "1767225600", json.dumps({"type": "question", "text": "Müller's P00009?"}, ensure_ascii=False)
    n8n_signature = "sha256=" + hmac.new(SECRET.encode(), (ts + "." + body).encode(), hashlib.sha256).hexdigest()
    assert n8n_signature == sign(SECRET, ts, body.encode())
    assert verify_signature(SECRET, body.encode(), ts, n8n_signature, tolerance=300, clock=lambda: 1767225600) == int(
        ts
    )


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed: n8n's HMAC cannot be computed here")
def test_nodes_own_hmac_gives_the_copilots_signature() -> None:
    ts, body = "1767225600", json.dumps({"type": "question", "text": "Müller's P00009?"}, ensure_ascii=False)
    script = (
        "const c = require('crypto'); const [s, t, b] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(c.createHmac('SHA256', s).update(t + '.' + b).digest('hex'));"
    )
    out = subprocess.run(  # noqa: S603 - Node.js with our own script
        [NODE, "-e", script],
        input=json.dumps([SECRET, ts, body]),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "sha256=" + out.stdout == sign(SECRET, ts, body.encode())


# Renders the Set node's assignments as n8n does: "={{ expr }}" or "=text {{ expr }} text", with $json bound.
_RENDER = r"""
const { assignments, json } = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const run = (expr) => new Function('$json', 'return (' + expr + ');')(json);
const out = {};
for (const a of assignments) {
  const tpl = a.value.slice(1);
  const whole = tpl.match(/^\{\{([\s\S]*)\}\}$/);
  out[a.name] = whole ? run(whole[1]) : tpl.replace(/\{\{([\s\S]*?)\}\}/g, (_, e) => String(run(e)));
}
process.stdout.write(JSON.stringify(out));
"""


def render(path: Path, payload: dict[str, Any]) -> dict[str, Any]:
    """The Set node's output for this webhook input ({"body": payload, ...} as n8n's Webhook node gives it)."""
    assignments = node_named(load(path), "n8n-nodes-base.set")["parameters"]["assignments"]["assignments"]
    sent = json.dumps({"assignments": assignments, "json": {"headers": {}, "query": {}, "body": payload}})
    out = subprocess.run(  # noqa: S603 - Node.js with our own script
        [NODE or "node", "-e", _RENDER],
        input=sent,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed: the workflows' expressions cannot be evaluated")
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_workflow_turns_its_sample_payload_into_a_valid_copilot_event(name: str) -> None:
    payload, type_ = SAMPLES[name]
    built = render(WORKFLOWS / name, payload)
    assert EVENT_ID.match(built["eventId"]) and built["ts"].isdigit()
    event = EVENT_ADAPTER.validate_json(built["body"])
    assert event.type == type_
    if type_ == "purchase.order.date_changed":
        assert (event.purchase_order, event.purchase_order_id) == ("P00009", 9)
        assert built["eventId"] == "purchase.order-9-date_planned-2026-12-12T10:00:00"
    elif type_ == "helpdesk.ticket.created":
        assert event.ticket_id == 1 and built["eventId"] == "helpdesk.ticket-1-created"
    elif type_ == "supplier_email.received":
        email = parse_email(event.raw.encode())  # as the webhook route reads it
        assert email.from_address == "sales@woodcorner.example" and "P00002" in email.subject
        assert "injected" not in json.dumps(email.to + email.cc) and "Bcc: injected" in email.subject  # CR LF flattened
        assert "P00002 will now ship" in email.text and "Müller" in email.text
        assert email.message_id == "<abc.512@woodcorner.example>" and built["eventId"] == "mail.message-512"
    else:
        assert (event.tracking_number, event.carrier, event.status) == ("1Z999AA10123456784", "ups", "delayed")
        assert str(event.estimated_delivery) == "2026-12-12" and event.detail == "Receiver not available"


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed: the workflows' expressions cannot be evaluated")
def test_a_date_change_without_the_po_name_is_refused_by_the_copilot_not_sent_as_a_guess() -> None:
    built = render(WORKFLOWS / "odoo-purchase-order-date-changed.json", {"_id": 9, "_model": "purchase.order"})
    with pytest.raises(ValueError, match="purchase_order"):
        EVENT_ADAPTER.validate_json(built["body"])
