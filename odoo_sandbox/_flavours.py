"""Which Helpdesk app the sandbox serves: OCA ``helpdesk_mgmt`` (recorded), Enterprise ``helpdesk`` (derived), none.

``SandboxServer(helpdesk=...)`` picks one; ``dataset_for`` builds each flavour once per process with the pure
``with_helpdesk``, which never changes the recorded dataset it starts from.

* ``"oca"`` (default): the recorded data as it is (Odoo 18 with OCA helpdesk_mgmt 18.0.1.19.5).
* ``"enterprise"``: **derived from the recorded data, not recorded** (no Odoo Enterprise server was recorded).
  The same tickets, labels and ids, shaped like Odoo 18 Enterprise ``helpdesk``:

  - models renamed: helpdesk.ticket.team -> helpdesk.team, helpdesk.ticket.stage -> helpdesk.stage,
    helpdesk.ticket.tag -> helpdesk.tag, helpdesk.ticket.category -> helpdesk.ticket.type; in the registry,
    the records, the display labels and the ``relation`` of every field of every model pointing at them
    (res.users ``helpdesk_team_ids``, the stages' ``team_ids``, ...);
  - helpdesk.ticket: ``category_id`` -> ``ticket_type_id`` and ``number`` -> ``ticket_ref``; a ticket_ref is
    the OCA number without prefix and leading zeros (``HT00011`` -> ``"11"``, as Enterprise's plain ticket
    sequence gives; here it equals the ticket id). Priority labels are Enterprise's (Low priority, Medium
    priority, High priority, Urgent); ``_order``, name search and display name ("Subject (#11)") come from
    ``_meta.ENTERPRISE_TICKET_META``;
  - helpdesk.stage: ``closed`` -> ``fold`` (Enterprise counts a folded stage as closed);
  - helpdesk.ticket.type is flat: ``name`` holds the OCA category's full name ("Delivery Issue / Damaged
    Goods"); the hierarchy fields are gone;
  - dropped as OCA-only: the model helpdesk.ticket.channel (and ``channel_id``), the tickets' ``closed``,
    ``unattended`` and ``duplicate_*`` fields, the stages' ``unattended`` and ``close_from_portal`` and
    res.company's ``helpdesk_mgmt_*`` settings.

  Everything else (other fields, chatter, access rights) stays as recorded.
* ``"none"``: no Helpdesk app. Every ``helpdesk.*`` model, every field pointing at one or added by the app
  (``helpdesk_*`` on res.partner, res.users and res.company) and the tickets' chatter are gone, so a call on
  ``helpdesk.ticket`` fails as in an Odoo without the app ("Object helpdesk.ticket doesn't exist").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from functools import cache
from typing import Any, Literal, get_args

from odoo_sandbox._data import Dataset, FieldAttrs, Record, inverse_links, load_dataset
from odoo_sandbox._meta import ENTERPRISE_TICKET_META, compute_display_name
from odoo_sandbox._releases import release_for

__all__ = ["HELPDESK_APPS", "MODEL_RENAMES", "TICKET_FIELD_RENAMES", "HelpdeskApp", "dataset_for", "with_helpdesk"]

HelpdeskApp = Literal["oca", "enterprise", "none"]
HELPDESK_APPS: tuple[str, ...] = get_args(HelpdeskApp)

TICKET = "helpdesk.ticket"
_CATEGORY = "helpdesk.ticket.category"
_STAGE = "helpdesk.ticket.stage"

#: OCA helpdesk_mgmt model -> Enterprise helpdesk model
MODEL_RENAMES: dict[str, str] = {
    "helpdesk.ticket.team": "helpdesk.team",
    _STAGE: "helpdesk.stage",
    "helpdesk.ticket.tag": "helpdesk.tag",
    _CATEGORY: "helpdesk.ticket.type",
}
#: OCA helpdesk.ticket field -> Enterprise field
TICKET_FIELD_RENAMES: dict[str, str] = {"category_id": "ticket_type_id", "number": "ticket_ref"}
_ENTERPRISE_PRIORITIES = [["0", "Low priority"], ["1", "Medium priority"], ["2", "High priority"], ["3", "Urgent"]]
_OCA_ONLY_MODELS = frozenset({"helpdesk.ticket.channel"})
_OCA_ONLY_FIELDS: dict[str, frozenset[str]] = {
    TICKET: frozenset(
        {"closed", "unattended", "duplicate_id", "duplicate_ids", "duplicate_count", "duplicate_tracking_enabled"}
    ),
    _STAGE: frozenset({"unattended", "close_from_portal"}),
    _CATEGORY: frozenset({"parent_id", "child_id", "parent_path", "complete_name"}),
}
#: records that belong to a record of another model: (model, field naming that model)
_ATTACHED = {"mail.message": "model", "mail.activity": "res_model"}

FieldFilter = Callable[[str, str, FieldAttrs], bool]


@cache
def dataset_for(helpdesk: str = "oca", odoo: str = "odoo18") -> Dataset:
    """The dataset of a sandbox serving ``odoo`` with ``helpdesk`` (built once per process; "oca" is the recorded
    ``load_dataset`` of that release)."""
    release = release_for(odoo)
    return with_helpdesk(load_dataset(release.data_dir, release.copilot_uid, release.executor_uid), helpdesk)


def with_helpdesk(dataset: Dataset, helpdesk: str) -> Dataset:
    """``dataset`` (the recorded OCA one) as an Odoo with the ``helpdesk`` app: a new Dataset, shared data untouched."""
    if helpdesk == "oca":
        return dataset
    if helpdesk == "enterprise":
        return _enterprise(dataset)
    if helpdesk == "none":
        apps = {m for m in dataset.fields if m.startswith("helpdesk.")}
        return _without(dataset, apps, lambda model, name, attrs: name.startswith("helpdesk_"))
    raise ValueError(f"helpdesk must be one of {HELPDESK_APPS}, not {helpdesk!r}")


def _without(dataset: Dataset, models: Collection[str], drop: FieldFilter) -> Dataset:
    """``dataset`` without ``models`` (and their chatter), the fields pointing at them and the fields ``drop`` picks."""
    fields = {
        model: {
            name: attrs
            for name, attrs in model_fields.items()
            if attrs.get("relation") not in models and not drop(model, name, attrs)
        }
        for model, model_fields in dataset.fields.items()
        if model not in models
    }
    records: dict[str, dict[int, Record]] = {}
    for model, rows in dataset.records.items():
        if model not in fields:
            continue
        gone = dataset.fields.get(model, {}).keys() - fields[model].keys()
        link = _ATTACHED.get(model)
        if gone or link:
            rows = {
                rid: {k: v for k, v in rec.items() if k not in gone}
                for rid, rec in rows.items()
                if not link or rec.get(link) not in models
            }
        records[model] = rows
    return replace(
        dataset,
        fields=fields,
        restricted={m: names & fields[m].keys() for m, names in dataset.restricted.items() if m in fields},
        records=records,
        names={m: labels for m, labels in dataset.names.items() if m not in models},
        inverses=inverse_links(fields),
    )


def _renamed(mapping: Mapping[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    """``mapping`` with some keys renamed, in the same order."""
    return {renames.get(key, key): value for key, value in mapping.items()}


def _plain_number(number: Any) -> Any:
    digits = re.sub(r"\D", "", number) if isinstance(number, str) else ""
    return str(int(digits)) if digits else False


def _enterprise(recorded: Dataset) -> Dataset:
    def get(model: str, rid: int) -> Record | None:
        return recorded.records.get(model, {}).get(rid)

    full_names = {
        rid: compute_display_name(get, lambda model, rid: "", _CATEGORY, rec)
        for rid, rec in recorded.records[_CATEGORY].items()
    }
    dataset = _without(
        recorded,
        _OCA_ONLY_MODELS,
        lambda model, name, attrs: (
            name in _OCA_ONLY_FIELDS.get(model, ()) or (model == "res.company" and name.startswith("helpdesk_mgmt_"))
        ),
    )
    fields = dict(dataset.fields)
    records = dict(dataset.records)

    ticket_fields: dict[str, FieldAttrs] = {}
    for name, attrs in fields[TICKET].items():
        new_name = TICKET_FIELD_RENAMES.get(name, name)
        depends = [TICKET_FIELD_RENAMES.get(d, d) for d in attrs.get("depends") or []]
        ticket_fields[new_name] = {**attrs, "name": new_name, "depends": depends}
    ticket_fields["ticket_type_id"]["string"] = "Type"
    ticket_fields["ticket_ref"]["string"] = "Ticket IDs Sequence"
    ticket_fields["priority"] = {**ticket_fields["priority"], "selection": _ENTERPRISE_PRIORITIES}
    fields[TICKET] = ticket_fields
    records[TICKET] = {
        rid: {**_renamed(rec, TICKET_FIELD_RENAMES), "ticket_ref": _plain_number(rec.get("number"))}
        for rid, rec in records[TICKET].items()
    }

    stage_fields = {name: attrs for name, attrs in fields[_STAGE].items() if name != "closed"}
    stage_fields["fold"] = {**stage_fields["fold"], "help": "Tickets in a folded stage are considered as closed."}
    fields[_STAGE] = stage_fields
    records[_STAGE] = {
        rid: {**{k: v for k, v in rec.items() if k != "closed"}, "fold": bool(rec.get("closed"))}
        for rid, rec in records[_STAGE].items()
    }
    records[_CATEGORY] = {rid: {**rec, "name": full_names[rid]} for rid, rec in records[_CATEGORY].items()}

    def relation_renamed(attrs: FieldAttrs) -> FieldAttrs:
        relation = attrs.get("relation")
        return {**attrs, "relation": MODEL_RENAMES[relation]} if relation in MODEL_RENAMES else attrs

    fields = {
        MODEL_RENAMES.get(model, model): {name: relation_renamed(attrs) for name, attrs in model_fields.items()}
        for model, model_fields in fields.items()
    }
    restricted = dict(dataset.restricted)
    restricted[TICKET] = frozenset(TICKET_FIELD_RENAMES.get(n, n) for n in restricted.get(TICKET, ()))
    return replace(
        dataset,
        fields=fields,
        restricted=_renamed(restricted, MODEL_RENAMES),
        records=_renamed(records, MODEL_RENAMES),
        names=_renamed(dataset.names, MODEL_RENAMES),
        inverses=inverse_links(fields),
        meta={TICKET: ENTERPRISE_TICKET_META},
    )
