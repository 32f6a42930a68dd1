"""Odoo sandbox: a local server speaking the JSON-RPC subset of Odoo 18 that odoorpc uses.

It serves a seeded copy of the recorded reference (``../shared/odoo-reference``), frozen at
``RECORDED_AT``, for tests, evals and the offline demo::

    with SandboxServer() as odoo_server:
        odoo = odoorpc.ODOO(odoo_server.host, port=odoo_server.port)
        odoo.login(SANDBOX_DB, "copilot", "copilot")

``SandboxServer(odoo="odoo19")`` serves the Odoo 19 recording instead (``../shared/odoo-reference-19``: its field
names, ids, version, and the JSON-2 API with an API key per user, ``sandbox-<login>-api-key``; see ``_releases``).
``SandboxServer(helpdesk="enterprise")`` serves the same tickets shaped like Odoo Enterprise ``helpdesk``
(derived, see ``_flavours``), ``helpdesk="none"`` an Odoo without a Helpdesk app.

Users (login/password, uid): admin/admin 2, demo/demo 6, portal/portal 7, copilot/copilot 8
(read-only; may only create ``copilot.approval.request``), manager/manager 9, executor/executor 10.

``SandboxServer(state_file=path)`` keeps its writes in ``path`` across processes (the CLI's default,
``Settings.sandbox_state_file``); without it, writes live in the instance's memory (tests, evals).
``SandboxTransport(server, login=..., secret=...)`` reaches a sandbox in this process, without HTTP (the
server need not be started): an ``OdooTransport`` for ``OdooClient``, as the embedded default uses it.
``decide_in_sandbox`` records a person's decision on a request, through the same rules.
"""

from odoo_sandbox._data import RECORDED_AT, SANDBOX_DB
from odoo_sandbox._decide import DecisionRefused, SandboxDecision, decide_in_sandbox
from odoo_sandbox._flavours import HELPDESK_APPS, HelpdeskApp
from odoo_sandbox._journal import UNREADABLE, clear_journal
from odoo_sandbox._releases import ODOO_RELEASES, RELEASES, OdooRelease, Release
from odoo_sandbox._security import APPROVAL_MODEL, DECISION_MODEL, SANDBOX_USERS, SandboxUser
from odoo_sandbox._server import FaultMode, LoggedRequest, SandboxServer, serve_forever
from odoo_sandbox._transport import SandboxTransport, sandbox_json2_transport

__all__ = [
    "APPROVAL_MODEL",
    "DECISION_MODEL",
    "HELPDESK_APPS",
    "ODOO_RELEASES",
    "RECORDED_AT",
    "RELEASES",
    "SANDBOX_DB",
    "SANDBOX_USERS",
    "UNREADABLE",
    "DecisionRefused",
    "FaultMode",
    "HelpdeskApp",
    "LoggedRequest",
    "OdooRelease",
    "Release",
    "SandboxDecision",
    "SandboxServer",
    "SandboxTransport",
    "SandboxUser",
    "clear_journal",
    "decide_in_sandbox",
    "sandbox_json2_transport",
    "serve_forever",
]
