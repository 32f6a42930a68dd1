"""``copilot propose``, ``copilot approvals ...`` and ``copilot executor``: the approval loop from a terminal."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from copilot.approvals import (
    AddonBackend,
    ApprovalBackend,
    Decision,
    EnterpriseBackend,
    Executor,
    Proposal,
    RequestState,
    decide,
    executor_client,
    load_policy,
)
from copilot.approvals.executor import ExecutorReport
from copilot.approvals.webhook import WebhookReceiver
from copilot.cli._loading import announce_model_loads, check_odoo
from copilot.cli._output import console, err_console, print_json
from copilot.cli._root import command_root
from copilot.config import Settings, get_settings
from copilot.email import parse_email
from copilot.odoo import OdooClient
from copilot.odoo.session import OdooSession

if TYPE_CHECKING:
    from copilot.composition import Root
    from odoo_sandbox import SandboxServer

app = typer.Typer(
    help="Approval requests in Odoo: list them, show one, run the loop on the sandbox.", no_args_is_help=True
)
JSON = typer.Option(False, "--json", help="Print the result as JSON.")
NO_POLICY = (
    "COPILOT_POLICY_FILE: no approval policy, so --submit can create no request (every action is advisory); "
    "set COPILOT_POLICY_FILE=policy.example.yaml to create them"
)


def _sandbox_hint(settings: Settings) -> None:
    """On the embedded sandbox, say where its writes live (stderr: the result stays clean)."""
    if not settings.sandbox:
        return
    if settings.sandbox_state_file is None:
        err_console.print("sandbox: writes are not kept (COPILOT_SANDBOX_KEEP_WRITES=false); each command starts "
                          "from the recording", style="dim", soft_wrap=True)  # fmt: skip
        return
    err_console.print(
        f"sandbox: writes kept in {settings.sandbox_state_file}; `copilot sandbox reset` restores the recording",
        style="dim",
        soft_wrap=True,
    )


def backend_for(settings: Settings, client: OdooClient) -> ApprovalBackend:
    """The configured approval backend over the agent's client."""
    return EnterpriseBackend(client) if settings.approval_backend == "enterprise" else AddonBackend(client)


def _now(odoo: OdooSession) -> datetime:
    return odoo.as_of if odoo.sandbox else datetime.now(UTC)


def _show_proposals(items: list[tuple[Proposal, Decision, Any]]) -> None:
    table = Table("proposal", "changes", "mode", "tier", "request")
    for proposal, decision, request in items:
        changes = "; ".join(f"{d.field}: {d.before} → {d.after}" for d in proposal.diff)
        if request is None:
            status = "not created (advisory: shown only)" if not decision.creates_request else "-"
        else:
            status = f"#{request.id} {request.state.value}" + ("" if request.created else " (already existed)")
        table.add_row(proposal.title, changes, decision.mode.value, decision.tier.value, status)
    console.print(table)


def propose(
    file: Path = typer.Argument(..., help="A supplier email (.eml), or - for stdin.", allow_dash=True),
    submit: bool = typer.Option(False, "--submit", help="Create the approval requests the policy asks for."),
    on_behalf_of: str | None = typer.Option(None, help="The person asking (login or e-mail), for the request."),
    json: bool = JSON,
) -> None:
    """Proposals from a supplier email (reschedules, price acceptances), under the approval policy."""
    from copilot.approvals.propose import proposals_from_supplier_email  # imports the skills: not at start-up
    from copilot.skills.supplier_email import summarize_supplier_email

    settings = get_settings()
    if submit and settings.policy_file is None:  # before the email is read and the models load
        from copilot.errors import ConfigError

        raise ConfigError(NO_POLICY)
    policy = load_policy(settings.policy_file)
    raw = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    mail = parse_email(raw)
    with command_root() as root:
        odoo = root.odoo
        check_odoo(odoo)  # a dead Odoo fails now, before the guardrails load the embedding model
        announce_model_loads(root)
        summary = summarize_supplier_email(mail, client=odoo.client, settings=root.settings, injection=root.injection)
        proposals = proposals_from_supplier_email(summary, odoo.client, on_behalf_of=on_behalf_of)
        items = []
        backend = backend_for(settings, odoo.client)
        for proposal in proposals:
            decision = decide(policy, proposal, now=_now(odoo))
            request = backend.submit(proposal, decision) if submit and decision.creates_request else None
            items.append((proposal, decision, request))
    if json:
        return print_json(
            [
                {"proposal": p.model_dump(mode="json"), "decision": d.model_dump(mode="json"),
                 "request": r.model_dump(mode="json", exclude={"proposal"}) if r else None}
                for p, d, r in items
            ]
        )  # fmt: skip
    if not items:
        console.print("no action to propose from this email (nothing verified that changes Odoo)")
        return
    _show_proposals(items)
    if not submit and any(d.creates_request for _, d, _ in items):
        console.print("[dim]run again with --submit to create the approval requests in Odoo[/]")
    elif settings.policy_file is None:
        err_console.print(
            "no approval policy: every proposal is advisory; set COPILOT_POLICY_FILE=policy.example.yaml and add "
            "--submit to create approval requests",
            soft_wrap=True,
        )


