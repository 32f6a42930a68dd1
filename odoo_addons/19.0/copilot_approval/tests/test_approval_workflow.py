# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from .common import CopilotApprovalCase


@tagged("post_install", "-at_install")
class TestApprovalWorkflow(CopilotApprovalCase):
    def test_agent_creates_a_pending_request(self):
        """The agent's request starts pending, requested by the agent, with the typed payload kept."""
        request = self._create()
        self.assertEqual(request.state, "pending")
        self.assertEqual(request.requested_by_id, self.agent)
        self.assertEqual(request.payload["picking_id"], 12)
        self.assertEqual(request.approvals_required, 1)
        self.assertIn("Re: P00002", request.evidence_html)

    def test_new_request_cannot_set_its_status(self):
        """Nobody creates a request already approved or executed, nor on someone else's name."""
        for values in (
            {"state": "approved"},
            {"execution_outcome": "done"},
            {"requested_by_id": 2},
            {"risk_tier": "high", "approvals_required": 1},
        ):
            with self.subTest(values=values), self.assertRaises(UserError):
                self._create(**values)

    def test_requester_cannot_approve(self):
        """The requester (also an approver here) can never approve their own request."""
        request = self._create(user=self.requester)
        with self.assertRaises(UserError):
            request.with_user(self.requester).action_approve()
        self.assertEqual(request.state, "pending")
        self.assertFalse(request.decision_ids)

    def test_person_on_whose_behalf_cannot_approve(self):
        """The person who asked the copilot cannot approve the copilot's request either."""
        request = self._create(on_behalf_of=self.approver1.login)
        self.assertEqual(request.on_behalf_of_user_id, self.approver1)
        with self.assertRaises(UserError):
            request.with_user(self.approver1).action_approve()
        request.with_user(self.approver2).action_approve()
        self.assertEqual(request.state, "approved")

    def test_low_tier_one_approval(self):
        """One approver other than the requester approves a low-tier request; the decision is kept."""
        request = self._create()
        request.with_user(self.approver1).action_approve(comment="ok")
        self.assertEqual(request.state, "approved")
        self.assertTrue(request.approved_date)
        self.assertEqual(request.decision_ids.user_id, self.approver1)
        self.assertEqual(request.decision_ids.decision, "approve")
        self.assertEqual(request.decision_ids.comment, "ok")
        self.assertTrue(request.decision_ids.date)

    def test_high_tiers_need_two_distinct_approvers(self):
        """High and critical requests stay pending after one approval; the same person twice is refused."""
        for tier in ("high", "critical"):
            with self.subTest(tier=tier):
                request = self._create(risk_tier=tier)
                self.assertEqual(request.approvals_required, 2)
                request.with_user(self.approver1).action_approve()
                self.assertEqual(request.state, "pending")
                with self.assertRaises(UserError):
                    request.with_user(self.approver1).action_approve()
                self.assertEqual(request.state, "pending")
                request.with_user(self.approver2).action_approve()
                self.assertEqual(request.state, "approved")
                self.assertEqual(request.decision_ids.user_id, self.approver1 | self.approver2)

    def test_dual_control_policy_needs_two_approvers(self):
        """A low-tier request under the dual_control policy also needs two people."""
        request = self._create(policy_mode="dual_control")
        request.with_user(self.approver1).action_approve()
        self.assertEqual(request.state, "pending")

    def test_quorum_is_a_constraint(self):
        """Even a superuser write cannot mark a request approved without enough approvers."""
        request = self._create(risk_tier="high")
        request.with_user(self.approver1).action_approve()
        with self.assertRaises(ValidationError):
            request.sudo().write({"state": "approved"})
        tampered = self._create(risk_tier="critical")
        tampered.sudo().write({"approvals_required": 1})  # the stored figure is informative only
        tampered.with_user(self.approver1).action_approve()
        self.assertEqual(tampered.state, "pending")

    def test_expired_request_cannot_be_approved(self):
        """Past its expiry a request cannot be approved; the cron marks it expired."""
        request = self._create(expires_at=self._past())
        live = self._create(expires_at=self._future())
        with self.assertRaises(UserError):
            request.with_user(self.approver1).action_approve()
        self.assertEqual(self.Request._cron_expire_requests(), 1)
        self.assertEqual(request.state, "expired")
        self.assertEqual(live.state, "pending")
        with self.assertRaises(UserError):
            request.with_user(self.approver1).action_approve()

    def test_approved_payload_is_frozen(self):
        """After approval no one, the administrator included, changes what was approved."""
        request = self._create()
        request.with_user(self.admin).write({"amount": 1600.0})  # pending: still editable by an admin
        request.with_user(self.approver1).action_approve()
        frozen = (
            {"payload": {"picking_id": 13}},
            {"amount": 1.0},
            {"res_id": self.admin.partner_id.id},
            {"res_model": "res.users"},
            {"risk_tier": "low"},
            {"diff": "nothing"},
        )
        for values in frozen:
            with self.subTest(values=values):
                with self.assertRaises(UserError):
                    request.with_user(self.admin).write(values)
                with self.assertRaises(UserError):
                    request.sudo().write(values)
        self.assertEqual(request.payload, {"picking_id": 12, "new_date": "2026-12-03 10:00:00"})
        self.assertEqual(request.amount, 1600.0)

    def test_status_only_changes_through_buttons(self):
        """A plain write cannot change the status or the decisions, even as administrator."""
        request = self._create()
        for values in ({"state": "approved"}, {"execution_outcome": "x"}, {"requested_by_id": self.admin.id}):
            with self.subTest(values=values), self.assertRaises(UserError):
                request.with_user(self.admin).write(values)
        self.assertEqual(request.state, "pending")

    def test_refuse(self):
        """An approver refuses a pending request; it cannot be approved afterwards."""
        request = self._create()
        request.with_user(self.approver1).action_refuse(comment="wrong PO")
        self.assertEqual(request.state, "refused")
        self.assertEqual(request.decision_ids.decision, "refuse")
        with self.assertRaises(UserError):
            request.with_user(self.approver2).action_approve()

    def test_executor_runs_an_approved_request_once(self):
        """approved -> executing -> executed, each step once, by an executor only."""
        request = self._create()
        with self.assertRaises(UserError):
            request.with_user(self.executor).action_start_execution()  # still pending
        request.with_user(self.approver1).action_approve()
        with self.assertRaises(AccessError):
            request.with_user(self.approver1).action_start_execution()
        request.with_user(self.executor).action_start_execution()
        self.assertEqual(request.state, "executing")
        self.assertEqual(request.executed_by_id, self.executor)
        with self.assertRaises(UserError):
            request.with_user(self.executor).action_start_execution()
        request.with_user(self.executor).action_mark_executed(outcome="WH/IN/00012 scheduled 2026-12-03")
        self.assertEqual(request.state, "executed")
        self.assertEqual(request.execution_outcome, "WH/IN/00012 scheduled 2026-12-03")
        self.assertTrue(request.executed_date)
        for method in ("action_start_execution", "action_mark_executed", "action_mark_failed"):
            with self.subTest(method=method), self.assertRaises(UserError):
                getattr(request.with_user(self.executor), method)()
        self.assertEqual(request.state, "executed")

    def test_executor_records_a_failure(self):
        """A changed target makes the executor fail the request with the reason, without running it."""
        request = self._create()
        request.with_user(self.approver1).action_approve()
        request.with_user(self.executor).action_mark_failed(reason="WH/IN/00012 changed since the proposal")
        self.assertEqual(request.state, "failed")
        self.assertIn("changed", request.execution_outcome)
        with self.assertRaises(UserError):
            request.with_user(self.executor).action_start_execution()

    def test_idempotency_key_is_unique(self):
        """The same proposal twice creates one request."""
        self._create(idempotency_key="copilot-same")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self._create(idempotency_key="copilot-same")
        # the constraint exists under the same name on Odoo 18 (_sql_constraints) and 19 (models.Constraint)
        self.cr.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s",
            ["copilot_approval_request", "copilot_approval_request_idempotency_key_unique"],
        )
        self.assertEqual(self.cr.fetchall(), [("UNIQUE (idempotency_key)",)])

    def test_to_approve_by_me(self):
        """The filter lists pending requests I may approve: not mine, not yet approved by me, not expired."""
        mine = self._create(user=self.requester)
        theirs = self._create()
        dual = self._create(risk_tier="high")
        expired = self._create(expires_at=self._past())
        domain = [("can_approve", "=", True)]
        found = self.Request.with_user(self.requester).search(domain)
        self.assertIn(theirs, found)
        self.assertIn(dual, found)
        self.assertNotIn(mine, found)
        self.assertNotIn(expired, found)
        self.assertIn(mine, self.Request.with_user(self.requester).search([("can_approve", "=", False)]))
        self.assertIn(mine, self.Request.with_user(self.requester).search([("can_approve", "!=", True)]))
        self.assertNotIn(theirs, self.Request.with_user(self.requester).search([("can_approve", "!=", True)]))
        self.assertIn(mine, self.Request.with_user(self.approver1).search(domain))
        dual.with_user(self.approver1).action_approve()
        self.assertNotIn(dual, self.Request.with_user(self.approver1).search(domain))
        self.assertIn(dual, self.Request.with_user(self.approver2).search(domain))
        self.assertTrue(theirs.with_user(self.approver1).can_approve)
        self.assertFalse(dual.with_user(self.approver1).can_approve)
        self.assertFalse(mine.with_user(self.requester).can_approve)
        self.assertFalse(self.Request.with_user(self.executor).search(domain))

    def test_pre_approved_by_policy(self):
        """An action type the administrator allows is approved by policy at the low tier only, and audited."""
        request = self._create(action_type="set_ticket_labels", policy_mode="pre_approved")
        self.assertEqual(request.state, "approved")
        self.assertEqual(request.decision_ids.decision, "policy")
        for values in (
            {"action_type": "set_ticket_labels", "risk_tier": "medium"},
            {"action_type": "issue_credit_note"},
        ):
            with self.subTest(values=values), self.assertRaises(UserError):
                self._create(policy_mode="pre_approved", **values)

    def test_decided_requests_cannot_be_deleted(self):
        """Decided requests are an audit trail."""
        request = self._create()
        request.with_user(self.approver1).action_approve()
        with self.assertRaises(UserError):
            request.with_user(self.admin).unlink()
