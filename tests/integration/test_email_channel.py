"""The email channel against real servers: Dovecot (IMAP) on loopback, aiosmtpd (SMTP), the Slack stand-in.

Mail is delivered into the shared mailbox with IMAP APPEND; the worker reads it as in production. The
tests check what people see: the buyer's Slack DM, the support channel, the email answer in its thread,
the dead-letter store, and that nothing is processed twice or lost on stop.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from channels.email import MailboxUnavailable
from channels.email.mailbox import DONE_FLAG, PARKED_FLAG
from channels.serve import mail_worker
from channels.slack.blocks import PROPOSE_ACTION_ID
from channels.slack.notify import SlackNotifier
from copilot.application import Outbox, SharedMailbox, authorize
from copilot.citations import Citation
from copilot.cli import app
from copilot.config import Settings, get_settings
from copilot.email import InboundEmail
from copilot.errors import AccessDenied
from copilot.guardrails.ratelimit import RateLimiter
from copilot.identity import Actor
from copilot.odoo import OdooClient
from copilot.odoo.session import OdooSession
from copilot.service import Copilot
from copilot.skills.supplier_email import SupplierEmailSummary
from copilot.skills.supplier_email.schemas import EmailHeader
from copilot.state import Database
from odoo_sandbox import RECORDED_AT
from tests.integration.conftest import (
    BUYER_CHANNEL,
    COPILOT_ADDRESS,
    INTERNAL_DOMAIN,
    SUPPORT_CHANNEL,
    deliver,
    flags,
    imap,
    make_copilot_settings,
)
from tests.servers.dovecot import DovecotServer, free_port
from tests.servers.smtp import SmtpCapture

EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"
SEEN = b"\\Seen"


def crlf(text: str) -> bytes:
    """A message as it travels: CRLF line ends."""
    return text.lstrip("\n").replace("\n", "\r\n").encode("utf-8")


def fixture(name: str) -> bytes:
    return (EMAILS / name).read_bytes()


SUPPLIER_P00009 = fixture("04_p00009_partial_shipment.eml")  # Gemini Furniture, partial shipment
SUPPLIER_P00008 = fixture("03_p00008_price_change.eml")  # Wood Corner, price change
MALFORMED = fixture("binary_garbage.eml")

CUSTOMER = crlf("""
From: Toni Rhodes <toni.rhodes11@example.com>
To: support@yourcompany.example.com
Subject: Broken chairs in S00028
Date: Thu, 26 Nov 2026 08:12:00 +0000
Message-ID: <c-s00028@jackson.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, three of the conference chairs from order S00028 arrived broken. What do we do now?

Toni
""")

QUESTION = crlf("""
From: Mitchell Admin <admin@yourcompany.example.com>
Reply-To: collector@elsewhere.example
To: copilot@yourcompany.example.com
Subject: Is P00009 late?
Date: Thu, 26 Nov 2026 09:00:00 +0000
Message-ID: <q-p00009@yourcompany.example.com>
In-Reply-To: <earlier@yourcompany.example.com>
References: <root@yourcompany.example.com> <earlier@yourcompany.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Is P00009 late?