@app.command("list")
def list_requests(
    state: list[RequestState] = typer.Option([], "--state", help="Only these states (repeatable)."),
    limit: int = typer.Option(50, min=1, max=500),
    json: bool = JSON,
) -> None:
    """Approval requests, newest first."""
    with command_root() as root:
        settings = root.settings
        rows = backend_for(settings, root.odoo.client).search(list(state) or None, limit=limit)
    _sandbox_hint(settings)
    if json:
        return print_json([r.model_dump(mode="json", exclude={"proposal"}) for r in rows])
    if not rows:
        console.print("no approval requests" + (" in these states" if state else ""))
        return
    table = Table("id", "request", "state", "tier", "target", "outcome")
    for r in rows:
        table.add_row(
            str(r.id), r.name, r.state.value, r.risk_tier.value, r.target_name or "", r.execution_outcome or ""
        )
    console.print(table)


@app.command("show")
def show(request_id: int = typer.Argument(..., help="The request's id."), json: bool = JSON) -> None:
    """One approval request with its proposal."""
    with command_root() as root:
        record = backend_for(root.settings, root.odoo.client).get(request_id)
    if json:
        return print_json(record)
    console.print(f"[bold]#{record.id} {record.name}[/] · {record.state.value} · tier {record.risk_tier.value}")
    if record.proposal is not None:
        for d in record.proposal.diff:
            console.print(f"  {d.field}: {d.before} → {d.after}")
    if record.execution_outcome:
        console.print(f"outcome: {record.execution_outcome}")


@app.command("approve")
def approve(
    request_id: int = typer.Argument(..., help="The request's id (copilot approvals list)."),
    as_login: str | None = typer.Option(
        None, "--as", help="The approver's sandbox login (default: the manager, then the administrator)."
    ),
    reject: bool = typer.Option(False, "--reject", help="Refuse the request instead."),
    note: str | None = typer.Option(None, "--note", help="A comment kept with the decision."),
    json: bool = JSON,
) -> None:
    """A manager's decision on the sandbox, to try the loop (on a real Odoo, approvers decide in Odoo)."""
    from copilot.errors import CopilotError

    settings = get_settings()
    if not settings.sandbox:
        raise CopilotError(
            "decisions are made in Odoo by an approver (the copilot's account cannot decide); "
            "`approvals approve` only works on the embedded sandbox"
        )
    from odoo_sandbox import DecisionRefused, decide_in_sandbox

    with command_root() as root:
        server = _sandbox_of(root.odoo)
        try:
            done = decide_in_sandbox(server, request_id, login=as_login, refuse=reject, note=note)
        except DecisionRefused as exc:
            raise CopilotError(f"the sandbox refused: {exc}") from None
    if json:
        return print_json(done)
    who = f"{done.user_name} ({done.login})"
    if done.decision == "refuse":
        console.print(f"#{done.request_id} {done.name}: refused by {who} · {done.state}")
    elif done.state == "pending":
        console.print(
            f"#{done.request_id} {done.name}: approval {done.approvals} of {done.approvals_required} by {who}; "
            "still pending: a second, different approver is needed (run it again, or --as LOGIN)"
        )
    else:
        console.print(f"#{done.request_id} {done.name}: approved by {who} · {done.state}")
        console.print("[dim]next: copilot executor --once[/]")


def _print_report(report: ExecutorReport) -> None:
    for o in report.outcomes:
        console.print(f"#{o.request_id} {o.name}: [bold]{o.result}[/] · {o.detail}")
    if not report.outcomes:
        console.print("[dim]nothing to do[/]")


def executor(
    once: bool = typer.Option(False, "--once", help="One pass, then exit (for cron or a test)."),
    interval: float | None = typer.Option(None, min=1, help="Seconds between polls (default: the setting)."),
) -> None:
    """Run approved requests exactly once each, with the executor's own Odoo credential (on the embedded
    sandbox: its executor user); Ctrl-C stops."""
    with command_root() as root:
        runner = _executor_runner(root)
        if once:
            _print_report(runner.run_once())
            return
        _run_executor(root.settings, runner, interval)


def _sandbox_of(odoo: OdooSession) -> SandboxServer:
    """The embedded sandbox's server behind the root's Odoo session."""
    if odoo.server is None:
        from copilot.errors import CopilotError

        raise CopilotError("the embedded sandbox is not running (an Odoo URL is set)")
    if not odoo.server.serving:  # its other users (approver, executor) log in over JSON-RPC, as on a real Odoo
        odoo.server.start()
    return odoo.server


