"""The execution environment of one call: store, user, context, and field value access."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from odoo_sandbox._data import Dataset, Record, Store
from odoo_sandbox._meta import compute_display_name
from odoo_sandbox._security import RpcError, SandboxUser

__all__ = ["X2MANY", "Env", "default_value", "is_null"]

X2MANY = ("one2many", "many2many")
_NUMERIC_DEFAULTS: dict[str, Any] = {"integer": 0, "float": 0.0, "monetary": 0.0}


def default_value(ftype: str) -> Any:
    """The value Odoo returns for an empty field of type ``ftype``."""
    if ftype in X2MANY:
        return []
    return _NUMERIC_DEFAULTS.get(ftype, False)


def is_null(value: Any, ftype: str) -> bool:
    """Whether ``value`` is SQL NULL for a field of type ``ftype`` (False/'' for strings, not 0)."""
    if ftype == "boolean":
        return value is None
    if ftype in ("integer", "float", "monetary"):
        return value is None or value is False
    if ftype in X2MANY:
        return not value
    return value is None or value is False or value == ""


class Env:
    """What one RPC call runs with; mirrors ``odoo.api.Environment`` loosely."""

    def __init__(self, store: Store, user: SandboxUser, context: dict[str, Any] | None, now: datetime) -> None:
        self.store = store
        self.user = user
        self.context: dict[str, Any] = dict(context or {})
        self.now = now

    # ----------------------------------------------------------------- registry

    @property
    def dataset(self) -> Dataset:
        """The shared dataset."""
        return self.store.dataset

    def fields(self, model: str) -> dict[str, dict[str, Any]]:
        """All fields of ``model`` (the administrator's view)."""
        return self.dataset.fields.get(model, {})

    def field(self, model: str, name: str) -> dict[str, Any] | None:
        """The attributes of one field, or None."""
        return self.dataset.fields.get(model, {}).get(name)

    def restricted(self, model: str) -> frozenset[str]:
        """Fields of ``model`` this user may not access (group-restricted fields)."""
        if self.user.is_admin:
            return frozenset()
        return self.dataset.restricted.get(model, frozenset())

    def readable_fields(self, model: str) -> list[str]:
        """The field names a read without field list returns, in ``fields_get`` order."""
        hidden = self.restricted(model)
        return [name for name in self.fields(model) if name not in hidden]

    def with_context(self, **values: Any) -> Env:
        """A copy of this environment with some context keys changed."""
        return Env(self.store, self.user, {**self.context, **values}, self.now)

    @property
    def active_test(self) -> bool:
        """Whether archived records are hidden (context ``active_test``, default True)."""
        return bool(self.context.get("active_test", True))

    # ----------------------------------------------------------------- users

    def user_record(self) -> Record:
        """The res.users record of the current user (an empty one for unknown uids)."""
        return self.store.get("res.users", self.user.uid) or {"id": self.user.uid}

    def company_ids(self) -> list[int]:
        """The companies whose records the user sees (context ``allowed_company_ids`` or all of theirs)."""
        user_companies = [c for c in self.user_record().get("company_ids") or [] if isinstance(c, int)] or [1]
        allowed = self.context.get("allowed_company_ids")
        if isinstance(allowed, list) and allowed:
            if any(c not in user_companies for c in allowed):  # as Odoo 18's check of allowed_company_ids
                raise RpcError("odoo.exceptions.AccessError", "Access to unauthorized or invalid companies.")
            return list(allowed)
        return user_companies

    def user_name(self) -> str:
        """The display name of the current user."""
        name = self.value("res.users", self.user_record(), "name")
        return name if isinstance(name, str) else self.user.login

    # ----------------------------------------------------------------- records

    def visible(self, model: str, rec: Record) -> bool:
        """Whether the multi-company record rule lets the user see ``rec``."""
        attrs = self.field(model, "company_id")
        if model in ("res.company", "res.users") or not attrs or attrs.get("type") != "many2one":
            return True
        company = rec.get("company_id")
        return not company or company in self.company_ids()

    def has_active(self, model: str) -> bool:
        """Whether ``model`` has an ``active`` field."""
        attrs = self.field(model, "active")
        return bool(attrs and attrs.get("type") == "boolean")

    def display_name(self, model: str, rid: int, rec: Record | None = None) -> Any:
        """The display name of record ``rid`` of ``model`` (labels for models not in the dataset)."""
        names = self.dataset.names.get(model, {})
        if rec is None:
            rec = self.store.get(model, rid)
        if rec is None:
            return names.get(rid, f"{model},{rid}")
        if rid in names and not self.store.is_changed(model, rid):
            return names[rid]
        return compute_display_name(self.store.get, self._label, model, rec, self.dataset.meta_for(model))

    def _label(self, model: str, rid: int) -> str:
        label = self.display_name(model, rid)
        return label if isinstance(label, str) else ""

    def value(self, model: str, rec: Record, fname: str) -> Any:
        """The internal value of ``fname`` on ``rec`` (many2one as id or False, x2many as id list)."""
        if fname == "id":
            return rec["id"]
        if fname in rec:
            return rec[fname]
        if fname == "display_name":
            return self.display_name(model, rec["id"], rec)
        compute = _COMPUTED.get((model, fname))
        if compute is not None:
            return compute(self, rec)
        inherits = self.dataset.meta_for(model).inherits
        if inherits is not None:
            parent_model, link = inherits
            if fname in self.fields(parent_model) and fname != link:
                parent = self.store.get(parent_model, rec.get(link))
                if parent is not None:
                    return self.value(parent_model, parent, fname)
        attrs = self.field(model, fname) or {}
        related = attrs.get("related")
        if isinstance(related, str) and related:
            return self._related(model, rec, related.split("."), attrs.get("type", "char"))
        return default_value(attrs.get("type", "char"))

    def _related(self, model: str, rec: Record, path: list[str], ftype: str) -> Any:
        current_model, current = model, rec
        for step in path[:-1]:
            attrs = self.field(current_model, step)
            if not attrs or attrs.get("type") not in ("many2one", *X2MANY):
                return default_value(ftype)
            target = self.value(current_model, current, step)
            target_id = target[0] if isinstance(target, list) and target else target
            nxt = self.store.get(attrs["relation"], target_id)
            if nxt is None:
                return default_value(ftype)
            current_model, current = attrs["relation"], nxt
        return self.value(current_model, current, path[-1])

    def x2many_ids(self, model: str, rec: Record, fname: str) -> list[int]:
        """The ids an x2many read returns (archived comodel records hidden under active_test)."""
        attrs = self.field(model, fname) or {}
        ids = [i for i in self.value(model, rec, fname) or [] if isinstance(i, int)]
        comodel = attrs.get("relation", "")
        field_ctx = attrs.get("context") if isinstance(attrs.get("context"), dict) else {}
        if self.has_active(comodel) and self.active_test and field_ctx.get("active_test", True):
            kept = []
            for rid in ids:
                target = self.store.get(comodel, rid)
                if target is None or target.get("active", True):
                    kept.append(rid)
            ids = kept
        return ids

    def to_read(self, model: str, rec: Record, fname: str, load: str | None = "_classic_read") -> Any:
        """The value of ``fname`` as ``read`` returns it over JSON-RPC."""
        attrs = self.field(model, fname) or {}
        ftype = attrs.get("type", "char")
        if ftype == "many2one":
            value = self.value(model, rec, fname)
            if not value:
                return False
            if load != "_classic_read":
                return value
            return [value, self.display_name(attrs["relation"], value)]
        if ftype in X2MANY:
            return self.x2many_ids(model, rec, fname)
        value = self.value(model, rec, fname)
        if value is None:
            return default_value(ftype)
        if ftype in ("float", "monetary") and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value


# --------------------------------------------------------------------------- computed fields


def _stock_view_locations(env: Env) -> list[str]:
    prefixes = []
    for wh in env.store.iter_records("stock.warehouse"):
        if wh.get("company_id") in env.company_ids() and wh.get("view_location_id"):
            prefixes.append(f"{wh['view_location_id']}/")
    return prefixes


def _in_warehouses(env: Env, location_id: Any, prefixes: list[str]) -> bool:
    loc = env.store.get("stock.location", location_id)
    if loc is None:
        return False
    path = loc.get("parent_path") or ""
    return any(path.startswith(p) or f"/{p}" in path for p in prefixes)


def _product_quantities(env: Env, product_id: int) -> dict[str, float]:
    prefixes = _stock_view_locations(env)
    on_hand = reserved = incoming = outgoing = 0.0
    for quant in env.store.iter_records("stock.quant"):
        if quant.get("product_id") == product_id and _in_warehouses(env, quant.get("location_id"), prefixes):
            on_hand += float(quant.get("quantity") or 0.0)
            reserved += float(quant.get("reserved_quantity") or 0.0)
    for move in env.store.iter_records("stock.move"):
        if move.get("product_id") != product_id or move.get("state") in ("done", "cancel", "draft"):
            continue
        src_in = _in_warehouses(env, move.get("location_id"), prefixes)
        dst_in = _in_warehouses(env, move.get("location_dest_id"), prefixes)
        qty = float(move.get("product_qty") or 0.0)
        if dst_in and not src_in:
            incoming += qty
        elif src_in and not dst_in:
            outgoing += qty
    return {
        "qty_available": on_hand,
        "free_qty": on_hand - reserved,
        "incoming_qty": incoming,
        "outgoing_qty": outgoing,
        "virtual_available": on_hand + incoming - outgoing,
    }


def _product_qty(name: str) -> Callable[[Env, Record], float]:
    def compute(env: Env, rec: Record) -> float:
        return round(_product_quantities(env, rec["id"])[name], 6)

    return compute


def _template_qty(name: str) -> Callable[[Env, Record], float]:
    def compute(env: Env, rec: Record) -> float:
        total = 0.0
        for pid in rec.get("product_variant_ids") or []:
            total += _product_quantities(env, pid)[name]
        return round(total, 6)

    return compute


def _email_formatted(env: Env, rec: Record) -> Any:
    email = rec.get("email")
    return f'"{rec.get("name") or "False"}" <{email}>' if email else False


_QTY_FIELDS = ("qty_available", "free_qty", "incoming_qty", "outgoing_qty", "virtual_available")

_COMPUTED: dict[tuple[str, str], Callable[[Env, Record], Any]] = {
    **{("product.product", name): _product_qty(name) for name in _QTY_FIELDS},
    **{("product.template", name): _template_qty(name) for name in _QTY_FIELDS},
    ("product.product", "code"): lambda env, rec: rec.get("default_code") or False,
    ("product.product", "lst_price"): lambda env, rec: env.value(
        "product.template", env.store.get("product.template", rec.get("product_tmpl_id")) or {"id": 0}, "list_price"
    ),
    ("product.product", "partner_ref"): lambda env, rec: env.display_name("product.product", rec["id"], rec),
    ("product.template", "product_variant_count"): lambda env, rec: len(rec.get("product_variant_ids") or []),
    ("product.template", "product_variant_id"): lambda env, rec: (rec.get("product_variant_ids") or [False])[0],
    ("res.partner", "email_formatted"): _email_formatted,
    # not stored on 19 (stored on 18): the name of the document the message is on
    ("mail.message", "record_name"): lambda env, rec: (
        env.display_name(rec["model"], rec["res_id"]) if rec.get("model") and rec.get("res_id") else False
    ),
}