--
Mitchell
""")

STRANGER_QUESTION = crlf("""
From: Nobody <nobody@yourcompany.example.com>
To: copilot@yourcompany.example.com
Subject: Which Wood Corner orders are late?
Date: Thu, 26 Nov 2026 09:05:00 +0000
Message-ID: <q-stranger@yourcompany.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Which Wood Corner orders are late? How much is P00008 worth?
""")


def _db(settings: Settings) -> Database:
    """The database a process on ``settings`` opens in its composition root (a new engine each time, as a restart)."""
    return Database.from_settings(settings)


@pytest.fixture
def mail_settings(dovecot: DovecotServer, smtp_server: SmtpCapture, slack_api: Any, tmp_path: Path) -> Settings:
    """A fresh mailbox on the test Dovecot, SMTP to the capture server, Slack to the recording stand-in."""
    user = dovecot.new_user()
    return make_copilot_settings(
        tmp_path / "mail",
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_tls="none",
        imap_user=user.login,
        imap_password=user.password,
        imap_poll_interval=5,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_tls="none",
        mail_from=COPILOT_ADDRESS,
        internal_domains=INTERNAL_DOMAIN,
        slack_bot_token=slack_api.token,
        slack_api_url=slack_api.url,
        slack_support_channel=SUPPORT_CHANNEL,
        slack_buyer_channel=BUYER_CHANNEL,
    )


def posts_to(slack_api: Any, channel: str) -> list[Any]:
    return [c for c in slack_api.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def block_text(call: Any) -> str:
    return json.dumps(call.args.get("blocks") or [], ensure_ascii=False)


def use_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Make the CLI read ``settings`` (it builds its own from the environment)."""
    values = {
        "DATA_DIR": str(settings.data_dir),
        "SLACK_BOT_TOKEN": settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else "",
        "SLACK_API_URL": str(settings.slack_api_url),
        "SLACK_BUYER_CHANNEL": settings.slack_buyer_channel or "",
        "SLACK_SUPPORT_CHANNEL": settings.slack_support_channel or "",
        "INTERNAL_DOMAINS": settings.internal_domains or "",
        "IMAP_HOST": settings.imap_host or "",
        "IMAP_PORT": str(settings.imap_port),
        "IMAP_TLS": settings.imap_tls,
        "IMAP_USER": settings.imap_user or "",
        "IMAP_PASSWORD": settings.imap_password.get_secret_value() if settings.imap_password else "",
        "RATE_LIMIT_PER_MINUTE": "10000",
    }
    for name, value in values.items():
        monkeypatch.setenv(f"COPILOT_{name}", value)
    get_settings.cache_clear()


# -- who may do what --------------------------------------------------------------------------------
def test_the_mailbox_actor_may_summarize_classify_and_draft_but_never_ask_or_propose() -> None:
    mailbox = SharedMailbox.for_sender("purchasing@yourcompany.example.com", "someone@example.org")
    for skill in ("summarize", "classify", "draft"):
        authorize(mailbox, skill)  # type: ignore[arg-type]
    for skill in ("ask", "propose", "audit"):
        with pytest.raises(AccessDenied):
            authorize(mailbox, skill)  # type: ignore[arg-type]
    stranger = Actor(channel="email", external_id="someone@example.org", email="someone@example.org")
    with pytest.raises(AccessDenied):
        authorize(stranger, "summarize")  # an unknown sender is not the mailbox
    with pytest.raises(AccessDenied):  # nor is an actor whose id merely looks like the mailbox's
        authorize(Actor(channel="email", external_id="mailbox:purchasing@yourcompany.example.com"), "summarize")


