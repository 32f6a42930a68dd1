# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import fields
from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.tests import TransactionCase

AGENT = "copilot_approval.group_copilot_agent"
APPROVER = "copilot_approval.group_copilot_approver"
EXECUTOR = "copilot_approval.group_copilot_executor"


class CopilotApprovalCase(TransactionCase):
    """Users for every role, and a helper that creates requests as the agent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, no_reset_password=True))
        cls.Request = cls.env["copilot.approval.request"]
        cls.agent = mail_new_test_user(cls.env, login="copilot_agent", groups=f"base.group_user,{AGENT}")
        # a person who may create requests by hand (administrator) and approve others' requests
        cls.requester = mail_new_test_user(
            cls.env, login="copilot_requester", groups=f"base.group_user,base.group_system,{APPROVER}"
        )
        cls.approver1 = mail_new_test_user(cls.env, login="copilot_approver1", groups=f"base.group_user,{APPROVER}")
        cls.approver2 = mail_new_test_user(cls.env, login="copilot_approver2", groups=f"base.group_user,{APPROVER}")
        cls.executor = mail_new_test_user(cls.env, login="copilot_executor", groups=f"base.group_user,{EXECUTOR}")
        cls.employee = mail_new_test_user(cls.env, login="copilot_employee", groups="base.group_user")
        cls.admin = cls.env.ref("base.user_admin")
        cls.partner = cls.env["res.partner"].create({"name": "Gemini Furniture"})
        cls._key = 0

    def _create(self, user=None, **values):
        """A request created as ``user`` (the agent by default)."""
        type(self)._key += 1
        vals = {
            "name": "Reschedule WH/IN/00012 to 2026-12-03",
            "action_type": "reschedule_receipt",
            "res_model": "res.partner",
            "res_id": self.partner.id,
            "res_name": self.partner.display_name,
            "payload": {"picking_id": 12, "new_date": "2026-12-03 10:00:00"},
            "diff": "Scheduled date: 2026-11-29 -> 2026-12-03",
            "amount": 1500.0,
            "risk_tier": "low",
            "evidence": [
                {"kind": "email", "label": "Re: P00002 - Revised ship date", "model": "mail.message", "res_id": 7}
            ],
            "source": "supplier_email",
            "idempotency_key": f"copilot-test-{self._key}",
        }
        vals.update(values)
        return self.Request.with_user(user or self.agent).create(vals)

    @staticmethod
    def _past(hours=1):
        return fields.Datetime.now() - timedelta(hours=hours)

    @staticmethod
    def _future(hours=24):
        return fields.Datetime.now() + timedelta(hours=hours)
