"""The executor's wake-up webhook: a real listener on loopback, called with urllib."""

from __future__ import annotations

import importlib.util
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from copilot.approvals.executor import Executor
from copilot.approvals.webhook import MAX_BODY, PATH, WakeEvent, WebhookReceiver, sign

SECRET = "test-webhook-secret"
ADDON_WEBHOOK = (
    Path(__file__).resolve().parents[2] / "odoo_addons" / "19.0" / "copilot_approval" / "executor_webhook.py"
)


@pytest.fixture
def woken() -> threading.Event:
    return threading.Event()


@pytest.fixture
def receiver(woken: threading.Event) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET, woken.set, host="127.0.0.1", port=0, db="demo") as r:
        yield r


def _body(event_id: str = "evt-1", **extra: Any) -> bytes:
    return json.dumps({"event_id": event_id, "request_id": 12, "state": "approved", "db": "demo", **extra}).encode()


def _send(
    url: str,
    body: bytes | None = None,
    *,
    method: str = "POST",
    secret: str = SECRET,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
    signed: bool = True,
) -> tuple[int, dict[str, Any]]:
    """(status, JSON answer) of one request; the body is signed with ``secret`` unless ``signed`` is False."""
    body = _body() if body is None and method == "POST" else body
    ts = int(time.time()) if timestamp is None else timestamp
    all_headers = {"Content-Type": "application/json"}
    if signed and body is not None:
        all_headers |= {"X-Copilot-Timestamp": str(ts), "X-Copilot-Signature": sign(secret, ts, body)}
    all_headers |= headers or {}
    request = urllib.request.Request(url, data=body, method=method, headers=all_headers)  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


# -- the signature -------------------------------------------------------------------------------
def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("k", 1700000000, b"{}") == f"sha256={expected}"
    assert sign(b"k", "1700000000", b"{}") == sign("k", 1700000000, b"{}")


def test_the_odoo_addon_signs_the_same_way() -> None:
    """The addon's helper (pure Python) and the receiver agree on signature and body."""
    spec = importlib.util.spec_from_file_location("copilot_addon_executor_webhook", ADDON_WEBHOOK)
    assert spec is not None and spec.loader is not None
    addon = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(addon)
    body = addon.event_body(12, "approved", "demo")
    assert addon.sign(SECRET, 1700000000, body) == sign(SECRET, 1700000000, body)
    event = WakeEvent.model_validate_json(body)
    assert (event.request_id, event.state, event.db) == (12, "approved", "demo")
    assert event.event_id


def test_the_addon_posts_to_a_real_receiver(receiver: WebhookReceiver, woken: threading.Event) -> None:
    """End to end over HTTP: the addon's post_event wakes the receiver (202 -> True)."""
    spec = importlib.util.spec_from_file_location("copilot_addon_executor_webhook", ADDON_WEBHOOK)
    assert spec is not None and spec.loader is not None
    addon = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(addon)
    assert addon.post_event(receiver.url, SECRET, addon.event_body(7, "approved", "demo")) is True
    assert woken.is_set()
    assert addon.post_event(receiver.url, "wrong", addon.event_body(8, "approved", "demo")) is False


# -- the receiver --------------------------------------------------------------------------------
def test_a_valid_signed_post_wakes_and_answers_202(receiver: WebhookReceiver, woken: threading.Event) -> None:
    assert receiver.url == f"http://127.0.0.1:{receiver.port}{PATH}"
    assert receiver.port != 0
    status, answer = _send(receiver.url)
    assert (status, answer) == (202, {"accepted": True})
    assert woken.is_set()


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("no signature", 401),
        ("wrong secret", 401),
        ("tampered body", 401),
        ("garbage signature", 401),
        ("timestamp not a number", 401),
        ("timestamp too old", 401),
        ("timestamp in the future", 401),
        ("not JSON", 400),
        ("not an event", 400),
        ("another database", 422),
        ("too large", 413),
        ("other path", 404),
        ("GET", 405),
        ("PUT", 405),
    ],
)
def test_rejections_answer_their_status_and_do_not_wake(
    receiver: WebhookReceiver, woken: threading.Event, case: str, status: int
) -> None:
    url, now = receiver.url, int(time.time())
    if case == "no signature":
        result = _send(url, signed=False)
    elif case == "wrong secret":
        result = _send(url, secret="not-the-secret")
    elif case == "tampered body":
        ts = now
        signature = sign(SECRET, ts, _body())
        headers = {"X-Copilot-Timestamp": str(ts), "X-Copilot-Signature": signature}
        result = _send(url, _body(request_id=13), signed=False, headers=headers)
    elif case == "garbage signature":
        result = _send(url, signed=False, headers={"X-Copilot-Timestamp": str(now), "X-Copilot-Signature": "é" * 3})
    elif case == "timestamp not a number":
        headers = {"X-Copilot-Timestamp": "yesterday", "X-Copilot-Signature": sign(SECRET, "yesterday", _body())}
        result = _send(url, signed=False, headers=headers)
    elif case == "timestamp too old":
        result = _send(url, timestamp=now - 301)
    elif case == "timestamp in the future":
        result = _send(url, timestamp=now + 301)
    elif case == "not JSON":
        result = _send(url, b"{not json")
    elif case == "not an event":
        result = _send(url, json.dumps({"event_id": "x", "request_id": "twelve"}).encode())
    elif case == "another database":
        result = _send(url, _body(db="other"))
    elif case == "too large":
        result = _send(url, _body(padding="x" * MAX_BODY))
    elif case == "other path":
        result = _send(url.replace(PATH, "/executor/other"))
    else:
        result = _send(url, None if case == "GET" else _body(), method=case, signed=False)
    assert result[0] == status, result
    assert result[1]["accepted"] is False
    assert not woken.is_set()


