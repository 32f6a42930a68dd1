"""The facade of the application layer: the one way channels reach the skills and Odoo.

Slack, email, the HTTP API, webhooks and the CLI all call ``Copilot``'s use cases: every call names its
principal (``copilot.application.principals``: a person with a role, a service client with scopes, the
shared mailbox); the principal's type and the use case decide (``copilot.application.authorize``, never a
channel name), the principal's rate limit must not be spent, and every Odoo read inside runs in the
principal's companies (``company_scope``). The input guardrail runs once, here: the skill's untrusted texts
(``Skill.untrusted``) are screened for prompt injection before the skill runs, the verdict goes into the
skill's context and into the audit record (flagged or not and which rules, never the text). Each finished or
refused request leaves an audit record when an audit trail is attached.
Thread-safe: the use cases keep no per-call state on the instance.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from langchain_core.language_models import BaseChatModel
from opentelemetry import trace
from pydantic import BaseModel

from copilot.application.authorization import authorize, believes_mail_server
from copilot.application.mail import po_buyers, sender_roles
from copilot.application.outcomes import SenderRoles, SupplierEmailOutcome
from copilot.application.principals import Person, SharedMailbox, UseCase
from copilot.approvals import (
    AddonBackend,
    ApprovalBackend,
    Decision,
    EnterpriseBackend,
    Policy,
    Proposal,
    RequestRecord,
    decide,
    load_policy,
    proposals_from_supplier_email,
)
from copilot.approvals.derive import proposal_from_client
from copilot.approvals.schemas import Evidence
from copilot.audit import AuditTrail, capture_tool_calls
from copilot.composition import Components, Root, open_root
from copilot.config import Settings
from copilot.controls.model import ControlRun, TrackedException
from copilot.email import InboundEmail
from copilot.errors import AccessDenied, CopilotError
from copilot.guardrails.ratelimit import Limiter, build_rate_limiter
from copilot.guardrails.screening import Screening, UntrustedText, screen
from copilot.identity import Actor, Channel, IdentityResolver, allowed_tools, load_roles_file
from copilot.observability.tracing import span
from copilot.odoo import company_scope
from copilot.odoo.session import OdooSession
from copilot.skills.answer import Answer, Question
from copilot.skills.at_risk import AtRiskInput, AtRiskQueue
from copilot.skills.base import SkillContext
from copilot.skills.carrier_status import CARRIER_STATUS, CarrierStatusReport, CarrierUpdate
from copilot.skills.draft_reply import DraftRequest, ReplyDraft
from copilot.skills.registry import ANSWER, AT_RISK, DRAFT_REPLY, ORDER_STATUS, SUPPLIER_EMAIL, TRIAGE
from copilot.skills.supplier_email import SupplierEmailSummary
from copilot.skills.triage import TicketClassification, TriageInput, Triager, load_triager, model_owner
from copilot.state import ConversationStore, Database
from copilot.text.references import PO_REF
from copilot.tools.schemas import SaleOrderStatus

if TYPE_CHECKING:
    from copilot.controls.engine import ControlEngine

__all__ = ["Copilot", "ProposalOutcome", "open_copilot"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class ProposalOutcome(BaseModel):
    """What became of a proposal: the policy's decision and, unless advisory, the request in Odoo."""

    decision: Decision
    request: RequestRecord | None = None


