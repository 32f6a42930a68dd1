"""The one way channels reach the skills: identity, allow-lists, rate limits and company scope first.

Slack, email, the HTTP API and webhooks all call ``Copilot``: every call names its ``Actor``; the
actor's role must allow the skill (``copilot.identity.authorize``), the person's rate limit must not be
spent, and every Odoo read inside runs in the person's companies (``company_scope``). Each finished or
refused request leaves an audit record when an audit trail is attached.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel

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
)
from copilot.approvals.derive import proposal_from_client
from copilot.approvals.schemas import Evidence
from copilot.audit import AuditTrail, capture_tool_calls
from copilot.composition import Components
from copilot.config import Settings
from copilot.email import InboundEmail
from copilot.errors import AccessDenied, CopilotError
from copilot.guardrails.ratelimit import Limiter, build_rate_limiter
from copilot.identity import Actor, Channel, IdentityResolver, Skill, allowed_tools, authorize, load_roles_file
from copilot.odoo import company_scope
from copilot.odoo.session import OdooSession
from copilot.skills.answer import Answer, answer_question
from copilot.skills.draft_reply import DraftRequest, ReplyDraft, draft_reply
from copilot.skills.supplier_email import SupplierEmailSummary, summarize_supplier_email
from copilot.skills.triage import TicketClassification, TriageInput, Triager, classify_ticket, load_triager, model_owner
from copilot.state import ConversationStore, Database
from copilot.tools.sale import sale_order_status
from copilot.tools.schemas import SaleOrderStatus

__all__ = ["Copilot", "ProposalOutcome", "open_copilot"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Channels whose mail came through our own receiving server, so its Authentication-Results can be believed.
MAIL_SERVER_CHANNELS: frozenset[Channel] = frozenset({"email", "webhook"})


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
        components: Components | None = None,
    ) -> None:
        self.settings = settings
        #: The composition root's embedder, injection detector and knowledge base (this copilot's own by default).
        self.components = components or Components(settings)
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
    def actor_for(self, *, channel: Channel, external_id: str, email: str | None, name: str | None = None) -> Actor:
        """The actor for a person on a channel (role and companies from Odoo and the roles file)."""
        return self.identity.resolve(channel=channel, external_id=external_id, email=email, name=name)

    @property
    def now(self) -> datetime:
        """ "Now" for lateness: the sandbox's recorded time, else the clock."""
        return self.odoo.as_of if self.odoo.sandbox else datetime.now(UTC)

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

    # -- the skills -----------------------------------------------------------------------------
    def summarize(self, actor: Actor, email: InboundEmail) -> SupplierEmailSummary:
        """What a supplier's email changes on the purchase orders.

        Only mail that reached us through our own receiving server (the mailbox worker, or a signed
        webhook relaying it) keeps its ``Authentication-Results``: a message pasted into Slack, posted to
        the API or given to the CLI could carry a forged one, so its sender is never authenticated.
        """
        if actor.channel not in MAIL_SERVER_CHANNELS and email.authentication_results:
            email = email.model_copy(update={"authentication_results": []})
        text = f"{email.subject}\n{email.text}"
        return self._run(
            actor,
            "summarize",
            text,
            lambda: summarize_supplier_email(
                email,
                client=self.odoo.client,
                llm=self.llm,
                settings=self.settings,
                injection=self.components.injection,
            ),
        )

    def classify(self, actor: Actor, item: TriageInput) -> TicketClassification:
        """Helpdesk labels with confidence, or a request for a person."""
        return self._run(
            actor,
            "classify",
            f"{item.subject}\n{item.body}",
            lambda: classify_ticket(item, self.triager, self.odoo.client),
        )

    def draft(self, actor: Actor, request: DraftRequest) -> ReplyDraft:
        """A reply draft grounded in Odoo (never sent)."""
        return self._run(
            actor,
            "draft",
            f"{request.subject}\n{request.message}",
            lambda: draft_reply(
                request,
                client=self.odoo.client,
                settings=self.settings,
                as_of=self.now,
                llm=self.llm,
                components=self.components,
            ),
        )

    def ask(self, actor: Actor, question: str, *, thread: str | None = None) -> Answer:
        """An answer from Odoo with its sources; ``thread`` keeps follow-ups ("it", "that PO")."""
        return self._run(
            actor,
            "ask",
            question,
            lambda: answer_question(
                question,
                client=self.odoo.client,
                settings=self.settings,
                llm=self.llm,
                thread=thread,
                store=self.conversations if thread else None,
                as_of=self.now,
                allowed_tools=allowed_tools(actor),
                injection=self.components.injection,
            ),
        )

    def order_status(self, actor: Actor, reference: str) -> SaleOrderStatus:
        """A sale order's deliveries for staff (ordered, delivered, reserved, short, expected), by S number."""
        tools = allowed_tools(actor)
        if tools is not None and "sale_order_status" not in tools:
            raise AccessDenied(f"the {str(actor.role).replace('_', ' ')} role does not see sale orders")
        return self._run(actor, "ask", reference, lambda: sale_order_status(self.odoo.client, reference))

    def propose(self, actor: Actor, proposal: Proposal) -> ProposalOutcome:
        """Apply the approval policy; unless advisory, create (or find) the approval request in Odoo."""
        return self._run(actor, "propose", proposal.title, lambda: self._submit(actor, proposal))

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

        def submit() -> ProposalOutcome:
            proposal = proposal_from_client(
                self.odoo.client, payload, target, evidence=evidence, flagged_input=flagged_input
            )
            return self._submit(actor, proposal)

        return self._run(actor, "propose", f"{target[0]},{target[1]}", submit)

    def _submit(self, actor: Actor, proposal: Proposal) -> ProposalOutcome:
        if proposal.on_behalf_of is None and (actor.email or actor.external_id):
            proposal = proposal.model_copy(update={"on_behalf_of": actor.email or actor.external_id})
        decision = decide(self.policy, proposal, now=self.now)
        if not decision.creates_request:
            return ProposalOutcome(decision=decision)
        return ProposalOutcome(decision=decision, request=self.backend.submit(proposal, decision))

    # -- the pipeline ---------------------------------------------------------------------------
    def check(self, actor: Actor, skill: Skill) -> None:
        """Raise ``AccessDenied`` or ``RateLimited`` before any work (channels may call it to fail fast)."""
        authorize(actor, skill)
        if actor.company_ids is not None and not actor.company_ids:
            raise AccessDenied(
                f"{actor.external_id} belongs to no company whose records the copilot may read: ask an administrator"
            )
        self.limiter.check(actor.key)

    def _run(self, actor: Actor, skill: Skill, text: str, work: Callable[[], T]) -> T:
        started = time.monotonic()
        input_hash = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
        calls: list[dict[str, Any]] = []
        try:
            self.check(actor, skill)
            with self._scope(actor), capture_tool_calls() as calls:
                result = work()
        except CopilotError as exc:
            self._record(actor, skill, input_hash, None, exc, time.monotonic() - started, calls)
            raise
        self._record(actor, skill, input_hash, result, None, time.monotonic() - started, calls)
        return result

    @contextmanager
    def _scope(self, actor: Actor) -> Iterator[None]:
        with company_scope(actor.company_ids):
            yield

    def _record(
        self,
        actor: Actor,
        skill: Skill,
        input_hash: str,
        result: Any,
        error: Exception | None,
        seconds: float,
        calls: list[dict[str, Any]],
    ) -> None:
        """Log the request (no content) and, with an audit trail, append its record."""
        outcome = f"refused: {type(error).__name__}" if error else "ok"
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
            )
        except Exception:  # an audit failure is logged loudly but never turns an answer into an error
            log.exception("audit record for %s %s could not be written", actor.key, skill)


