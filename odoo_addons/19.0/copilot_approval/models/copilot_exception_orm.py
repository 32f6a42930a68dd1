# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What Odoo 19 spells differently for ``copilot.exception`` (its Odoo 18 twin is in odoo_addons/18.0)."""

from odoo import models


class CopilotException(models.Model):
    _inherit = "copilot.exception"

    # Odoo 19 ignores ``_sql_constraints``: the constraint is a table object. Its name in PostgreSQL is
    # copilot_exception_company_control_key_unique, the same as on Odoo 18.
    _company_control_key_unique = models.Constraint(
        "UNIQUE(company_id, control, key)",
        "A copilot exception with this control and key already exists in this company.",
    )