# -- the must-shows ---------------------------------------------------------------------------------
def test_supplier_summary_goes_to_the_buyers_dm_and_a_customer_draft_to_support_never_to_the_customer(
    mail_settings: Settings, copilot: Copilot, slack_api: Any, smtp_server: SmtpCapture
) -> None:
    uids = deliver(mail_settings, SUPPLIER_P00009, CUSTOMER)
    with mail_worker(mail_settings, copilot, db=_db(mail_settings)) as worker:
        report = worker.run_once()

        assert (report.fetched, report.processed, report.parked, report.retried) == (2, 2, 0, 0)
        assert [r.kind for r in report.results] == ["supplier", "customer"]
        # the PO's buyer (Mitchell Admin, purchase.order.user_id) gets a DM
        assert [c.args["users"] for c in slack_api.calls_to("conversations.open")] == ["UADMIN"]
        (dm,) = posts_to(slack_api, "DADMIN")
        assert "P00009" in dm.args["text"] and "Soham Palmer" in dm.args["text"]
        shown = block_text(dm)
        assert "P00009" in shown and "soham.palmer15@example.com" in shown  # the PO and who sent the email
        buttons = [
            b["accessory"] for b in dm.args["blocks"] if b.get("accessory", {}).get("action_id") == PROPOSE_ACTION_ID
        ]
        assert buttons, "the proposals are offered as 'Propose this action' buttons"
        assert all(b["text"]["text"] == "Propose this action" for b in buttons)
        value = json.loads(buttons[0]["value"])
        assert value["source"] == "email"  # the Slack app looks it up in the outbox (Outbox.proposal)
        proposal = worker.outbox.proposal(value["proposal_key"])
        assert proposal is not None and "P00009" in proposal.title  # the button resolves to the stored proposal
        assert "chatter is a write" in shown
        # the customer's email: triaged, a draft for an agent in the support channel
        (support,) = posts_to(slack_api, SUPPORT_CHANNEL)
        text = block_text(support)
        assert "Toni Rhodes" in text and "S00028" in text and "not sent" in text and "Triage" in text
        assert "toni.rhodes11@example.com" in text  # who wrote, with the address
        assert posts_to(slack_api, BUYER_CHANNEL) == []
    assert smtp_server.received() == []  # nothing is ever mailed to a supplier or a customer
    marked = flags(mail_settings)
    assert all({SEEN, DONE_FLAG} <= marked[uid] for uid in uids)


def test_a_staff_question_is_answered_by_email_in_its_thread_and_a_stranger_gets_no_data(
    mail_settings: Settings, copilot: Copilot, smtp_server: SmtpCapture
) -> None:
    deliver(mail_settings, QUESTION, STRANGER_QUESTION)
    with mail_worker(mail_settings, copilot, db=_db(mail_settings)) as worker:
        report = worker.run_once()
    assert report.processed == 2
    answer, refusal = smtp_server.wait_for(2)

    assert answer.rcpt_tos == ["admin@yourcompany.example.com"]  # the From address, never the Reply-To
    reply = answer.message
    assert reply["Subject"] == "Re: Is P00009 late?"
    assert reply["In-Reply-To"] == "<q-p00009@yourcompany.example.com>"
    assert reply["References"].split() == [
        "<root@yourcompany.example.com>",
        "<earlier@yourcompany.example.com>",
        "<q-p00009@yourcompany.example.com>",
    ]
    assert reply["From"] == COPILOT_ADDRESS and reply["Auto-Submitted"] == "auto-replied"
    body = reply.get_content()
    assert "P00009" in body and "Gemini Furniture" in body and "Sources:" in body

    assert refusal.rcpt_tos == ["nobody@yourcompany.example.com"]
    assert refusal.message["Subject"] == "Re: Which Wood Corner orders are late?"
    text = refusal.message.get_content()
    assert "cannot answer" in text
    assert "P000" not in text and "Wood Corner" not in text and "USD" not in text  # no data for strangers