@contextmanager
def open_copilot(
    settings: Settings,
    *,
    llm: BaseChatModel | None = None,
    policy: Policy | None = None,
    db: Database | None = None,
    components: Components | None = None,
) -> Iterator[Copilot]:
    """A ``Copilot`` on the configured Odoo (the sandbox without a URL) with its stores; closed on exit.

    The conversation store and, unless ``COPILOT_AUDIT_ENABLED=false``, the audit trail live in ``db`` (default:
    the configured database, opened, migrated and closed here). ``llm`` and ``policy`` default to what the
    settings configure; ``components`` (the embedder, injection detector and knowledge base) default to a new root.
    """
    from copilot.llm import build_chat_model
    from copilot.odoo.session import odoo_session

    with ExitStack() as stack:
        if db is None:
            db = stack.enter_context(Database.from_settings(settings))
        conversations = ConversationStore(db)
        audit: AuditTrail | None = None
        if settings.audit_enabled:
            audit = AuditTrail.from_settings(settings, db)
            stack.callback(audit.close)
        odoo = stack.enter_context(odoo_session(settings))
        yield Copilot(
            settings,
            odoo,
            llm=llm if llm is not None else build_chat_model(settings),
            conversations=conversations,
            policy=policy,
            audit=audit,
            db=db,
            components=components,
        )
