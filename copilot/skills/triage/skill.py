"""``classify_ticket``: category, team and priority for an issue, with calibrated confidence and evidence.

A ``Triager`` is loaded once (embedding model, Odoo's label sets, the trained model if there is one)
and classifies many texts. Without a trained model it runs in cold-start mode (label descriptions,
never confident enough to skip a person). With an LLM configured, the LLM's choice among Odoo's
labels is compared with the classifier's. Nothing is written to Odoo: a label change for an existing
ticket comes back as a ``ProposedTicketUpdate``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from langchain_core.language_models import BaseChatModel

from copilot.citations import Citation
from copilot.config import Settings
from copilot.errors import LLMError, OdooNotFound
from copilot.guardrails.injection import InjectionDetector, detect_injection
from copilot.guardrails.screening import UntrustedText
from copilot.llm_io import model_name
from copilot.odoo import OdooClient
from copilot.prompts import VersionedPrompt, load_prompt
from copilot.retrieval.embeddings import MAX_EMBED_CHARS, Embedder
from copilot.skills.base import SkillContext
from copilot.skills.triage.labels import TriageLabels, default_labels, labels_from_catalog
from copilot.skills.triage.llm_path import PROMPT_NAME, ask_llm
from copilot.skills.triage.model import ModelNotFound, StaleModelError, TriageModel, model_root
from copilot.skills.triage.schemas import (
    FIELDS,
    FieldPrediction,
    Label,
    LabelField,
    LabelScore,
    OpenOrder,
    ProposedTicketUpdate,
    SimilarTicket,
    TicketClassification,
    TriageInput,
)
from copilot.skills.triage.training import ticket_text
from copilot.skills.triage.zero_shot import ZeroShot
from copilot.text.references import SO_REF
from copilot.tools import _values as v
from copilot.tools.helpdesk import HelpdeskCatalog, HelpdeskFlavour, Ticket, detect_helpdesk, get_tickets, load_catalog
from copilot.tools.partner import find_partners

__all__ = [
    "DISAGREEMENT_FACTOR",
    "TRIAGE",
    "TriageSkill",
    "Triager",
    "check_labels",
    "classify_ticket",
    "load_triager",
    "looks_english",
]

log = logging.getLogger(__name__)

#: When the LLM and the classifier disagree on a field, its confidence is multiplied by this.
DISAGREEMENT_FACTOR = 0.5
#: "priority": "3", team=Returns ...: a customer does not write the helpdesk's field names.
_LABEL_SETTING = re.compile(
    r"[\"']?\b(?:priority|team(?:_id)?|category(?:_id)?|ticket_type(?:_id)?|stage(?:_id)?)\b[\"']?\s*[:=]\s*[\"'\w\[{]",
    re.IGNORECASE,
)
_ORDER_WORDS = re.compile(r"\b(?:order|orders|delivery|deliveries|shipment|shipped|parcel|package)\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]{2,}")
_ENGLISH_WORDS = (
    "the a an and or but to of in on for is are was were be been it its this that these my our your we you "
    "i me us with at by from not no have has had do does did can could will would please thanks thank hello "
    "hi dear still when what where why how there here they them their as if so all any"
)
_ENGLISH = frozenset(_ENGLISH_WORDS.split())


def looks_english(text: str) -> bool:
    """A cheap guess: short texts pass; longer ones need common English words (the model reads English)."""
    words = [w.lower() for w in _WORD.findall(text[:MAX_EMBED_CHARS])]
    if len(words) < 8:
        return True
    return sum(w in _ENGLISH for w in words) / len(words) >= 0.08


def check_labels(model: TriageModel, labels: TriageLabels) -> list[str]:
    """Warnings for labels added or renamed since training; ``StaleModelError`` when one was removed."""
    trained = model.metadata
    if trained.flavour != labels.source.value:
        raise StaleModelError(
            f"the triage model was trained on {trained.flavour} tickets but this Odoo runs {labels.source.value}; "
            "retrain it with `copilot triage train`"
        )
    removed: list[str] = []
    added: list[str] = []
    renamed: list[str] = []
    for name, head in model.heads.items():
        current = labels.get(name)
        now = {lb.value: lb for lb in (current.labels if current else [])}
        for cls in head.info.classes:
            if cls.value not in now:
                removed.append(f"{name} {cls.name!r}")
            elif now[cls.value].name != cls.name:
                renamed.append(f"{name} {cls.name!r} is now {now[cls.value].name!r}")
        known = {lb.value for lb in trained.catalog.get(name, [])}
        added += [f"{name} {lb.name!r}" for lb in now.values() if lb.value not in known]
    if removed:
        raise StaleModelError(
            f"the label set changed in Odoo since the model was trained ({trained.trained_at:%Y-%m-%d %H:%M}): "
            f"{', '.join(removed)} no longer exist(s). The model refuses to predict stale labels; "
            "retrain it with `copilot triage train`"
        )
    warnings = []
    if added:
        warnings.append(
            f"Odoo has labels the model has never seen ({', '.join(added)}); retrain with `copilot triage train` "
            "to predict them"
        )
    if renamed:
        warnings.append(f"labels renamed since training: {'; '.join(renamed)}")
    return warnings


@dataclass
class Triager:
    """Everything triage needs, loaded once: labels, embedder, trained model (or cold start), LLM."""

    labels: TriageLabels
    embedder: Embedder
    model: TriageModel | None
    threshold: float
    catalog: HelpdeskCatalog | None = None
    llm: BaseChatModel | None = None
    llm_timeout: float | None = None
    prompt: VersionedPrompt | None = None
    warnings: list[str] = field(default_factory=list)
    cold_start_reason: str | None = None
    #: The root's injection detector (None: the rules alone screen the ticket).
    injection: InjectionDetector | None = None
    _zero_shot: ZeroShot | None = field(default=None, init=False, repr=False)

    @property
    def mode(self) -> str:
        """'trained' with a model, 'cold_start' without."""
        return "trained" if self.model is not None else "cold_start"

    def _zero(self) -> ZeroShot:
        if self._zero_shot is None:
            self._zero_shot = ZeroShot(self.labels, self.embedder)
        return self._zero_shot

    def _current(self, name: LabelField, label: Label) -> Label:
        """The label as Odoo names it now (a rename since training shows the new name)."""
        label_set = self.labels.get(name)
        found = label_set.by_value(label.value) if label_set else None
        return found or label

    def _field_predictions(self, vector: np.ndarray) -> list[FieldPrediction]:
        out = []
        if self.model is not None:
            probs = self.model.probabilities(vector[None, :])
            for name in FIELDS:
                if name in self.model.heads:
                    classes = [self._current(name, c) for c in self.model.heads[name].info.classes]
                    out.append(_prediction(name, classes, probs[name][0], "classifier"))
            return out
        scores = self._zero().probabilities(vector)
        for name in FIELDS:
            label_set = self.labels.get(name)
            if label_set is not None and name in scores:
                out.append(_prediction(name, label_set.labels, scores[name], "zero_shot"))
        return out

    def _similar(self, vector: np.ndarray, exclude_id: int | None) -> list[SimilarTicket]:
        if self.model is None:
            return []
        return [
            SimilarTicket(
                id=example.id,
                reference=example.reference,
                subject=example.subject,
                similarity=round(similarity, 4),
                category=self._maybe_current("category", example.labels.get("category")),
                team=self._maybe_current("team", example.labels.get("team")),
                priority=self._maybe_current("priority", example.labels.get("priority")),
            )
            for example, similarity in self.model.nearest(vector, k=3, exclude_id=exclude_id)
        ]

    def _maybe_current(self, name: LabelField, label: Label | None) -> Label | None:
        return self._current(name, label) if label is not None else None

    def classify(
        self, item: TriageInput, *, exclude_id: int | None = None, injection: InjectionDetector | None = None
    ) -> TicketClassification:
        """Classify a text (no Odoo calls): labels, probabilities, similar tickets, needs_human.

        ``injection``: the detector of this run (``SkillContext.detector()``: the pipeline's verdict); None: the
        triager's own.
        """
        text = item.text
        warnings = list(self.warnings)
        reasons: list[str] = []
        if self.cold_start_reason:
            reasons.append(self.cold_start_reason)
        truncated = len(text) > MAX_EMBED_CHARS
        if truncated:
            warnings.append(f"only the first {MAX_EMBED_CHARS:,} of {len(text):,} characters were read")
        if not text.strip():
            return self._result(
                [], [], True, [*reasons, "the text is empty: there is nothing to classify"], warnings, False
            )
        if not looks_english(text):
            reasons.append("the text does not look like English; the embedding model reads English only")
        screened = screened_text(item)
        flagged = bool(
            detect_injection(screened, source="ticket", detector=injection or self.injection).flagged
            or _LABEL_SETTING.search(screened)
        )
        if flagged:
            reasons.append(
                "the text tries to set labels or instruct an assistant (possible injection): a person decides"
            )
        vector = self.embedder.embed([text])[0]
        predictions = self._field_predictions(vector)
        similar = self._similar(vector, exclude_id)
        fallback = None
        engine = "embeddings"
        if self.llm is not None and self.prompt is not None:
            engine = f"embeddings+llm:{model_name(self.llm)}"
            try:
                chosen = ask_llm(
                    self.llm,
                    self.prompt,
                    subject=item.subject,
                    body=item.body,
                    labels=self.labels,
                    similar=similar,
                    timeout=self.llm_timeout,
                )
                predictions = [_combine(p, chosen.get(p.field), self.model is None) for p in predictions]
            except LLMError as exc:
                fallback = f"{type(exc).__name__}: {exc}"
                log.warning("triage: LLM answer rejected (%s); the classifier's labels stand", fallback)
        for p in predictions:
            if p.agrees_with_llm is False:
                reasons.append(f"{p.field}: the LLM chose {p.llm_label!s} where the classifier chose {p.label!s}")
            if p.probability < self.threshold:
                reasons.append(f"{p.field}: {p.label.name!r} at {p.probability:.2f} is below {self.threshold:.2f}")
        result = self._result(
            predictions, similar, bool(reasons), reasons, warnings, truncated, engine=engine, fallback=fallback
        )
        return result.model_copy(update={"flagged_input": True}) if flagged else result

    def _result(
        self,
        predictions: list[FieldPrediction],
        similar: list[SimilarTicket],
        needs_human: bool,
        reasons: list[str],
        warnings: list[str],
        truncated: bool,
        *,
        engine: str = "embeddings",
        fallback: str | None = None,
    ) -> TicketClassification:
        citations = [Citation(model="helpdesk.ticket", id=s.id, display_name=s.reference or s.subject) for s in similar]
        return TicketClassification(
            mode="trained" if self.model is not None else "cold_start",
            predictions=predictions,
            needs_human=needs_human,
            reasons=reasons,
            threshold=self.threshold,
            similar_tickets=similar,
            orders=[],
            proposal=None,
            warnings=warnings,
            model_version=self.model.metadata.version if self.model is not None else None,
            engine=engine,
            prompt=self.prompt.ref if self.prompt is not None and self.llm is not None else None,
            llm_fallback_reason=fallback,
            truncated=truncated,
            citations=citations,
        )


def _prediction(name: LabelField, classes: Sequence[Label], probs: np.ndarray, source: Any) -> FieldPrediction:
    order = np.argsort(-probs, kind="stable")
    top = int(order[0])
    return FieldPrediction(
        field=name,
        label=classes[top],
        probability=round(float(probs[top]), 4),
        alternatives=[
            LabelScore(label=classes[int(i)], probability=round(float(probs[int(i)]), 4))
            for i in order[1:4]
            if probs[int(i)] >= 0.01
        ],
        source=source,
    )


def _combine(p: FieldPrediction, llm_label: Label | None, cold_start: bool) -> FieldPrediction:
    """Fold the LLM's choice into a prediction: agreement keeps, disagreement halves the confidence."""
    if llm_label is None:
        return p
    agrees = llm_label.value == p.label.value
    if agrees:
        return p.model_copy(update={"llm_label": llm_label, "agrees_with_llm": True})
    if cold_start:  # the LLM reads the text better than label descriptions do: its label, the lower score
        score = next((a.probability for a in p.alternatives if a.label.value == llm_label.value), 0.0)
        alternatives = [LabelScore(label=p.label, probability=p.probability)] + [
            a for a in p.alternatives if a.label.value != llm_label.value
        ]
        return p.model_copy(
            update={
                "label": llm_label,
                "probability": round(score * DISAGREEMENT_FACTOR, 4),
                "alternatives": alternatives[:3],
                "source": "llm",
                "llm_label": llm_label,
                "agrees_with_llm": False,
            }
        )
    return p.model_copy(
        update={
            "probability": round(p.probability * DISAGREEMENT_FACTOR, 4),
            "llm_label": llm_label,
            "agrees_with_llm": False,
        }
    )


# -- loading ---------------------------------------------------------------------------------------
def model_owner(settings: Settings) -> tuple[str, str]:
    """Which Odoo and database a triage model belongs to: models of different ones are kept apart."""
    if settings.sandbox:
        from copilot.odoo.session import sandbox_database

        return f"sandbox-{settings.sandbox_helpdesk}", sandbox_database()
    return urlsplit(str(settings.odoo_url)).netloc, settings.odoo_db or ""


def load_triager(
    client: OdooClient | None,
    settings: Settings,
    *,
    odoo: str,
    database: str,
    embedder: Embedder,
    injection: InjectionDetector,
    llm: BaseChatModel | None = None,
) -> Triager:
    """Labels from Odoo (or the default taxonomy), the latest trained model for this Odoo, the LLM if any; the
    embedder and the injection detector are the caller's composition root's (the skill builds no model).

    A model trained on labels that Odoo no longer has raises ``StaleModelError``.
    """
    warnings: list[str] = []
    catalog = None
    schema = detect_helpdesk(client) if client is not None else None
    if schema is None or schema.flavour is HelpdeskFlavour.NONE:
        labels = default_labels()
        warnings.append(
            "this Odoo has no Helpdesk app: classifying the text alone against the default label set "
            "(prompts/triage_labels); no ticket can be read or updated"
            if client is not None
            else "no Odoo: classifying the text alone against the default label set (prompts/triage_labels)"
        )
        model = None
        reason = "cold start: no Helpdesk tickets to learn from; scores are similarities, not calibrated probabilities"
    else:
        catalog = load_catalog(client, schema)  # type: ignore[arg-type]
        labels = labels_from_catalog(catalog)
        root = model_root(settings.data_dir, odoo, database)
        try:
            model = TriageModel.load_latest(root)
            reason = None
        except ModelNotFound as exc:
            model = None
            reason = (
                "cold start: no model trained on this Odoo's tickets yet (run `copilot triage train`); "
                "scores are similarities, not calibrated probabilities"
            )
            log.info("triage: %s", exc)
        if model is not None:
            if model.metadata.embedder.name != embedder.info.name:
                raise StaleModelError(
                    f"the triage model was trained with embeddings from {model.metadata.embedder.name}, "
                    f"this copilot uses {embedder.info.name}; retrain it with `copilot triage train`"
                )
            warnings += check_labels(model, labels)
    prompt = None
    if llm is not None:
        prompt = load_prompt(PROMPT_NAME)
    return Triager(
        labels=labels,
        embedder=embedder,
        model=model,
        threshold=settings.triage_min_confidence,
        catalog=catalog,
        llm=llm,
        llm_timeout=settings.llm_deadline if llm is not None else None,
        prompt=prompt,
        warnings=warnings,
        cold_start_reason=reason,
        injection=injection,
    )


# -- the skill -------------------------------------------------------------------------------------
def _customer_id(client: OdooClient, ticket: Ticket | None, customer: str | None) -> tuple[int | None, str | None]:
    if ticket is not None and ticket.customer is not None:
        return ticket.customer.id, ticket.customer.name
    if customer:
        matches = find_partners(client, customer, limit=2)
        if matches:
            return matches[0].id, matches[0].display_name
    return None, None


def _of_customer(partner_id: int) -> list[Any]:
    """Orders of the customer's company, whichever of its contacts placed them."""
    return [
        "|",
        ("partner_id.commercial_partner_id", "=", partner_id),
        ("partner_id.commercial_partner_id.child_ids", "in", [partner_id]),
    ]


def _orders(
    client: OdooClient, text: str, ticket: Ticket | None, customer: str | None
) -> tuple[list[OpenOrder], list[str]]:
    """The orders the text is about: the ones it names, else the customer's open ones (one round trip)."""
    named = list(dict.fromkeys(m.upper() for m in SO_REF.findall(text)))
    if not named and not _ORDER_WORDS.search(text):
        return [], []
    partner_id, partner_name = _customer_id(client, ticket, customer)
    if named:
        domain: list[Any] = [("name", "in", named)]
        if partner_id is not None:  # never show another customer's order
            domain = ["&", *domain, *_of_customer(partner_id)]
    elif partner_id is not None:
        domain = [*_of_customer(partner_id), ("state", "=", "sale"), ("delivery_status", "!=", "full")]
    else:
        return [], []
    rows = client.search_read(
        "sale.order",
        domain,
        ["name", "partner_id", "state", "delivery_status", "commitment_date"],
        order="date_order desc, id desc",
        limit=10,
    )
    orders = [
        OpenOrder(
            id=r["id"],
            name=r["name"],
            customer=(v.ref(r["partner_id"]).name if v.ref(r["partner_id"]) else ""),
            state=r["state"],
            delivery_status=v.text(r["delivery_status"]),
            commitment_date=(d.date() if (d := v.when(r["commitment_date"])) else None),
            referenced=r["name"] in named,
        )
        for r in rows
    ]
    found = {o.name for o in orders}
    warnings = []
    missing = [n for n in named if n not in found]
    if missing:
        whose = f" among {partner_name}'s orders" if partner_name else ""
        warnings.append(f"the text names {', '.join(missing)}, not found{whose}")
    return orders, warnings


def _proposal(ticket: Ticket, result: TicketClassification, triager: Triager) -> ProposedTicketUpdate | None:
    """Label changes for ``ticket`` where the prediction is confident and differs from what it has."""
    category, team = ticket.labels.category, ticket.labels.team
    current: dict[LabelField, tuple[int | str | None, str | None]] = {
        "category": (category.id, category.name) if category else (None, None),
        "team": (team.id, team.name) if team else (None, None),
        "priority": (ticket.labels.priority, ticket.labels.priority_label),
    }
    values: dict[str, int | str] = {}
    before: dict[str, str | None] = {}
    after: dict[str, str] = {}
    confidences = []
    for p in result.predictions:
        label_set = triager.labels.get(p.field)
        if label_set is None or label_set.odoo_field is None or p.probability < result.threshold:
            continue
        if current[p.field][0] == p.label.value:
            continue
        values[label_set.odoo_field] = p.label.value
        before[label_set.odoo_field] = current[p.field][1]
        after[label_set.odoo_field] = p.label.name
        confidences.append(p.probability)
    if not values:
        return None
    risky = False
    if "priority" in values:  # escalating to the top or jumping two steps is for a person to weigh
        old, new = int(ticket.labels.priority or 0), int(values["priority"])
        risky = abs(new - old) > 1 or new == 3
    return ProposedTicketUpdate(
        record_id=ticket.id,
        record_name=ticket.reference or ticket.subject,
        values=values,
        before=before,
        after=after,
        confidence=min(confidences),
        risk_tier="medium" if risky else "low",
    )


def screened_text(item: TriageInput) -> str:
    """What the injection check reads of a ticket: the whole message, not only the body."""
    return f"{item.text}\n\n{item.context}" if item.context else item.text


def classify_ticket(
    item: TriageInput,
    triager: Triager,
    client: OdooClient | None = None,
    *,
    injection: InjectionDetector | None = None,
) -> TicketClassification:
    """Classify ``item`` (or the Odoo ticket it names) and gather evidence; never writes to Odoo.

    ``injection``: the detector of this run (the pipeline's verdict on the text); None: the triager's own.
    """
    ticket = None
    if item.ticket_id is not None:
        if client is None or triager.catalog is None:
            raise OdooNotFound("this Odoo has no Helpdesk app: classify the text instead", model="helpdesk.ticket")
        found = get_tickets(client, triager.catalog, ids=[item.ticket_id], limit=1)
        if not found:
            raise OdooNotFound(f"no helpdesk ticket with id {item.ticket_id}", model="helpdesk.ticket")
        ticket = found[0]
        item = TriageInput(
            subject=ticket.subject,
            body=ticket.body,
            customer=item.customer,
            ticket_id=ticket.id,
        )
    result = triager.classify(item, exclude_id=ticket.id if ticket else None, injection=injection)
    if client is None or not item.text.strip():
        return result
    orders, warnings = _orders(client, ticket_text(item.subject, item.body[:MAX_EMBED_CHARS]), ticket, item.customer)
    citations = list(result.citations)
    if ticket is not None:
        citations.insert(0, Citation(model="helpdesk.ticket", id=ticket.id, display_name=ticket.reference or ""))
    citations += [Citation(model="sale.order", id=o.id, display_name=o.name) for o in orders]
    result = result.model_copy(
        update={"orders": orders, "warnings": [*result.warnings, *warnings], "citations": citations}
    )
    if ticket is not None and not result.flagged_input:  # a text that dictates its labels gets none proposed
        result = result.model_copy(update={"proposal": _proposal(ticket, result, triager)})
    return result


class TriageSkill:
    """Helpdesk triage as a ``Skill[TriageInput, TicketClassification]`` (the context's triage model and Odoo)."""

    name = "triage"

    def run(self, ctx: SkillContext, item: TriageInput, /) -> TicketClassification:
        """Classify ``item`` with the context's triage model; ``ConfigError`` when the context has none."""
        if ctx.triager is None:
            from copilot.errors import ConfigError

            raise ConfigError("triage needs a triage model, and this context has none")
        return classify_ticket(item, ctx.triager(), ctx.client, injection=ctx.detector())

    def untrusted(self, item: TriageInput, /) -> list[UntrustedText]:
        """The ticket's subject, body and context (a ticket named by id is screened when read from Odoo)."""
        return [UntrustedText(source="ticket", text=screened_text(item))]


TRIAGE = TriageSkill()