def test_a_malformed_email_is_parked_with_its_reason_and_listed(
    mail_settings: Settings, copilot: Copilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    (uid,) = deliver(mail_settings, MALFORMED)
    with mail_worker(mail_settings, copilot, db=_db(mail_settings)) as worker:
        report = worker.run_once()
        assert (report.fetched, report.parked, report.processed) == (1, 1, 0)
        (letter,) = worker.parked()
        assert letter.error_type == "UnreadableEmail" and "binary data" in letter.reason
        stored = worker.deadletters.get(letter.id)
        client = imap(mail_settings)
        as_delivered = client.fetch([uid], [b"BODY.PEEK[]"])[uid][b"BODY[]"]
        client.logout()
        assert stored is not None and stored.payload == as_delivered  # the exact bytes, for a replay
        assert worker.run_once().fetched == 0  # parked once, not fetched again
    marked = flags(mail_settings)[uid]
    assert PARKED_FLAG in marked and SEEN not in marked  # left unread for a person

    use_env(monkeypatch, mail_settings)
    listed = CliRunner().invoke(app, ["deadletters", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.stdout)
    assert row["channel"] == "email" and "binary data" in row["reason"] and row["status"] == "parked"
    replayed = CliRunner().invoke(app, ["deadletters", "replay", str(row["id"])])
    assert replayed.exit_code == 1 and "still failing" in replayed.stdout  # still unreadable: stays parked


def test_nothing_is_processed_twice_after_a_restart_a_lost_flag_or_a_redelivery(
    mail_settings: Settings, copilot: Copilot, slack_api: Any
) -> None:
    first, _ = deliver(mail_settings, SUPPLIER_P00009, SUPPLIER_P00008)
    with mail_worker(mail_settings, copilot, db=_db(mail_settings)) as worker:
        assert worker.run_once().processed == 2
    posted = len(slack_api.calls_to("chat.postMessage"))
    assert posted == 2

    client = imap(mail_settings)  # the server forgets that the first one was done ...
    client.remove_flags([first], [SEEN, DONE_FLAG])
    client.logout()
    (again,) = deliver(mail_settings, SUPPLIER_P00008)  # ... and the second one is delivered again

    with mail_worker(mail_settings, copilot, db=_db(mail_settings)) as restarted:  # a new process on the same data dir
        report = restarted.run_once()
    assert (report.processed, report.skipped_duplicates, report.parked) == (0, 2, 0)
    assert len(slack_api.calls_to("chat.postMessage")) == posted
    marked = flags(mail_settings)
    assert {SEEN, DONE_FLAG} <= marked[first] and {SEEN, DONE_FLAG} <= marked[again]


def test_an_odoo_outage_is_retried_then_parked_and_replay_delivers_it(
    mail_settings: Settings, copilot: Copilot, slack_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (uid,) = deliver(mail_settings, SUPPLIER_P00009)
    down = mail_settings.model_copy(update={"odoo_retries": 0, "odoo_timeout": 2.0})
    unreachable = OdooClient.from_settings(down, url=f"http://127.0.0.1:{free_port()}", db="demo")
    session = OdooSession(client=unreachable, label="Odoo (down)", sandbox=True, as_of=RECORDED_AT.replace(tzinfo=UTC))
    with mail_worker(
        mail_settings, Copilot(down, session, components=copilot.components), max_attempts=3, db=_db(mail_settings)
    ) as worker:
        reports = [worker.run_once() for _ in range(3)]
        assert [(r.retried, r.parked) for r in reports] == [(1, 0), (1, 0), (0, 1)]
        (letter,) = worker.parked()
        assert letter.error_type == "OdooUnavailable" and letter.attempts == 3
        assert "gave up after 3 attempts" in letter.reason
    assert slack_api.calls_to("chat.postMessage") == []
    assert SEEN not in flags(mail_settings)[uid]

    use_env(monkeypatch, mail_settings)  # Odoo is back: replay from the stored payload
    result = CliRunner().invoke(app, ["deadletters", "replay", str(letter.id)])
    assert result.exit_code == 0, result.output
    assert "replayed" in result.stdout
    (dm,) = posts_to(slack_api, "DADMIN")
    assert "P00009" in dm.args["text"]
    with mail_worker(mail_settings, copilot, db=_db(mail_settings)) as worker:
        assert worker.deadletters.get(letter.id).status == "replayed"  # type: ignore[union-attr]
        assert worker.run_once().processed == 0  # the replayed message is not processed again
    assert len(slack_api.calls_to("chat.postMessage")) == 1


def test_stop_finishes_the_email_in_flight_and_takes_no_new_one(
    mail_settings: Settings, copilot: Copilot, slack_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = deliver(mail_settings, SUPPLIER_P00009, SUPPLIER_P00008)
    worker = mail_worker(mail_settings, copilot, db=_db(mail_settings))
    in_flight = threading.Event()
    route = worker.router.route

    def slow_route(*args: Any) -> Any:
        in_flight.set()
        time.sleep(1.0)  # SIGTERM arrives while this email is being processed
        return route(*args)

    monkeypatch.setattr(worker.router, "route", slow_route)
    worker.start()
    assert in_flight.wait(10)
    worker.stop(timeout=20)
    assert not worker.healthy()

    marked = flags(mail_settings)
    assert {SEEN, DONE_FLAG} <= marked[first]  # finished and marked
    assert not marked[second] & {SEEN, DONE_FLAG, PARKED_FLAG}  # not started: still waiting
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    worker.close()

    with mail_worker(mail_settings, copilot, db=_db(mail_settings)) as next_run:
        report = next_run.run_once()
    assert (report.processed, report.skipped_duplicates) == (1, 0)
    assert len(slack_api.calls_to("chat.postMessage")) == 2


def test_the_running_worker_picks_up_new_mail_through_idle(
    mail_settings: Settings, copilot: Copilot, slack_api: Any
) -> None:
    worker = mail_worker(mail_settings, copilot, db=_db(mail_settings))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not worker.healthy() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.healthy()
        assert worker.mailbox.idle_supported
        delivered = time.monotonic()
        deliver(mail_settings, SUPPLIER_P00009)
        slack_api.wait_for("chat.postMessage", 1, timeout=10)
        assert time.monotonic() - delivered < 5  # IDLE, not the 5-second poll interval
    finally:
        worker.stop(10)
        worker.close()


def test_without_slack_or_smtp_results_are_kept_in_the_outbox(
    dovecot: DovecotServer, copilot: Copilot, tmp_path: Path
) -> None:
    user = dovecot.new_user()
    settings = make_copilot_settings(
        tmp_path / "offline",
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_tls="none",
        imap_user=user.login,
        imap_password=user.password,
        internal_domains=INTERNAL_DOMAIN,
    )
    deliver(settings, SUPPLIER_P00009, QUESTION)
    with mail_worker(settings, copilot, db=_db(settings)) as worker:
        assert worker.run_once().processed == 2
        assert worker.stats == {"processed": 2}  # what /metrics shows as copilot_worker_items_total
        entries = worker.outbox.entries()
        assert [(e.kind, e.target) for e in entries] == [("supplier_summary", "outbox"), ("email_reply", "outbox")]
        reply = worker.outbox.data(entries[1].id)
        assert reply["to"] == "admin@yourcompany.example.com" and "In-Reply-To: <q-p00009@" in reply["message"]


def test_an_smtp_outage_is_retried_and_the_answer_sent_once_it_is_back(
    mail_settings: Settings, copilot: Copilot, smtp_server: SmtpCapture
) -> None:
    deliver(mail_settings, QUESTION)
    smtp_down = mail_settings.model_copy(update={"smtp_port": free_port()})
    with mail_worker(smtp_down, copilot, db=_db(smtp_down)) as worker:
        report = worker.run_once()
        assert (report.processed, report.retried) == (0, 1)
        assert "SmtpUnavailable" in report.results[0].detail
    with mail_worker(mail_settings, copilot, db=_db(mail_settings)) as worker:  # the server is back
        report = worker.run_once()
        assert report.processed == 1
        assert worker.ledger.attempts(report.results[0].key) == 1  # one failed try, then done
    (answer,) = smtp_server.wait_for(1)
    assert answer.message["In-Reply-To"] == "<q-p00009@yourcompany.example.com>"


def test_an_unreachable_mailbox_makes_the_worker_unhealthy_and_it_still_stops_at_once(
    copilot: Copilot, tmp_path: Path
) -> None:
    settings = make_copilot_settings(
        tmp_path / "nowhere",
        imap_host="127.0.0.1",
        imap_port=free_port(),
        imap_tls="none",
        imap_user="nobody@mail.test",
        imap_password="x",
    )
    worker = mail_worker(settings, copilot, db=_db(settings))
    with pytest.raises(MailboxUnavailable):
        worker.run_once()
    worker.start()
    time.sleep(0.3)
    assert not worker.healthy()  # readiness can report it; the loop keeps reconnecting with backoff
    started = time.monotonic()
    worker.stop(5)
    worker.close()
    assert time.monotonic() - started < 2


def test_a_buyer_without_slack_gets_the_summary_in_the_buyer_channel(
    mail_settings: Settings, copilot: Copilot, slack_api: Any
) -> None:
    slack_api.users = [u for u in slack_api.users if u.id != "UADMIN"]  # Mitchell Admin is not on Slack
    deliver(mail_settings, SUPPLIER_P00009)
    with mail_worker(mail_settings, copilot, db=_db(mail_settings)) as worker:
        assert worker.run_once().processed == 1
    assert slack_api.calls_to("conversations.open") == []
    (post,) = posts_to(slack_api, BUYER_CHANNEL)
    assert "P00009" in post.args["text"]


def test_a_burst_beyond_the_rate_limit_is_deferred_not_dropped(mail_settings: Settings, copilot: Copilot) -> None:
    again = SUPPLIER_P00009.replace(b"Message-ID: <", b"Message-ID: <again.", 1)  # the same sender once more
    deliver(mail_settings, SUPPLIER_P00009, again)
    limited = Copilot(copilot.settings, copilot.odoo, limiter=RateLimiter(1), components=copilot.components)
    with mail_worker(mail_settings, limited, db=_db(mail_settings)) as worker:
        report = worker.run_once()
        assert (report.processed, report.deferred, report.parked, report.retried) == (1, 1, 0, 0)
        assert worker.parked() == []
    with mail_worker(mail_settings, copilot, db=_db(mail_settings)) as worker:  # a minute later, in effect
        assert worker.run_once().processed == 1


def test_the_rate_limit_applies_per_outside_sender(mail_settings: Settings, copilot: Copilot) -> None:
    deliver(mail_settings, SUPPLIER_P00009, SUPPLIER_P00008)  # two suppliers
    limited = Copilot(copilot.settings, copilot.odoo, limiter=RateLimiter(1), components=copilot.components)
    with mail_worker(mail_settings, limited, db=_db(mail_settings)) as worker:
        assert worker.run_once().processed == 2


def test_a_supplier_email_forwarded_by_a_buyer_is_summarized_for_the_pos_buyer(
    mail_settings: Settings, copilot: Copilot, slack_api: Any, smtp_server: SmtpCapture
) -> None:
    deliver(mail_settings, fixture("forwarded.eml"))  # Mitchell Admin forwards Gemini's new ship date for P00002
    with mail_worker(mail_settings, copilot, db=_db(mail_settings)) as worker:
        report = worker.run_once()
    assert [r.kind for r in report.results] == ["supplier"]
    (dm,) = posts_to(slack_api, "DADMIN")
    assert "P00002" in dm.args["text"]
    assert smtp_server.received() == []  # a forward is not a question: no email answer


def test_slack_messages_link_citations_to_odoo_18_record_urls_and_escape_the_sender(tmp_path: Path) -> None:
    settings = make_copilot_settings(
        tmp_path / "links", odoo_url="https://erp.example.com", odoo_db="prod", odoo_api_key="k"
    )
    outbox = Outbox(Database.open())
    po = Citation(model="purchase.order", id=9, display_name="P00009")
    email = InboundEmail(from_name="<!channel> Soham", from_address="soham.palmer15@example.com", subject="P00009")
    summary = SupplierEmailSummary(
        email=EmailHeader(
            subject="P00009", from_name=email.from_name, from_address=email.from_address, date=None, message_id=None
        ),
        purchase_orders=[],
        summary="Partial shipment.",
        citations=[po],
    )
    (delivery,) = SlackNotifier(settings, outbox).supplier_summary("k1", email, summary, [], [])
    shown = json.dumps(outbox.data(delivery.id)["blocks"], ensure_ascii=False)
    assert "<https://erp.example.com/odoo/purchase.order/9|P00009>" in shown and "/web#" not in shown
    assert "<!channel>" not in shown and "&lt;!channel&gt; Soham" in shown
    outbox.close()
