"""Map a channel identity (an email address) to an Odoo user, a role and the companies they may see.

The role comes from the roles file when it names the person (``COPILOT_ROLES_FILE``), otherwise from
the Odoo user's groups: the "Copilot approver" group or an Administrator level in Purchase or Sales makes a
manager, a Purchase user a buyer, a Sales user customer service. Odoo 18 shows them on the user form
(``sel_groups_*``/``in_group_*`` fields of ``res.users``, one ``fields_get``); Odoo 19 has no such fields, so
there the same groups are asked by XML id with ``res.users.has_group`` (the schema map's ``roles``). Portal and
archived users, and people without an Odoo user, get no role: they may use nothing. Answers are cached for a few
minutes.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.errors import ConfigError, OdooError, OdooNotFound, OdooServerError
from copilot.identity.actor import Actor, Channel, Role
from copilot.odoo import OdooClient
from copilot.tools.addresses import addresses_in, escape_like, exact_address_domain

__all__ = ["IdentityResolver", "RoleEntry", "RolesFile", "load_roles_file"]

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0

#: Groups (XML ids, the same on 18 and 19) that make a role, strongest first.
ROLE_GROUPS: tuple[tuple[str, Role], ...] = (
    ("copilot_approval.group_copilot_approver", "manager"),
    ("purchase.group_purchase_manager", "manager"),
    ("sales_team.group_sale_manager", "manager"),
    ("purchase.group_purchase_user", "buyer"),
    ("sales_team.group_sale_salesman", "customer_service"),
)


class RoleEntry(BaseModel):
    """One person in the roles file."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    companies: list[int] | None = Field(default=None, description="Restrict to these company ids")


class RolesFile(BaseModel):
    """``people``: email address or Odoo login -> role (or ``{role, companies}``)."""

    model_config = ConfigDict(extra="forbid")

    people: dict[str, RoleEntry] = Field(default_factory=dict)

    def entry(self, *keys: str | None) -> RoleEntry | None:
        """The first entry matching one of ``keys`` (case-insensitive)."""
        table = {k.lower(): v for k, v in self.people.items()}
        for key in keys:
            if key and key.lower() in table:
                return table[key.lower()]
        return None


def load_roles_file(path: Path | None) -> RolesFile:
    """Read and validate the roles file; a broken file raises ``ConfigError`` naming the problem."""
    if path is None:
        return RolesFile()
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"COPILOT_ROLES_FILE: cannot read {path}: {exc}") from None
    if isinstance(raw, dict) and isinstance(raw.get("people"), dict):
        raw["people"] = {k: ({"role": v} if isinstance(v, str) else v) for k, v in raw["people"].items()}
    try:
        return RolesFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"COPILOT_ROLES_FILE: {where}: {first['msg']}") from None


class _OdooUser(BaseModel):
    id: int
    login: str
    name: str | None = None
    company_ids: tuple[int, ...] = ()
    role: Role | None = None


