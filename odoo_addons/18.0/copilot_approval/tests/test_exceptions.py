# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import CopilotApprovalCase


def _finding(key="sale.order:24", **values):
    """One exception as the copilot's Odoo sink sends it."""
    out = {
        "key": key,
        "control": "orders_at_risk",
        "severity": "high",
        "score": 0.82,
        "title": "S00024 Gemini Furniture: Corner Desk Right Sit x10",
        "reason": "Waits for P00009, 3 days late and partly backordered.",
        "record_model": "res.partner",
        "record_name": "S00024",
        "record_url": "https://odoo.example.com/odoo/sale.order/24",
        "evidence": [{"model": "purchase.order", "id": 9, "display_name": "P00009"}],
        "factors": [
            {"name": "receipt_late", "label": "P00009 receipt is 3 days late", "value": 3, "contribution": 0.35}
        ],
    }
    out.update(values)
    return out


@tagged("post_install", "-at_install")
class TestCopilotExceptions(CopilotApprovalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Exception = cls.env["copilot.exception"]

    def _sync(self, *vals, user=None):
        ids = self.Exception.with_user(user or self.agent).copilot_sync(list(vals))
        return self.Exception.browse([i for i in ids if i])

    # ------------------------------------------------------------------ the copilot's upsert

    def test_the_agent_creates_then_updates_by_control_and_key(self):
        first = self._sync(_finding(record_id=self.partner.id))
        self.assertEqual(len(first), 1)
        self.assertEqual((first.state, first.severity, first.create_uid), ("open", "high", self.agent))
        self.assertTrue(first.first_seen and first.last_seen)
        again = self._sync(_finding(severity="critical", score=0.95, title="S00024: now critical"))
        self.assertEqual(again, first, "the same control and key is one exception")
        self.assertEqual((first.severity, first.score, first.title), ("critical", 0.95, "S00024: now critical"))
        other_control = self._sync(_finding(control="late_po_scan"))
        self.assertNotEqual(other_control, first)
        self.assertEqual(self.Exception.search_count([("key", "=", "sale.order:24")]), 2)

    def test_the_agent_cannot_write_unlink_acknowledge_or_set_other_fields(self):
        exc = self._sync(_finding())
        as_agent = exc.with_user(self.agent)
        self.assertEqual(as_agent.title, exc.title)
        with self.assertRaises(AccessError):
            as_agent.write({"title": "changed"})
        with self.assertRaises(AccessError):
            as_agent.unlink()
        with self.assertRaises(AccessError):
            self.Exception.with_user(self.agent).create(_finding(key="direct"))
        with self.assertRaises(AccessError):
            as_agent.action_acknowledge()
        for extra in ({"acknowledged_by": self.agent.id}, {"company_id": 1}, {"create_uid": 1}, {"id": exc.id}):
            with self.subTest(extra=extra), self.assertRaises(UserError):
                self._sync(_finding(**extra))
        with self.assertRaises(ValidationError):
            self._sync(_finding(state="acknowledged"))
        with self.assertRaises(ValidationError):
            self._sync(_finding(severity="urgent"))
        with self.assertRaises(ValidationError):
            self._sync(_finding(record_url="javascript:alert(1)"))
        with self.assertRaises(ValidationError):
            self._sync(_finding(key="new", title=False))
        self.assertEqual((exc.state, exc.title), ("open", _finding()["title"]))

    def test_only_the_agent_syncs(self):
        for user in (self.approver1, self.employee, self.requester, self.executor):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self._sync(_finding(), user=user)

    def test_an_acknowledgement_stands_until_the_copilot_closes_it(self):
        exc = self._sync(_finding())
        exc.with_user(self.approver1).action_acknowledge()
        self._sync(_finding(state="open", severity="critical"))
        self.assertEqual((exc.state, exc.severity, exc.acknowledged_by), ("acknowledged", "critical", self.approver1))
        self._sync({"control": "orders_at_risk", "key": "sale.order:24", "state": "closed"})
        self.assertEqual(exc.state, "closed")
        self.assertTrue(exc.closed_at)
        self._sync(_finding())  # it came back: open again, nobody has acknowledged this occurrence
        self.assertEqual((exc.state, exc.acknowledged_by.id, exc.closed_at), ("open", False, False))

    def test_closing_an_exception_odoo_never_had_creates_nothing(self):
        ids = self.Exception.with_user(self.agent).copilot_sync(
            [{"control": "orders_at_risk", "key": "never-sent", "state": "closed"}]
        )
        self.assertEqual(ids, [False])
        self.assertFalse(self.Exception.search([("key", "=", "never-sent")]))

    # ------------------------------------------------------------------ people

    def test_a_manager_acknowledges_and_cannot_edit(self):
        exc = self._sync(_finding())
        as_manager = exc.with_user(self.approver1)
        for values in ({"title": "changed"}, {"severity": "low"}, {"state": "closed"}, {"acknowledged_by": False}):
            with self.subTest(values=values), self.assertRaises(AccessError):
                as_manager.write(values)
        with self.assertRaises(AccessError):
            as_manager.unlink()
        as_manager.action_acknowledge()
        self.assertEqual((exc.state, exc.acknowledged_by), ("acknowledged", self.approver1))
        self.assertTrue(exc.acknowledged_at)
        with self.assertRaises(UserError):
            as_manager.action_acknowledge()

    def test_an_administrator_acknowledges_too(self):
        exc = self._sync(_finding())
        exc.with_user(self.requester).action_acknowledge()  # base.group_system
        self.assertEqual(exc.acknowledged_by, self.requester)

    def test_a_plain_user_reads_and_cannot_acknowledge(self):
        exc = self._sync(_finding())
        as_user = exc.with_user(self.employee)
        self.assertEqual(as_user.title, exc.title)
        self.assertEqual(as_user.evidence, [{"model": "purchase.order", "id": 9, "display_name": "P00009"}])
        with self.assertRaises(AccessError):
            as_user.action_acknowledge()
        with self.assertRaises(AccessError):
            as_user.write({"state": "acknowledged"})
        self.assertEqual(exc.state, "open")

    def test_evidence_and_factors_render_for_people(self):
        exc = self._sync(_finding(evidence=[{"display_name": "<b>P00009</b>", "model": "purchase.order", "id": 9}]))
        html = str(exc.with_user(self.employee).evidence_html)
        self.assertIn("P00009", html)
        self.assertNotIn("<b>P00009", html, "cited names are text, not markup")
        self.assertIn("+0.35", str(exc.factors_html))
        self.assertIn('"display_name"', exc.evidence_display)

    def test_list_order_is_worst_severity_then_oldest(self):
        now = fields.Datetime.now()
        self._sync(
            _finding("a", severity="low", first_seen=now - timedelta(days=9)),
            _finding("b", severity="critical", first_seen=now - timedelta(days=1)),
            _finding("c", severity="critical", first_seen=now - timedelta(days=5)),
            _finding("d", severity="medium", first_seen=now),
        )
        found = self.Exception.with_user(self.employee).search([("control", "=", "orders_at_risk")])
        self.assertEqual(found.mapped("key"), ["c", "b", "d", "a"])
        self.assertEqual(found[0].age_days, 5.0)

    # ------------------------------------------------------------------ views

    def test_views_load(self):
        for model, kinds in (
            ("copilot.exception", ("list", "kanban", "form", "search")),
            ("copilot.process.health", ("list", "pivot", "graph", "search")),
        ):
            for user in (self.approver1, self.requester):
                views = self.env[model].with_user(user).get_views([(False, kind) for kind in kinds])
                with self.subTest(model=model, user=user.login):
                    self.assertEqual(set(views["views"]), set(kinds))
        arch = self.Exception.with_user(self.approver1).get_views([(False, "list")])["views"]["list"]["arch"]
        self.assertIn('name="action_acknowledge"', arch)
        arch = self.Exception.with_user(self.employee).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn('name="action_acknowledge"', arch, "the button is hidden from those who cannot use it")

    def test_what_the_web_client_reads(self):
        """The list's records with their computed age, and the kanban's columns: every severity, worst first."""
        self._sync(_finding("a", first_seen="2026-11-23 08:00:00"), _finding("b", severity="low"))
        Model = self.Exception.with_user(self.approver1)
        spec = {"title": {}, "severity": {}, "age_days": {}, "state": {}, "acknowledged_by": {"fields": {}}}
        rows = Model.web_search_read([("control", "=", "orders_at_risk")], spec)["records"]
        self.assertEqual([r["severity"] for r in rows], ["high", "low"])
        self.assertGreater(rows[0]["age_days"], 1.0)
        Model = Model.with_context(read_group_expand=True)  # what the kanban view asks (Odoo 19 needs it)
        if hasattr(Model, "formatted_read_group"):  # Odoo 19
            groups = Model.web_read_group([], ["severity"], ["__count"])["groups"]
        else:
            groups = Model.web_read_group([], ["severity"], ["severity"])["groups"]
        self.assertEqual([g["severity"] for g in groups], ["critical", "high", "medium", "low"])

    def test_the_menus_the_browser_test_opens(self):
        exceptions = self.env.ref("copilot_approval.menu_copilot_exceptions")
        health = self.env.ref("copilot_approval.menu_copilot_process_health")
        self.assertEqual(exceptions.action, self.env.ref("copilot_approval.copilot_exception_action"))
        self.assertEqual(health.action, self.env.ref("copilot_approval.copilot_process_health_action"))
        visible = self.env["ir.ui.menu"].with_user(self.approver1)._visible_menu_ids()
        self.assertTrue({exceptions.id, health.id} <= visible)
        visible = self.env["ir.ui.menu"].with_user(self.employee)._visible_menu_ids()
        self.assertIn(exceptions.id, visible)
        self.assertNotIn(health.id, visible)

    # ------------------------------------------------------------------ process health

    def _decided(self, action_type, hours, state="approved"):
        """A request created ``hours`` before its (last) decision."""
        request = self._create(action_type=action_type)
        created = fields.Datetime.now() - timedelta(days=3)
        self.env.cr.execute(
            "UPDATE copilot_approval_request SET create_date = %s, state = %s WHERE id = %s",
            [created, state, request.id],
        )
        self.env["copilot.approval.decision"].sudo().create(
            {
                "request_id": request.id,
                "user_id": self.approver1.id,
                "decision": "refuse" if state == "refused" else "approve",
                "date": created + timedelta(hours=hours),
            }
        )
        request.invalidate_recordset()
        return request

    def test_process_health_figures(self):
        now = fields.Datetime.now()
        self._sync(
            _finding("new", first_seen=now - timedelta(hours=2)),
            _finding("two-days", first_seen=now - timedelta(days=2)),
            _finding("old", first_seen=now - timedelta(days=40)),
            _finding("old-2", first_seen=now - timedelta(days=45), severity="low"),
            _finding("gone", first_seen=now - timedelta(days=40)),
        )
        self._sync({"control": "orders_at_risk", "key": "gone", "state": "closed"})
        self._sync(_finding("acked", first_seen=now - timedelta(days=40))).with_user(
            self.approver1
        ).action_acknowledge()
        for hours in (1, 2, 3, 4, 10):
            self._decided("expedite", hours)
        self._decided("reschedule_receipt", 6, state="refused")
        expired = self._create(action_type="expedite")
        failed = self._create(action_type="reschedule_receipt")
        self.env.cr.execute("UPDATE copilot_approval_request SET state = 'expired' WHERE id = %s", [expired.id])
        self.env.cr.execute("UPDATE copilot_approval_request SET state = 'failed' WHERE id = %s", [failed.id])
        self.env.flush_all()

        Health = self.env["copilot.process.health"].with_user(self.approver1)
        rows = Health.search([])
        by_age = {r.age_bucket: r.count for r in rows if r.metric == "open_exceptions"}
        self.assertEqual(by_age, {"1_under_1d": 1, "2_1_3d": 1, "5_over_30d": 2})
        cycle = {r.action_type: (r.count, r.median_hours, r.p90_hours) for r in rows if r.metric == "approval_cycle"}
        self.assertEqual(cycle["expedite"][:2], (5, 3.0))
        self.assertAlmostEqual(cycle["expedite"][2], 7.6, places=3)  # p90 of 1, 2, 3, 4, 10 (interpolated)
        self.assertEqual(cycle["reschedule_receipt"][:2], (1, 6.0))
        self.assertEqual({r.action_type: r.count for r in rows if r.metric == "expired"}, {"expedite": 1})
        self.assertEqual(
            {r.action_type: r.count for r in rows if r.metric == "executor_failed"}, {"reschedule_receipt": 1}
        )
        with self.assertRaises(AccessError):
            self.env["copilot.process.health"].with_user(self.employee).search([])
