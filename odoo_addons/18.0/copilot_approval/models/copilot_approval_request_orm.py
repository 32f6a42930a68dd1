# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What Odoo 18 spells differently for ``copilot.approval.request`` (its Odoo 19 twin is in odoo_addons/19.0)."""

from odoo import models
from odoo.exceptions import UserError


class CopilotApprovalRequest(models.Model):
    _inherit = "copilot.approval.request"

    # The constraint's name in PostgreSQL is copilot_approval_request_idempotency_key_unique, as on Odoo 19.
    _sql_constraints = [
        (
            "idempotency_key_unique",
            "UNIQUE(idempotency_key)",
            "An approval request with this idempotency key already exists.",
        ),
    ]

    def _search_can_approve(self, operator, value):
        """Odoo 18 gives a boolean field's search method '=' or '!=' with True or False."""
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on 'To Approve by Me'."))
        domain = self._can_approve_domain()
        if (operator == "=") == value:
            return domain
        return [("id", "not in", self._search(domain))]
