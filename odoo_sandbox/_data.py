"""The seeded dataset (package data) and the per-server, copy-on-write record store."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from odoo_sandbox._journal import Journal
from odoo_sandbox._meta import ModelMeta, meta_for

__all__ = ["RECORDED_AT", "SANDBOX_DB", "Dataset", "Record", "Store", "inverse_links", "load_dataset"]

#: The database name the recorded server used (and the only one the sandbox knows).
SANDBOX_DB = "demo"
#: The snapshot's "now" (UTC, naive): the data is frozen at the recording time.
RECORDED_AT = datetime(2026, 11, 26, 16, 5, 5)

Record = dict[str, Any]
FieldAttrs = dict[str, Any]
Inverses = dict[tuple[str, str], list[tuple[str, str, list[Any]]]]


@dataclass(frozen=True)
class Dataset:
    """Everything read from ``data/*.json``; shared by all servers and never mutated."""

    fields: dict[str, dict[str, FieldAttrs]]
    restricted: dict[str, frozenset[str]]
    records: dict[str, dict[int, Record]]
    names: dict[str, dict[int, Any]]
    version_info: dict[str, Any]
    #: (comodel, inverse field) -> [(model, one2many field, field domain)] for list maintenance on writes
    inverses: Inverses = field(default_factory=dict)
    #: model metadata that differs from ``_meta.MODEL_META`` in this dataset (a Helpdesk flavour's ticket)
    meta: Mapping[str, ModelMeta] = field(default_factory=dict)
    #: uid -> XML ids of the groups the user is in (implied ones included), for ``res.users.has_group``
    user_groups: Mapping[int, frozenset[str]] = field(default_factory=dict)

    def has_model(self, model: str) -> bool:
        """Whether ``model`` exists in the sandbox's registry."""
        return model in self.fields

    def meta_for(self, model: str) -> ModelMeta:
        """What the ORM knows about ``model`` beyond its fields, in this dataset."""
        return self.meta.get(model) or meta_for(model)


def _read_json(folder: str, name: str) -> Any:
    text = resources.files("odoo_sandbox").joinpath(folder, name).read_text(encoding="utf-8")
    return json.loads(text)


def load_dataset(folder: str = "data", copilot_uid: int = 8, executor_uid: int = 10) -> Dataset:
    """Load a packaged dataset (``data``: Odoo 18, ``data19``: Odoo 19) once per process."""
    return _load(folder, copilot_uid, executor_uid)


@cache
def _load(folder: str, copilot_uid: int, executor_uid: int) -> Dataset:
    fields_json = _read_json(folder, "fields.json")
    records_json = _read_json(folder, "records.json")
    names_json = _read_json(folder, "names.json")
    meta_json = _read_json(folder, "meta.json")
    fields = {model: spec["fields"] for model, spec in fields_json.items()}
    restricted = {model: frozenset(spec["restricted"]) for model, spec in fields_json.items()}
    from odoo_sandbox._approval import add_executor_user, approval_fields  # the addon's models and rules
    from odoo_sandbox._exceptions import exception_fields

    for model, model_fields in {**approval_fields(), **exception_fields()}.items():
        fields[model] = model_fields
        restricted[model] = frozenset()
    records = {model: {int(r["id"]): r for r in rows} for model, rows in records_json.items()}
    for model in fields:
        records.setdefault(model, {})
    add_executor_user(records, copilot_uid, executor_uid)
    names = {model: {int(k): v for k, v in labels.items()} for model, labels in names_json.items()}
    dataset = Dataset(fields, restricted, records, names, meta_json["version_info"], inverse_links(fields))
    return replace(dataset, user_groups=_user_groups(records["res.users"]))


def _user_groups(users: Mapping[int, Record]) -> dict[int, frozenset[str]]:
    """uid -> group XML ids: from 18's ``groups_id`` (implied groups included); on 19, whose recording has only
    explicit ``group_ids`` without XML ids, those of the same login in the 18 recording (see ``_releases``)."""
    from odoo_sandbox._releases import group_xml_ids_18

    if any("groups_id" in u for u in users.values()):
        return {uid: group_xml_ids_18(u.get("groups_id") or []) for uid, u in users.items()}
    recorded_18 = load_dataset()
    by_login = {
        u.get("login"): recorded_18.user_groups.get(uid, frozenset())
        for uid, u in recorded_18.records["res.users"].items()
    }
    return {uid: by_login.get(u.get("login"), frozenset()) for uid, u in users.items()}


def inverse_links(fields: Mapping[str, Mapping[str, FieldAttrs]]) -> Inverses:
    """The stored one2many fields by (comodel, inverse many2one): ``Dataset.inverses``."""
    inverses: Inverses = {}
    for model, model_fields in fields.items():
        for fname, attrs in model_fields.items():
            if attrs.get("type") != "one2many" or not attrs.get("relation_field") or not attrs.get("store", True):
                continue
            domain = attrs.get("domain") or []
            if attrs.get("related") or not isinstance(domain, list):
                continue
            inverses.setdefault((attrs["relation"], attrs["relation_field"]), []).append((model, fname, domain))
    return inverses


_DELETED: Record = {}


class Store:
    """The records one server serves: the shared dataset plus this server's own changes."""

    def __init__(self, dataset: Dataset, journal: Journal | None = None) -> None:
        self.dataset = dataset
        self.lock = threading.RLock()
        self._changed: dict[str, dict[int, Record]] = {}
        self._ids_cache: dict[str, list[int]] = {}
        self._ticks = 0
        #: where the changes are kept between processes (None: in this instance's memory only)
        self.journal = journal
        self._dirty: set[tuple[str, int]] = set()
        if journal is not None:
            self._reload()

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[None]:
        """One call: under the lock, up to date with other processes; a write call's changes are kept
        together or not at all (a failed call leaves nothing behind, as Odoo rolls back)."""
        with self.lock:
            journal = self.journal
            if journal is None:
                yield
                return
            if not write:
                if journal.changed_since_load():
                    self._reload()
                yield
                return
            ticks = self._ticks
            try:
                with journal.write_transaction():
                    if journal.changed_since_load():
                        self._reload()
                        ticks = self._ticks
                    yield
                    if self._dirty or self._ticks != ticks:  # a call that changed nothing writes nothing
                        rows = [(m, i, self._row(m, i)) for m, i in sorted(self._dirty)]
                        journal.save(rows, self._ticks)
            except BaseException:
                if self._dirty or self._ticks != ticks:
                    self._reload()  # drop this call's changes from memory too
                raise
            finally:
                self._dirty.clear()

    def _row(self, model: str, rid: int) -> Record | None:
        rec = self._changed.get(model, {}).get(rid)
        return None if rec is None or rec is _DELETED else rec

    def _reload(self) -> None:
        assert self.journal is not None
        rows, ticks = self.journal.load()
        changed: dict[str, dict[int, Record]] = {}
        for model, rid, data in rows:
            changed.setdefault(model, {})[rid] = _DELETED if data is None else data
        self._changed = changed
        self._ids_cache = {}
        self._ticks = ticks
        self._dirty = set()

    def tick(self, now: datetime) -> datetime:
        """The time stamp of a write: ``now`` plus one second per write so far, so that every write
        changes ``write_date`` (as each transaction does in Odoo) although the sandbox's clock stands still."""
        with self.lock:
            self._ticks += 1
            return now + timedelta(seconds=self._ticks)

    def get(self, model: str, rid: Any) -> Record | None:
        """The record ``rid`` of ``model``, or None (never mutate the returned dict)."""
        if not isinstance(rid, int) or isinstance(rid, bool):
            return None
        changed = self._changed.get(model)
        if changed is not None and rid in changed:
            rec = changed[rid]
            return None if rec is _DELETED else rec
        return self.dataset.records.get(model, {}).get(rid)

    def is_changed(self, model: str, rid: int) -> bool:
        """Whether this server created or modified the record."""
        return rid in self._changed.get(model, {})

    def ids(self, model: str) -> list[int]:
        """All record ids of ``model``, ascending."""
        cached = self._ids_cache.get(model)
        if cached is None:
            base = set(self.dataset.records.get(model, {}))
            for rid, rec in self._changed.get(model, {}).items():
                if rec is _DELETED:
                    base.discard(rid)
                else:
                    base.add(rid)
            cached = sorted(base)
            self._ids_cache[model] = cached
        return cached

    def iter_records(self, model: str) -> Iterator[Record]:
        """All records of ``model`` in id order."""
        for rid in self.ids(model):
            rec = self.get(model, rid)
            if rec is not None:
                yield rec

    def next_id(self, model: str) -> int:
        """A fresh id for a new record of ``model``."""
        base = self.dataset.records.get(model, {})
        changed = self._changed.get(model, {})
        return max([0, *base, *changed]) + 1

    def put(self, model: str, record: Record) -> None:
        """Insert or replace a record (copy-on-write: the shared dataset is untouched)."""
        self._changed.setdefault(model, {})[int(record["id"])] = record
        self._ids_cache.pop(model, None)
        if self.journal is not None:
            self._dirty.add((model, int(record["id"])))

    def update(self, model: str, rid: int, values: Record) -> None:
        """Change some fields of an existing record."""
        current = self.get(model, rid)
        if current is None:
            raise KeyError(rid)
        self.put(model, {**current, **values})

    def delete(self, model: str, rid: int) -> None:
        """Remove a record."""
        self._changed.setdefault(model, {})[rid] = _DELETED
        self._ids_cache.pop(model, None)
        if self.journal is not None:
            self._dirty.add((model, rid))
