# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import AGENT, APPROVER, EXECUTOR, CopilotApprovalCase


@tagged("post_install", "-at_install")
class TestApprovalSecurity(CopilotApprovalCase):
    def test_agent_may_only_create(self):
        """The agent reads and creates requests; it cannot write, delete, approve, refuse or execute them."""
        request = self._create()
        as_agent = request.with_user(self.agent)
        self.assertEqual(as_agent.name, request.name)
        with self.assertRaises(AccessError):
            as_agent.write({"name": "changed"})
        with self.assertRaises(AccessError):
            as_agent.unlink()
        for method in ("action_approve", "action_refuse", "action_start_execution", "action_mark_failed"):
            with self.subTest(method=method), self.assertRaises(AccessError):
                getattr(as_agent, method)()
        self.assertEqual(request.state, "pending")
        with self.assertRaises(AccessError):
            self.env["copilot.approval.decision"].with_user(self.agent).create(
                {"request_id": request.id, "user_id": self.agent.id, "decision": "approve"}
            )

    def test_agent_in_other_groups_still_cannot_approve_or_execute(self):
        """Membership of the agent group wins over the approver and executor groups."""
        # new_test_user spells the groups field as the running Odoo does (18 and 19 differ)
        agent = mail_new_test_user(
            self.env, login="copilot_agent_everything", groups=f"base.group_user,{AGENT},{APPROVER},{EXECUTOR}"
        )
        self.assertTrue(agent.has_group(APPROVER) and agent.has_group(EXECUTOR))
        request = self._create(user=self.requester)
        with self.assertRaises(AccessError):
            request.with_user(agent).action_approve()
        request.with_user(self.approver1).action_approve()
        with self.assertRaises(AccessError):
            request.with_user(agent).action_start_execution()
        self.assertFalse(self.Request.with_user(agent).search([("can_approve", "=", True)]))

    def test_approver_and_employee_cannot_write(self):
        """Approvers decide through the buttons only; other internal users cannot even read requests."""
        request = self._create()
        with self.assertRaises(AccessError):
            request.with_user(self.approver1).write({"name": "changed"})
        with self.assertRaises(AccessError):
            request.with_user(self.employee).read(["name"])
        with self.assertRaises(AccessError):
            request.with_user(self.employee).action_approve()

    def test_multi_company_rule(self):
        """A request of another company is invisible to users of this one."""
        other = self.env["res.company"].create({"name": "My Company (Chicago) test"})
        request = self._create()
        foreign = self.Request.sudo().create(
            {
                "name": "Foreign",
                "action_type": "expedite",
                "res_model": "res.partner",
                "res_id": self.partner.id,
                "idempotency_key": "copilot-foreign",
                "company_id": other.id,
            }
        )
        found = self.Request.with_user(self.approver1).search([])
        self.assertIn(request, found)
        self.assertNotIn(foreign, found)
        with self.assertRaises(AccessError):
            foreign.with_user(self.approver1).action_approve()
        self.approver2.write({"company_ids": [(4, other.id)]})
        self.assertIn(foreign, self.Request.with_user(self.approver2).with_company(other).search([]))

    def test_agent_attaches_evidence(self):
        """The agent sends evidence files with a new request; they cannot point elsewhere."""
        data = base64.b64encode(b"From: vendor@example.com\n\nNew date: 2026-12-03\n")
        request = self._create(attachment_ids=[(0, 0, {"name": "email.eml", "datas": data})])
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", "copilot.approval.request"), ("res_id", "=", request.id)]
        )
        self.assertEqual(attachment.name, "email.eml")
        self.assertEqual(request.attachment_ids, attachment)
        with self.assertRaises(UserError):
            self._create(attachment_ids=[(0, 0, {"name": "x", "datas": data, "res_model": "res.partner"})])
        with self.assertRaises(UserError):
            self._create(attachment_ids=[(4, attachment.id)])

    def test_agent_read_access_on_business_models(self):
        """The install hook granted the agent read-only access on the installed business models only."""
        group = self.env.ref(AGENT)
        lines = self.env["ir.model.access"].search([("group_id", "=", group.id)])
        by_model = {line.model_id.model: line for line in lines}
        for model in ("res.partner", "mail.message", "res.currency"):
            self.assertIn(model, by_model)
        for model in ("res.users", "ir.rule", "res.partner.bank", "discuss.channel", "mail.mail"):
            self.assertNotIn(model, by_model)
        request_line = by_model.pop("copilot.approval.request")
        self.assertEqual(
            (request_line.perm_read, request_line.perm_create, request_line.perm_write, request_line.perm_unlink),
            (True, True, False, False),
        )
        for line in by_model.values():
            with self.subTest(model=line.model_id.model):
                self.assertEqual((line.perm_write, line.perm_create, line.perm_unlink), (False, False, False))
        wanted = set(self.env["ir.model.access"]._copilot_agent_read_models())
        self.assertFalse(wanted - set(by_model) - {"copilot.approval.request"}, "apps installed later are covered too")
        self.assertEqual(self.env["ir.model.access"]._copilot_sync_agent_read_access(), 0)
        self.assertTrue(self.env["res.partner"].with_user(self.agent).search_count([]))