def _executor_runner(root: Root) -> Executor:
    """The executor on the configured Odoo, or on the root's embedded sandbox as its own executor user."""
    settings = root.settings
    if not settings.sandbox:
        return Executor(executor_client(settings), now=lambda: datetime.now(UTC))
    from pydantic import SecretStr

    from copilot.errors import ConfigError
    from odoo_sandbox import SANDBOX_USERS

    user = next((u for u in SANDBOX_USERS if u.login == settings.executor_login), None)
    if user is None or user.role != "executor":  # never the copilot's read-only account
        raise ConfigError(
            f"COPILOT_EXECUTOR_LOGIN: {settings.executor_login!r} is not the sandbox's executor user (executor)"
        )
    server = _sandbox_of(root.odoo)
    own = settings.model_copy(update={"executor_password": SecretStr(user.password)})
    anchor = server.anchor.replace(tzinfo=UTC)
    return Executor(executor_client(own, url=server.url, db=server.db), now=lambda: anchor)


def _run_executor(settings: Settings, runner: Executor, interval: float | None) -> None:
    stop = threading.Event()

    def _terminate(*_: object) -> None:
        stop.set()
        runner.wake()  # leave the poll wait now, not after it

    signal.signal(signal.SIGTERM, _terminate)
    receiver = None
    if settings.executor_webhook_secret is not None:
        receiver = WebhookReceiver(
            settings.executor_webhook_secret,
            runner.wake,
            host=settings.executor_webhook_host,
            port=settings.executor_webhook_port,
            db=settings.odoo_db,
        )
        try:
            receiver.start()
        except OSError as exc:
            raise typer.BadParameter(
                f"cannot listen on {settings.executor_webhook_host}:{settings.executor_webhook_port}: {exc}",
                param_hint="COPILOT_EXECUTOR_WEBHOOK_PORT",
            ) from None
        err_console.print(f"executor: woken by Odoo at {receiver.url} (copilot_approval.executor_webhook_url)")
    err_console.print(f"executor: polling every {interval or settings.executor_interval:.0f} s; Ctrl-C stops")
    try:
        runner.run_forever(interval or settings.executor_interval, stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        if receiver is not None:
            receiver.stop()


@app.command("demo")
def demo(
    email: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="A supplier email (.eml). Default: the P00002 delay in the sandbox."
    ),
    json: bool = JSON,
) -> None:
    """The whole loop on the sandbox, in one process: email → proposal → request → approval → executor."""
    import odoorpc

    from copilot.approvals.policy import ActionPolicy, Mode, Policy
    from copilot.approvals.propose import proposals_from_supplier_email
    from copilot.approvals.schemas import ActionType
    from copilot.config import load_settings
    from copilot.skills.supplier_email import summarize_supplier_email
    from copilot.tools.chatter import email_from_chatter, recent_emails
    from odoo_sandbox import SANDBOX_USERS

    steps: list[dict[str, str]] = []

    def say(number: int, step: str, detail: str) -> None:
        steps.append({"step": step, "detail": detail})
        if not json:
            console.print(f"{number}. {detail}" if number else detail)

    logins = {u.login: u.password for u in SANDBOX_USERS}  # the sandbox's published demo users
    policy = Policy(version=1, actions={a: ActionPolicy(mode=Mode.APPROVAL) for a in ActionType})
    # a fresh sandbox of its own: the recording, writes in memory only
    with command_root(odoo_url=None, sandbox_keep_writes=False, sandbox_helpdesk="oca") as root:
        server, agent = _sandbox_of(root.odoo), root.odoo.client
        settings = root.settings
        if email is not None:
            mail = parse_email(email.read_bytes())
        else:
            messages = recent_emails(agent, "purchase.order", limit=50)
            mail = next(email_from_chatter(m) for m in messages if "P00002" in (m.subject or ""))
        announce_model_loads(root)
        summary = summarize_supplier_email(mail, client=agent, settings=settings, injection=root.injection)
        say(1, "email", f"email: {summary.email.subject!r} → {summary.summary}")
        proposals = proposals_from_supplier_email(summary, agent)
        if not proposals:
            say(0, "proposal", "no action to propose from this email")
            if json:
                print_json({"steps": steps})
            return
        backend = AddonBackend(agent)
        requests = [backend.submit(p, decide(policy, p, now=server.anchor.replace(tzinfo=UTC))) for p in proposals]
        for r in requests:
            say(2, "request", f"request #{r.id} created by the copilot: {r.name} · {r.state.value}")
        manager = odoorpc.ODOO(server.host, port=server.port)
        manager.login(server.db, "manager", logins["manager"])
        for r in requests:
            manager.env[agent.approval_model].browse(r.id).action_approve()
            say(3, "approval", f"approved in Odoo by Nora Blake (manager): #{r.id} · {backend.get(r.id).state.value}")
        executor_settings = load_settings(executor_login="executor", executor_password=logins["executor"])
        runner = Executor(
            executor_client(executor_settings, url=server.url, db=server.db),
            now=lambda: server.anchor.replace(tzinfo=UTC),
        )
        for o in runner.run_once().outcomes:
            say(4, "executor", f"executor: #{o.request_id} {o.result}: {o.detail}")
        for r in requests:
            done = backend.get(r.id)
            say(5, "result", f"request #{r.id}: {done.state.value} · {done.execution_outcome}")
        again = runner.run_once()
        say(6, "executor again", f"executor again: {len(again.outcomes)} action(s): each request runs once")
    if json:
        print_json({"steps": steps})
