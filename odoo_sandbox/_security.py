"""Users, access rights and the error payloads the sandbox answers with (as Odoo 18 does)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from odoo_sandbox._meta import meta_for

__all__ = [
    "APPROVAL_MODEL",
    "DECISION_MODEL",
    "EXCEPTION_MODEL",
    "GROUP_AGENT",
    "GROUP_APPROVER",
    "GROUP_EXECUTOR",
    "GROUP_SYSTEM",
    "GROUP_USER",
    "ROLE_GROUPS",
    "SANDBOX_USERS",
    "Role",
    "RpcError",
    "SandboxUser",
    "access_denied",
    "check_model_access",
    "error_payload",
    "record_rule_error",
]

APPROVAL_MODEL = "copilot.approval.request"
DECISION_MODEL = "copilot.approval.decision"
EXCEPTION_MODEL = "copilot.exception"
GROUP_AGENT = "copilot_approval.group_copilot_agent"
GROUP_APPROVER = "copilot_approval.group_copilot_approver"
GROUP_EXECUTOR = "copilot_approval.group_copilot_executor"
GROUP_SYSTEM = "base.group_system"
GROUP_USER = "base.group_user"

Role = Literal["admin", "internal", "manager", "executor", "readonly", "portal"]
Operation = Literal["read", "write", "create", "unlink"]


@dataclass(frozen=True)
class SandboxUser:
    """A login the sandbox accepts, and what that user may do."""

    login: str
    password: str
    uid: int
    role: Role
    #: the user's API key for JSON-2 (Odoo 19 sandbox only)
    api_key: str | None = None

    @property
    def is_admin(self) -> bool:
        """True for the administrator (every right, sees admin-only fields)."""
        return self.role == "admin"


#: The recorded users (README of the reference): login, password, uid and their rights.
SANDBOX_USERS: tuple[SandboxUser, ...] = (
    SandboxUser("admin", "admin", 2, "admin"),
    SandboxUser("demo", "demo", 6, "internal"),
    SandboxUser("portal", "portal", 7, "portal"),
    SandboxUser("copilot", "copilot", 8, "readonly"),
    SandboxUser("manager", "manager", 9, "manager"),
    # Not in the recorded database: the executor's own credential (group Copilot executor).
    SandboxUser("executor", "executor", 10, "executor"),
)


#: The addon's groups each sandbox role is in (the addon makes the administrator approver and executor), and
#: Internal User for everyone but the portal user.
ROLE_GROUPS: dict[str, frozenset[str]] = {
    "admin": frozenset({GROUP_USER, GROUP_SYSTEM, GROUP_APPROVER, GROUP_EXECUTOR}),
    "internal": frozenset({GROUP_USER}),
    "manager": frozenset({GROUP_USER, GROUP_APPROVER}),
    "executor": frozenset({GROUP_USER, GROUP_EXECUTOR}),
    "readonly": frozenset({GROUP_USER, GROUP_AGENT}),
    "portal": frozenset(),
}
#: The addon's own models: their access rights come from its ``ir.model.access.csv`` (``_ADDON_ACCESS``).
ADDON_MODELS = (APPROVAL_MODEL, DECISION_MODEL, EXCEPTION_MODEL)

#: The addon's ``ir.model.access.csv`` on its models (a test keeps both equal): what each group may do.
_APPROVAL_ACCESS: dict[tuple[str, str], frozenset[str]] = {
    # exceptions: read-only for every group; the agent syncs them and people acknowledge them with methods
    (EXCEPTION_MODEL, GROUP_AGENT): frozenset({"read"}),
    (EXCEPTION_MODEL, GROUP_APPROVER): frozenset({"read"}),
    (EXCEPTION_MODEL, GROUP_USER): frozenset({"read"}),
    (EXCEPTION_MODEL, GROUP_SYSTEM): frozenset({"read"}),
    (APPROVAL_MODEL, GROUP_AGENT): frozenset({"read", "create"}),
    (APPROVAL_MODEL, GROUP_APPROVER): frozenset({"read"}),
    (APPROVAL_MODEL, GROUP_EXECUTOR): frozenset({"read"}),
    (APPROVAL_MODEL, GROUP_SYSTEM): frozenset({"read", "write", "create", "unlink"}),
    (DECISION_MODEL, GROUP_AGENT): frozenset({"read"}),
    (DECISION_MODEL, GROUP_APPROVER): frozenset({"read"}),
    (DECISION_MODEL, GROUP_EXECUTOR): frozenset({"read"}),
    (DECISION_MODEL, GROUP_SYSTEM): frozenset({"read"}),
}

#: How Odoo names the addon's groups in an access error ("Category/Group").
_GROUP_NAMES = {
    GROUP_USER: "User types/Internal User",
    GROUP_SYSTEM: "Administration/Settings",
    GROUP_AGENT: "Copilot/Copilot agent",
    GROUP_APPROVER: "Copilot/Copilot approver",
    GROUP_EXECUTOR: "Copilot/Copilot executor",
}


class RpcError(Exception):
    """An error Odoo serializes into a JSON-RPC ``error`` object (``data.name`` is ``name``)."""

    def __init__(self, name: str, message: str, arguments: Iterable[Any] | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.arguments = list(arguments) if arguments is not None else [message]


def access_denied() -> RpcError:
    """Odoo's ``AccessDenied`` (wrong uid or password on an object call)."""
    return RpcError("odoo.exceptions.AccessDenied", "Access Denied")


