"""The label sets a ticket can get: read from Odoo's Helpdesk, or the default taxonomy without one.

Descriptions (``prompts/triage_labels/v<N>.yaml``) say what each label means in a customer's words;
cold-start triage embeds them and the LLM reads them. Odoo's label names are matched to them by name.
"""

from __future__ import annotations

from functools import lru_cache

import yaml
from pydantic import BaseModel, ConfigDict, Field

from copilot.prompts import prompts_dir
from copilot.skills.triage.schemas import FIELDS, Label, LabelField
from copilot.tools.helpdesk import HelpdeskCatalog, HelpdeskFlavour

__all__ = ["LABELS_PROMPT", "LabelSet", "TriageLabels", "default_labels", "describe", "labels_from_catalog"]

LABELS_PROMPT = "triage_labels"


class _Described(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: int | str | None = None
    name: str
    description: str


class _LabelsFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    version: int
    categories: list[_Described]
    teams: list[_Described]
    priorities: list[_Described]


class LabelSet(BaseModel):
    """The labels of one field that exist where the ticket lives."""

    model_config = ConfigDict(frozen=True)

    field: LabelField
    odoo_field: str | None = Field(description="The helpdesk.ticket field, e.g. category_id, ticket_type_id")
    labels: list[Label]

    def by_value(self, value: int | str) -> Label | None:
        """The label with this id or key."""
        return next((lb for lb in self.labels if lb.value == value), None)


class TriageLabels(BaseModel):
    """All label sets, and where they came from."""

    model_config = ConfigDict(frozen=True)

    source: HelpdeskFlavour = Field(description="The Helpdesk app the labels come from; NONE: the default taxonomy")
    fields: dict[LabelField, LabelSet]

    def get(self, field: LabelField) -> LabelSet | None:
        """The labels of ``field`` (None when the Helpdesk app has no such field)."""
        return self.fields.get(field)


@lru_cache(maxsize=4)
def _descriptions(version: int = 1) -> _LabelsFile:
    path = prompts_dir() / LABELS_PROMPT / f"v{version}.yaml"
    return _LabelsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _key(name: str) -> str:
    return " ".join(name.lower().split())


def describe(field: LabelField, label: Label) -> str:
    """A sentence for ``label``: its name plus the description of the best-matching known label."""
    known = _descriptions()
    pool = {"category": known.categories, "team": known.teams, "priority": known.priorities}[field]
    names = [label.name, *(part.strip() for part in reversed(label.name.split("/")))]
    for candidate in names:
        match = next((d for d in pool if _key(d.name) == _key(candidate)), None)
        if match is not None:
            return f"{label.name}: {match.description}"
    if field == "priority":
        match = next((d for d in pool if str(d.value) == str(label.value)), None)
        if match is not None:
            return f"{label.name}: {match.description}"
    return label.name


def labels_from_catalog(catalog: HelpdeskCatalog) -> TriageLabels:
    """The label sets of the installed Helpdesk app (``HelpdeskFlavour.NONE`` gives the default taxonomy)."""
    schema = catalog.schema_
    if schema.flavour is HelpdeskFlavour.NONE:
        return default_labels()
    sets: dict[LabelField, LabelSet] = {}
    if schema.category_field:
        sets["category"] = LabelSet(
            field="category",
            odoo_field=schema.category_field,
            labels=[Label(value=c.id, name=c.name) for c in catalog.categories],
        )
    if schema.team_model:
        sets["team"] = LabelSet(
            field="team", odoo_field="team_id", labels=[Label(value=t.id, name=t.name) for t in catalog.teams]
        )
    if schema.priorities:
        sets["priority"] = LabelSet(
            field="priority",
            odoo_field="priority",
            labels=[Label(value=k, name=name) for k, name in schema.priorities.items()],
        )
    return TriageLabels(source=schema.flavour, fields=sets)


def default_labels() -> TriageLabels:
    """The default taxonomy of ``prompts/triage_labels``: for text-only triage when Odoo has no Helpdesk."""
    known = _descriptions()
    leaf = {d.name for d in known.categories} - {"Delivery Issue", "Billing", "Order Change"}  # parents only group
    pools = {
        "category": [Label(value=d.name, name=d.name) for d in known.categories if d.name in leaf],
        "team": [Label(value=d.name, name=d.name) for d in known.teams],
        "priority": [Label(value=str(d.value), name=d.name) for d in known.priorities],
    }
    return TriageLabels(
        source=HelpdeskFlavour.NONE,
        fields={f: LabelSet(field=f, odoo_field=None, labels=pools[f]) for f in FIELDS},
    )
