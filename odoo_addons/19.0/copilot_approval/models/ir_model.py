# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class IrModel(models.Model):
    _inherit = "ir.model"

    def _reflect_models(self, model_names):
        """When an app installed after this addon adds models, let the Copilot agent read them too."""
        result = super()._reflect_models(model_names)
        if self.env.ref("copilot_approval.group_copilot_agent", raise_if_not_found=False):
            self.env["ir.model.access"]._copilot_sync_agent_read_access()
        return result