class IdentityResolver:
    """Resolve people to ``Actor`` through the copilot's read-only Odoo client (cached per email)."""

    def __init__(self, client: OdooClient, roles: RolesFile | None = None, *, ttl: float = CACHE_SECONDS) -> None:
        self.client = client
        self.roles = roles or RolesFile()
        self._ttl = ttl
        self._cache: dict[str, tuple[float, _OdooUser | None]] = {}
        self._lock = threading.Lock()
        self._group_fields: dict[str, str] | None = None
        self._levels: dict[str, dict[Any, str]] = {}
        self._copilot_companies: tuple[int, ...] | None = None

    def resolve(self, *, channel: Channel, external_id: str, email: str | None, name: str | None = None) -> Actor:
        """The actor for a person on ``channel``; unknown people get an actor without role (allowed nothing)."""
        user = self._user(email) if email else None
        entry = self.roles.entry(email, user.login if user else None)
        role = entry.role if entry else (user.role if user else None)
        companies = self._companies(user, entry)
        return Actor(
            channel=channel,
            external_id=external_id,
            email=email,
            name=name or (user.name if user else None),
            odoo_user_id=user.id if user else None,
            role=role if (user is not None or entry is not None) else None,
            company_ids=companies,
        )

    # -- companies ------------------------------------------------------------------------------
    def copilot_companies(self) -> tuple[int, ...]:
        """Companies the copilot's own Odoo user may read (the outer bound of every scope)."""
        if self._copilot_companies is None:
            uid = self.client.uid
            rows = self.client.read("res.users", [uid], ["company_ids"]) if uid else []
            self._copilot_companies = tuple(rows[0]["company_ids"]) if rows else ()
        return self._copilot_companies

    def _companies(self, user: _OdooUser | None, entry: RoleEntry | None) -> tuple[int, ...] | None:
        wanted: tuple[int, ...] | None = None
        if user is not None and user.company_ids:
            wanted = user.company_ids
        if entry is not None and entry.companies is not None:
            wanted = tuple(c for c in entry.companies if wanted is None or c in wanted)
        if wanted is None:
            return None
        try:
            bound = self.copilot_companies()
        except OdooError:
            bound = ()
        return tuple(c for c in wanted if not bound or c in bound)

    # -- Odoo users -----------------------------------------------------------------------------
    def _user(self, email: str) -> _OdooUser | None:
        key = email.strip().lower()
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit and now - hit[0] < self._ttl:
                return hit[1]
        try:
            user = self._lookup(key)
        except OdooError as exc:
            log.warning("could not look up the Odoo user of a %s address: %s", key.rsplit("@", 1)[-1], exc)
            return None
        with self._lock:
            self._cache[key] = (now, user)
        return user

    def _lookup(self, email: str) -> _OdooUser | None:
        """The Odoo user whose login, or whose partner's email, is exactly ``email`` (never a LIKE pattern)."""
        if not email:
            return None
        logins = self.client.search_read("res.users", [("login", "=ilike", escape_like(email))], ["login"], limit=5)
        rows = [r for r in logins if str(r.get("login") or "").strip().lower() == email]
        if not rows and "@" in email:
            partners = self.client.search_read("res.partner", exact_address_domain("email", email), ["email"], limit=20)
            ids = [p["id"] for p in partners if email in addresses_in(p.get("email") or None)]
            if ids:
                rows = self.client.search_read("res.users", [("partner_id", "in", ids)], ["id"], limit=1)
        if not rows:
            return None
        by_form = self.client.schema.roles == "user_form_fields"
        role_fields = list(self._role_fields().values()) if by_form else []
        fields = ["login", "name", "company_ids", "share", "active", *role_fields]
        user = self.client.read("res.users", [rows[0]["id"]], fields)[0]
        if user.get("share") or user.get("active") is False:
            return None  # portal users and archived users act for nobody
        return _OdooUser(
            id=user["id"],
            login=user.get("login") or email,
            name=user.get("name") or None,
            company_ids=tuple(user.get("company_ids") or ()),
            role=self._role_of(user) if by_form else self._role_by_groups(int(user["id"])),
        )

    def _role_by_groups(self, user_id: int) -> Role | None:
        """The role from ``has_group`` (Odoo 19+): the first group found decides, strongest first."""
        for group, role in ROLE_GROUPS:
            try:
                member = self.client.has_group(user_id, group)
            except (OdooServerError, OdooNotFound):  # a group of an app that is not installed
                member = False
            if member:
                return role
        return None

    def _role_fields(self) -> dict[str, str]:
        """The ``res.users`` fields that show the Purchase and Sales levels and the approver group (one read)."""
        if self._group_fields is None:
            found: dict[str, str] = {}
            levels: dict[str, dict[Any, str]] = {}
            meta = self.client.fields_get("res.users", ["string", "type", "selection"])
            for name, attrs in meta.items():
                label = str(attrs.get("string") or "")
                if name.startswith("sel_groups_") and label in ("Purchase", "Sales"):
                    found[label.lower()] = name
                    levels[name] = {v: str(text) for v, text in attrs.get("selection") or []}
                elif name.startswith("in_group_") and label.lower().startswith("copilot approver"):
                    found["approver"] = name
            self._group_fields, self._levels = found, levels
        return self._group_fields

    def _role_of(self, user: dict[str, Any]) -> Role | None:
        fields = self._role_fields()
        levels: dict[str, str] = {}
        for app in ("purchase", "sales"):
            name = fields.get(app)
            value = user.get(name) if name else None
            if name and value:
                levels[app] = self._levels[name].get(value, "")
        if user.get(fields.get("approver", "")) or any(v.startswith("Administrator") for v in levels.values()):
            return "manager"
        if "purchase" in levels:
            return "buyer"
        if "sales" in levels:
            return "customer_service"
        return None
