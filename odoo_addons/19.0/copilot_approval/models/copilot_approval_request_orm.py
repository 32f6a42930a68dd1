# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What Odoo 19 spells differently for ``copilot.approval.request`` (its Odoo 18 twin is in odoo_addons/18.0)."""

from odoo import models


class CopilotApprovalRequest(models.Model):
    _inherit = "copilot.approval.request"

    # Odoo 19 ignores ``_sql_constraints`` (with only a warning in the log): the constraint is a table object.
    # Its name in PostgreSQL is copilot_approval_request_idempotency_key_unique, the same as on Odoo 18.
    _idempotency_key_unique = models.Constraint(
        "UNIQUE(idempotency_key)",
        "An approval request with this idempotency key already exists.",
    )

    def _search_can_approve(self, operator, value):
        """Odoo 19 gives a boolean field's search method only 'in' [True]; the ORM negates the rest itself."""
        if operator != "in":
            return NotImplemented
        return self._can_approve_domain()