def error_payload(error: RpcError, code: int = 200, message: str = "Odoo Server Error") -> dict[str, Any]:
    """The JSON-RPC ``error`` member Odoo builds for ``error`` (traceback cut to its last line)."""
    qualified = error.name.removeprefix("builtins.")
    last_line = f"{qualified}: {error.message}".splitlines()[-1]
    return {
        "code": code,
        "message": message,
        "data": {
            "name": error.name,
            "debug": f"Traceback (most recent call last):\n  ...\n{last_line}",
            "message": error.message,
            "arguments": error.arguments,
            "context": {},
        },
    }


# --------------------------------------------------------------------------- access rights

_VERBS: dict[str, str] = {"read": "access", "write": "modify", "create": "create", "unlink": "delete"}

_PURCHASE = ("Purchase/Administrator", "Purchase/User")
_PURCHASE_WRITE = ("Invoicing/Invoicing", *_PURCHASE)
_SALES = ("Sales/Administrator", "Sales/User: All Documents", "Sales/User: Own Documents Only")
_STOCK = ("Inventory/Administrator", "Inventory/User")
_INVOICING = ("Invoicing/Administrator", "Invoicing/Invoicing")
_HELPDESK = (
    "Helpdesk/Manager",
    "Helpdesk/User: All tickets",
    "Helpdesk/User: Personal tickets",
    "Helpdesk/User: Team tickets",
)
_PRODUCT = ("Inventory/Administrator", "Purchase/Administrator", "Sales/Administrator")
_DEFAULT = ("Administration/Settings",)
_INTERNAL = ("User types/Internal User",)

#: groups listed in "This operation is allowed for the following groups" (recorded ones exact).
_ALLOWED_GROUPS: dict[tuple[str, str], tuple[str, ...]] = {
    ("purchase.order", "write"): _PURCHASE_WRITE,
    ("purchase.order", "create"): _PURCHASE,
    ("purchase.order", "unlink"): _PURCHASE,
    ("purchase.order.line", "write"): _PURCHASE_WRITE,
    ("purchase.order.line", "create"): _PURCHASE,
    ("purchase.order.line", "unlink"): _PURCHASE,
    ("sale.order", "write"): ("Invoicing/Invoicing", *_SALES),
    ("sale.order.line", "write"): ("Invoicing/Invoicing", *_SALES),
    ("sale.order", "unlink"): ("Sales/Administrator",),
    ("account.move", "write"): (*_INVOICING, *_PURCHASE, *_SALES),
    ("account.move", "create"): (*_INVOICING, *_PURCHASE, *_SALES),
    ("helpdesk.ticket", "unlink"): ("Helpdesk/Manager",),
    ("res.partner", "write"): ("Extra Rights/Contact Creation",),
    ("res.partner", "create"): ("Extra Rights/Contact Creation",),
    ("res.partner", "unlink"): ("Extra Rights/Contact Creation",),
}

_PREFIX_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("purchase.", _PURCHASE),
    ("sale.", _SALES),
    ("stock.", _STOCK),
    ("account.", _INVOICING),
    ("helpdesk.", _HELPDESK),
    ("product.", _PRODUCT),
    ("uom.", _PRODUCT),
)

#: what a portal user may read in the sandbox (Odoo also lets it read its own documents; not modelled)
_PORTAL_READABLE = frozenset({"res.partner", "res.users", "res.company"})


def allowed_groups(model: str, operation: str) -> tuple[str, ...]:
    """The groups named in the access-error message for ``operation`` on ``model``."""
    if model in ADDON_MODELS:
        granting = {group for (m, group), ops in _APPROVAL_ACCESS.items() if m == model and operation in ops}
        return tuple(name for group, name in _GROUP_NAMES.items() if group in granting)
    if operation == "read":
        return _INTERNAL
    if (model, operation) in _ALLOWED_GROUPS:
        return _ALLOWED_GROUPS[(model, operation)]
    for prefix, groups in _PREFIX_GROUPS:
        if model.startswith(prefix):
            return groups
    return _DEFAULT


def model_access_error(model: str, operation: str) -> RpcError:
    """The AccessError Odoo raises when no group of the user grants ``operation`` on ``model``."""
    header = f"You are not allowed to {_VERBS[operation]} '{meta_for(model).description}' ({model}) records."
    groups = allowed_groups(model, operation)
    if groups:
        group_info = "This operation is allowed for the following groups:\n" + "\n".join(f"\t- {g}" for g in groups)
    else:
        group_info = "No group currently allows this operation."
    message = f"{header}\n\n{group_info}\n\nContact your administrator to request access if necessary."
    return RpcError("odoo.exceptions.AccessError", message)


def record_rule_error(user_name: str, uid: int, model: str, operation: str) -> RpcError:
    """The AccessError Odoo raises when a record rule (here: multi-company) hides a record."""
    message = (
        "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n"
        f"Sorry, {user_name} (id={uid}) doesn't have '{operation}' access to:\n"
        f"- {meta_for(model).description} ({model})\n\n"
        "If you really, really need access, perhaps you can win over your friendly administrator "
        "with a batch of freshly baked cookies."
    )
    return RpcError("odoo.exceptions.AccessError", message)


def may(user: SandboxUser, model: str, operation: str) -> bool:
    """Whether ``user``'s groups grant ``operation`` on ``model`` (ir.model.access)."""
    if model in ADDON_MODELS:
        return any(operation in _APPROVAL_ACCESS.get((model, group), ()) for group in ROLE_GROUPS[user.role])
    if user.role in ("admin", "internal", "manager", "executor"):
        return True
    if user.role == "readonly":
        return operation == "read" or (operation == "create" and model == APPROVAL_MODEL)
    return operation == "read" and model in _PORTAL_READABLE


def check_model_access(user: SandboxUser, model: str, operation: str) -> None:
    """Raise Odoo's AccessError unless ``user`` may perform ``operation`` on ``model``."""
    if not may(user, model, operation):
        raise model_access_error(model, operation)
