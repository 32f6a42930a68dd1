# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class CopilotApprovalDecision(models.Model):
    """One person's (or the policy's) decision on a copilot approval request.

    Decisions are an audit trail: only the request's buttons create them (in superuser mode, after
    their checks), and nobody edits or deletes them through the access rights.
    """

    _name = "copilot.approval.decision"
    _description = "Copilot Approval Decision"
    _order = "date, id"

    request_id = fields.Many2one(
        comodel_name="copilot.approval.request",
        required=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        related="request_id.company_id",
        store=True,
        index=True,
    )
    user_id = fields.Many2one(
        comodel_name="res.users",
        required=True,
        ondelete="restrict",
    )
    decision = fields.Selection(
        selection=[
            ("approve", "Approved"),
            ("refuse", "Refused"),
            ("policy", "Approved by policy"),
        ],
        required=True,
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    comment = fields.Text()
