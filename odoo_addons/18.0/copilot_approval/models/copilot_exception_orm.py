# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What Odoo 18 spells differently for ``copilot.exception`` (its Odoo 19 twin is in odoo_addons/19.0)."""

from odoo import models


class CopilotException(models.Model):
    _inherit = "copilot.exception"

    # The constraint's name in PostgreSQL is copilot_exception_company_control_key_unique, as on Odoo 19.
    _sql_constraints = [
        (
            "company_control_key_unique",
            "UNIQUE(company_id, control, key)",
            "A copilot exception with this control and key already exists in this company.",
        ),
    ]