class Copilot:
    """The skills behind the guardrails every channel shares. Thread-safe for concurrent requests."""

    def __init__(
        self,
        settings: Settings,
        odoo: OdooSession,
        *,
        llm: BaseChatModel | None = None,
        conversations: ConversationStore | None = None,
        policy: Policy | None = None,
        limiter: Limiter | None = None,
        identity: IdentityResolver | None = None,
        audit: AuditTrail | None = None,
        db: Database | None = None,
        components: Components,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self.settings = settings
        #: Spans of each use case and its skill run (``copilot.observability.tracing``); a no-op tracer when off.
        self.tracer = tracer if tracer is not None else trace.NoOpTracer()
        #: The composition root's embedder, injection detector and knowledge base: the caller's root (the facade
        #: builds no client or model of its own).
        self.components = components
        #: The project's database the stores share (``None``: none opened, e.g. in unit tests of a skill).
        self.db = db
        self.odoo = odoo
        self.llm = llm
        self.conversations = conversations
        self.policy = policy if policy is not None else load_policy(settings.policy_file)
        self.limiter = limiter or build_rate_limiter(settings)
        self.identity = identity or IdentityResolver(odoo.client, load_roles_file(settings.roles_file))
        #: Where each request's record goes (``None``: no audit trail, e.g. in unit tests of a skill).
        self.audit = audit
        self._triager: Triager | None = None
        self._triager_lock = threading.Lock()

    # -- who is asking --------------------------------------------------------------------------
    def actor_for(self, *, channel: Channel, external_id: str, email: str | None, name: str | None = None) -> Person:
        """The person on a channel, with the role and companies from Odoo and the roles file."""
        actor = self.identity.resolve(channel=channel, external_id=external_id, email=email, name=name)
        return Person(**actor.model_dump())

    @property
    def now(self) -> datetime:
        """ "Now" for lateness: the sandbox's recorded time, else the clock."""
        return self.odoo.as_of if self.odoo.sandbox else datetime.now(UTC)

    def odoo_reachable(self) -> str:
        """A readiness probe of Odoo (one count, no principal, not audited): what answered, for ``/readyz``."""
        users = self.odoo.client.search_count("res.users", [])
        where = "embedded sandbox" if self.odoo.sandbox else "Odoo"
        return f"{where} answered ({users} users visible)"

    @property
    def backend(self) -> ApprovalBackend:
        """Where approval requests go (the addon's model or Enterprise Approvals)."""
        client = self.odoo.client
        return EnterpriseBackend(client) if self.settings.approval_backend == "enterprise" else AddonBackend(client)

    @property
    def triager(self) -> Triager:
        """The triage model (trained artefact, or cold start), loaded on first use."""
        with self._triager_lock:  # it loads an embedding model: once, whoever asks first
            if self._triager is None:
                odoo_key, database = model_owner(self.settings)
                self._triager = load_triager(
                    self.odoo.client,
                    self.settings,
                    odoo=odoo_key,
                    database=database,
                    llm=self.llm,
                    embedder=self.components.embedder,
                    injection=self.components.injection,
                )
            return self._triager

    @property
    def controls(self) -> ControlEngine:
        """The scheduled controls' engine (the composition root's, built on first use: a bad controls.yaml fails only
        the controls); ``ConfigError`` when this facade has none."""
        engine = getattr(self.components, "controls", None)  # a composition root builds one
        if engine is None:
            from copilot.errors import ConfigError

            raise ConfigError("this copilot has no controls engine (open it with open_copilot)")
        return engine  # type: ignore[no-any-return]

    # -- the skills -----------------------------------------------------------------------------
    def context(self, actor: Actor, screening: Screening | None = None) -> SkillContext:
        """The one ``SkillContext`` of a request by ``actor``: everything its skill may use, and nothing else.

        ``screening``: the pipeline's verdicts on the request's untrusted texts (the skill does not screen them
        again)."""
        return SkillContext(
            settings=self.settings,
            client=self.odoo.client,
            now=self.now,
            llm=self.llm,
            injection=self.components.injection,
            languages=self.components.languages,
            knowledge=self.components.knowledge_base,
            triager=lambda: self.triager,
            conversations=self.conversations,
            allowed_tools=allowed_tools(actor),
            screening=screening,
        )

    def summarize(self, actor: Actor, email: InboundEmail) -> SupplierEmailSummary:
        """What a supplier's email changes on the purchase orders.

        Only mail that reached us through our own receiving server (the shared mailbox, or a signed
        webhook source relaying it) keeps its ``Authentication-Results``: a message pasted into Slack,
        posted to the API or given to the CLI could carry a forged one, so its sender is never authenticated.
        """
        return self._run(
            actor,
            "summarize",
            _email_text(email),
            lambda ctx: self._summary(ctx, actor, email),
            SUPPLIER_EMAIL.untrusted(email),
        )

    def _summary(self, ctx: SkillContext, actor: Actor, email: InboundEmail) -> SupplierEmailSummary:
        if not believes_mail_server(actor) and email.authentication_results:
            email = email.model_copy(update={"authentication_results": []})
        return SUPPLIER_EMAIL.run(ctx, email)

    def classify(self, actor: Actor, item: TriageInput) -> TicketClassification:
        """Helpdesk labels with confidence, or a request for a person."""
        return self._run(
            actor,
            "classify",
            f"{item.subject}\n{item.body}",
            lambda ctx: TRIAGE.run(ctx, item),
            TRIAGE.untrusted(item),
        )

    def draft(self, actor: Actor, request: DraftRequest) -> ReplyDraft:
        """A reply draft grounded in Odoo (never sent)."""
        return self._run(
            actor,
            "draft",
            f"{request.subject}\n{request.message}",
            lambda ctx: DRAFT_REPLY.run(ctx, request),
            DRAFT_REPLY.untrusted(request),
        )

    def ask(self, actor: Actor, question: str, *, thread: str | None = None) -> Answer:
        """An answer from Odoo with its sources; ``thread`` keeps follow-ups ("it", "that PO")."""
        asked = Question(text=question, thread=thread)
        return self._run(actor, "ask", question, lambda ctx: ANSWER.run(ctx, asked), ANSWER.untrusted(asked))

    def order_status(self, actor: Actor, reference: str) -> SaleOrderStatus:
        """A sale order's deliveries for staff (ordered, delivered, reserved, short, expected), by S number."""
        tools = allowed_tools(actor)
        if tools is not None and "sale_order_status" not in tools:
            raise AccessDenied(f"the {str(actor.role).replace('_', ' ')} role does not see sale orders")
        return self._run(actor, "order_status", reference, lambda ctx: ORDER_STATUS.run(ctx, reference))

    def orders_at_risk(self, actor: Actor, request: AtRiskInput) -> AtRiskQueue:
        """The open sale orders that may miss their commitment, ranked, with reasons and proposals (not submitted).

        The queue shows sale and purchase data together (orders, POs, vendors' records): a role must see both.
        """
        tools = allowed_tools(actor)
        if tools is not None and not {"sale_order_status", "purchase_order_status"} <= tools:
            raise AccessDenied(
                f"the {str(actor.role).replace('_', ' ')} role does not see both sale and purchase orders"
            )
        text = request.model_dump_json()
        return self._run(actor, "orders_at_risk", text, lambda ctx: AT_RISK.run(ctx, request))

    def carrier_status(self, actor: Actor, update: CarrierUpdate) -> CarrierStatusReport:
        """A carrier's status update matched to Odoo's transfers by tracking number (reads only)."""
        return self._run(actor, "carrier_status", update.tracking_number, lambda ctx: CARRIER_STATUS.run(ctx, update))

    def propose(self, actor: Actor, proposal: Proposal) -> ProposalOutcome:
        """Apply the approval policy; unless advisory, create (or find) the approval request in Odoo."""
        return self._run(actor, "propose", proposal.title, lambda _: self._submit(actor, proposal))

    def propose_payload(
        self,
        actor: Actor,
        payload: Any,
        target: tuple[str, int],
        *,
        evidence: list[Evidence] | None = None,
        flagged_input: bool = False,
    ) -> ProposalOutcome:
        """An API client's proposal: rebuilt from its typed payload and what Odoo holds (title, diff, exposure,
        tier), then under the policy; ``PayloadRejected`` when a record in it is not the target's."""

        def submit(_: SkillContext) -> ProposalOutcome:
            proposal = proposal_from_client(
                self.odoo.client, payload, target, evidence=evidence, flagged_input=flagged_input
            )
            return self._submit(actor, proposal)

        return self._run(actor, "propose", f"{target[0]},{target[1]}", submit)

    # -- scheduled controls ---------------------------------------------------------------------
    def run_control(
        self, actor: Actor, name: str, *, notify: bool = True, scope: Mapping[str, Any] | None = None
    ) -> ControlRun:
        """Run the control ``name`` now: its ranked findings, and (``notify``) new or worsened exceptions sent.

        A principal limited to some companies runs it in those companies only: what it does not see is not
        closed (only an unrestricted run, the scheduler's, closes exceptions). ``scope`` narrows the run (e.g.
        the orders one purchase order feeds, when its date changed): partial too.
        """
        partial = actor.company_ids is not None
        return self._run(
            actor,
            "run_control",
            f"{name} {json.dumps(dict(scope or {}), sort_keys=True, default=str)}" if scope else name,
            lambda ctx: self.controls.run(ctx, name, notify=notify, closes=not partial, scope=scope),
        )

    def list_exceptions(
        self, actor: Actor, *, state: str | None = "open", control: str | None = None, severity: str | None = None
    ) -> list[TrackedException]:
        """The tracked exceptions, worst first (``state``/``control``/``severity`` None: all)."""
        return self._run(
            actor,
            "list_exceptions",
            f"{state}:{control}:{severity}",
            lambda _: self.controls.exceptions(state=state, control=control, severity=severity),
        )

    def acknowledge_exception(self, actor: Actor, control: str, key: str) -> TrackedException:
        """Acknowledge an exception: it is not sent again unless its severity gets worse."""
        by = actor.email or actor.external_id
        return self._run(
            actor, "acknowledge_exception", f"{control}:{key}", lambda _: self.controls.acknowledge(control, key, by=by)
        )

    def snooze_exception(self, actor: Actor, control: str, key: str, until: datetime) -> TrackedException:
        """Silence an exception until ``until``; then it is sent again if a run still finds it."""
        return self._run(
            actor, "snooze_exception", f"{control}:{key}", lambda _: self.controls.snooze(control, key, until)
        )

    # -- mail use cases -------------------------------------------------------------------------
    def classify_sender(self, actor: Actor, address: str) -> SenderRoles:
        """What Odoo knows of an outside address: a vendor, a customer, both, or unknown."""
        return self._run(actor, "classify_sender", address, lambda _: sender_roles(self.odoo.client, address))

    def ingest_supplier_email(self, actor: Actor, email: InboundEmail) -> SupplierEmailOutcome:
        """A supplier email's summary, the proposals it supports and its POs' buyers (the people to notify).

        For the shared mailbox the sender decides first: mail from no vendor that names no PO Odoo knows comes
        back with ``supplier`` False (a customer's mail). A person (a colleague forwarding it) or a service
        client says it is a supplier's email; the proposals are made on a person's behalf, and with no buyer on
        the POs the person who forwarded it hears about it.
        """
        return self._run(
            actor,
            "ingest_supplier_email",
            _email_text(email),
            lambda ctx: self._ingest(ctx, actor, email, recipients=True),
            SUPPLIER_EMAIL.untrusted(email),
        )

    def summarize_with_proposals(self, actor: Actor, email: InboundEmail) -> SupplierEmailOutcome:
        """A supplier email's summary and the proposals it supports, for the person who asked (no recipients)."""
        return self._run(
            actor,
            "summarize_with_proposals",
            _email_text(email),
            lambda ctx: self._ingest(ctx, actor, email, recipients=False),
            SUPPLIER_EMAIL.untrusted(email),
        )

    def _ingest(
        self, ctx: SkillContext, actor: Actor, email: InboundEmail, *, recipients: bool
    ) -> SupplierEmailOutcome:
        client = self.odoo.client
        mailbox = isinstance(actor, SharedMailbox)
        sender = sender_roles(client, email.from_address or "") if mailbox else SenderRoles()
        if mailbox and not (sender.vendor or PO_REF.search(_email_text(email))):
            return SupplierEmailOutcome(supplier=False, sender=sender)
        summary = self._summary(ctx, actor, email)
        if mailbox and not (summary.purchase_orders or (sender.vendor and not sender.customer)):
            return SupplierEmailOutcome(supplier=False, sender=sender, summary=summary)
        person = None if mailbox else actor.email
        proposals = proposals_from_supplier_email(summary, client, on_behalf_of=person)
        buyers = po_buyers(client, [po.id for po in summary.purchase_orders]) if recipients else []
        if recipients and not buyers and person:
            buyers = [person.lower()]
        return SupplierEmailOutcome(sender=sender, summary=summary, proposals=proposals, recipients=buyers)

    def _submit(self, actor: Actor, proposal: Proposal) -> ProposalOutcome:
        if proposal.on_behalf_of is None and (actor.email or actor.external_id):
            proposal = proposal.model_copy(update={"on_behalf_of": actor.email or actor.external_id})
        decision = decide(self.policy, proposal, now=self.now)
        if not decision.creates_request:
            return ProposalOutcome(decision=decision)
        return ProposalOutcome(decision=decision, request=self.backend.submit(proposal, decision))

    # -- the pipeline ---------------------------------------------------------------------------
    def check(self, actor: Actor, skill: UseCase) -> None:
        """Raise ``AccessDenied`` or ``RateLimited`` before any work (channels may call it to fail fast)."""
        authorize(actor, skill)
        if actor.company_ids is not None and not actor.company_ids:
            raise AccessDenied(
                f"{actor.external_id} belongs to no company whose records the copilot may read: ask an administrator"
            )
        self.limiter.check(actor.key)

    def _run(
        self,
        actor: Actor,
        skill: UseCase,
        text: str,
        work: Callable[[SkillContext], T],
        untrusted: Sequence[UntrustedText] = (),
    ) -> T:
        """Authorize, rate-limit, screen ``untrusted`` once, run ``work`` in the actor's companies, audit.

        Traced as a span ``copilot <use case>`` (use case and channel) holding ``skill <use case>`` around the run,
        itself the parent of each Odoo call's span; never the text or the actor's identity."""
        with span(self.tracer, f"copilot {skill}", {"copilot.use_case": skill, "copilot.channel": str(actor.channel)}):
            started = time.monotonic()
            input_hash = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
            calls: list[dict[str, Any]] = []
            screening: Screening | None = None
            try:
                self.check(actor, skill)
                screening = screen(untrusted, self.components.injection) if untrusted else None
                with (
                    self._scope(actor),
                    capture_tool_calls() as calls,
                    span(self.tracer, f"skill {skill}", {"copilot.skill": skill}),
                ):
                    result = work(self.context(actor, screening))
            except CopilotError as exc:
                self._record(actor, skill, input_hash, None, exc, time.monotonic() - started, calls, screening)
                raise
            self._record(actor, skill, input_hash, result, None, time.monotonic() - started, calls, screening)
            return result

    @contextmanager
    def _scope(self, actor: Actor) -> Iterator[None]:
        with company_scope(actor.company_ids):
            yield

    def _record(
        self,
        actor: Actor,
        skill: UseCase,
        input_hash: str,
        result: Any,
        error: Exception | None,
        seconds: float,
        calls: list[dict[str, Any]],
        screening: Screening | None = None,
    ) -> None:
        """Log the request (no content) and, with an audit trail, append its record with the input's verdict."""
        outcome = f"refused: {type(error).__name__}" if error else "ok"
        if screening is not None and screening.flagged:
            outcome += f" (input flagged: {', '.join(screening.rules)})"
        log.info("%s %s by %s: %s in %.2fs", actor.channel, skill, actor.key, outcome, seconds)
        if self.audit is None:
            return
        try:
            self.audit.record_request(
                actor=actor,
                skill=skill,
                input_hash=input_hash,
                result=result,
                error=error,
                seconds=seconds,
                tool_calls=calls,
                verdicts=_screening_verdicts(screening),
            )
        except Exception:  # an audit failure is logged loudly but never turns an answer into an error
            log.exception("audit record for %s %s could not be written", actor.key, skill)


def _screening_verdicts(screening: Screening | None) -> list[dict[str, Any]]:
    """The input guardrail's verdict for the audit record (none when the use case has no untrusted text)."""
    if screening is None:
        return []
    return [{"check": "input_injection", "ok": not screening.flagged, "detail": screening.audit_detail()}]


def _email_text(email: InboundEmail) -> str:
    return f"{email.subject}\n{email.text}"


@contextmanager
def open_copilot(
    settings: Settings,
    *,
    llm: BaseChatModel | None = None,
    policy: Policy | None = None,
    db: Database | None = None,
    root: Root | None = None,
) -> Iterator[Copilot]:
    """A ``Copilot`` on the parts of a composition root (a new ``open_root(settings)`` unless ``root`` is given).

    The Odoo session (the sandbox without a URL), the conversation store, the audit trail (unless
    ``COPILOT_AUDIT_ENABLED=false``), the chat model, the embedder, injection detector and knowledge base all
    come from the root; a root opened here is closed on exit. ``llm`` and ``db`` replace the root's own (a new
    root only); ``policy`` defaults to the settings' policy file.
    """
    with ExitStack() as stack:
        if root is None:
            root = stack.enter_context(open_root(settings, llm=llm, db=db))
        yield Copilot(
            settings,
            root.odoo,
            llm=root.llm,
            conversations=root.conversations,
            policy=policy,
            audit=root.audit,
            db=root.db,
            components=root,
            tracer=root.tracing.tracer,
        )