def test_a_body_just_under_the_limit_is_accepted(receiver: WebhookReceiver, woken: threading.Event) -> None:
    body = _body()
    padded = _body(padding="x" * (MAX_BODY - len(body) - len(', "padding": ""')))
    assert len(padded) == MAX_BODY
    assert _send(receiver.url, padded)[0] == 202
    assert woken.is_set()


def test_the_same_event_twice_wakes_once() -> None:
    calls: list[int] = []
    with WebhookReceiver(SECRET, lambda: calls.append(1), port=0) as r:
        assert _send(r.url, _body("evt-dup"))[0] == 202
        status, answer = _send(r.url, _body("evt-dup"), timestamp=int(time.time()) + 1)  # re-signed, same id
        assert (status, answer["accepted"]) == (409, False)
        assert _send(r.url, _body("evt-other"))[0] == 202
    assert calls == [1, 1]


def test_a_rejected_event_id_is_not_remembered(woken: threading.Event) -> None:
    """An unauthenticated call cannot burn an event id (the genuine one still wakes)."""
    with WebhookReceiver(SECRET, woken.set, port=0) as r:
        assert _send(r.url, _body("evt-9"), secret="forged")[0] == 401
        assert _send(r.url, _body("evt-9"))[0] == 202
    assert woken.is_set()


def test_the_replay_memory_is_bounded() -> None:
    r = WebhookReceiver(SECRET, lambda: None, port=0, max_events=2)
    assert all(r._first_time(e) for e in ("a", "b", "c"))
    assert not r._first_time("c")
    assert r._first_time("a")  # forgotten: the oldest go first


def test_a_failing_wake_answers_500_and_the_event_may_be_retried() -> None:
    attempts: list[int] = []

    def wake() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("boom")

    with WebhookReceiver(SECRET, wake, port=0) as r:
        assert _send(r.url, _body("evt-r"))[0] == 500
        assert _send(r.url, _body("evt-r"))[0] == 202
    assert len(attempts) == 2


def test_the_secret_and_body_are_never_logged(receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG", logger="copilot.approvals.webhook")
    _send(receiver.url, _body("evt-log", note="confidential-body-text"))
    _send(receiver.url, _body("evt-log2"), secret="wrong")
    text = caplog.text
    assert "evt-log" in text and "request 12" in text
    assert SECRET not in text and "confidential-body-text" not in text
    assert SECRET not in repr(receiver)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        WebhookReceiver("", lambda: None)


def test_stop_closes_the_port(woken: threading.Event) -> None:
    r = WebhookReceiver(SECRET, woken.set, port=0).start()
    url = r.url
    r.stop()
    r.stop()  # idempotent
    with pytest.raises(urllib.error.URLError):
        _send(url)
    assert not woken.is_set()


# -- with the executor ---------------------------------------------------------------------------
class _FakeClient:
    """Just enough of OdooClient for Executor.run_once: nothing to do, and counts the runs."""

    approval_model = "copilot.approval.request"

    def __init__(self) -> None:
        self.runs = 0
        self.ran = threading.Event()

    def search_read(self, model: str, domain: list[Any], fields: list[str], **kwargs: Any) -> list[Any]:
        if domain == [("state", "=", "approved")]:  # the last query of one run
            self.runs += 1
            self.ran.set()
        return []


def test_a_webhook_makes_a_polling_executor_run_promptly() -> None:
    client = _FakeClient()
    executor = Executor(client, now=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    stop = threading.Event()
    worker = threading.Thread(target=executor.run_forever, args=(60, stop), daemon=True)
    with WebhookReceiver(SECRET, executor.wake, port=0) as r:
        worker.start()
        try:
            assert client.ran.wait(5), "the first poll did not happen"
            time.sleep(0.2)  # let it settle into its 60 s wait
            assert client.runs == 1
            client.ran.clear()
            started = time.monotonic()
            assert _send(r.url, _body("evt-e2e"))[0] == 202
            assert client.ran.wait(2), "the webhook did not wake the executor"
            assert time.monotonic() - started < 2
            assert client.runs == 2
        finally:
            stop.set()
            executor.wake()
            worker.join(5)
    assert not worker.is_alive()
