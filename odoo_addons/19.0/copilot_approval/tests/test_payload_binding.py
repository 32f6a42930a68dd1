# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
import json

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..payload_binding import payload_hash
from .common import CopilotApprovalCase


@tagged("post_install", "-at_install")
class TestPayloadBinding(CopilotApprovalCase):
    """A request binds to what will run: Odoo's own hash, frozen payload, target check."""

    def _reply(self, res_id=None, **values):
        """A copilot-shaped request: a reply to the partner (a model every database has)."""
        partner = self.partner.id
        payload = {
            "title": "Reply",
            "payload": {"action_type": "send_customer_reply", "model": "res.partner", "res_id": res_id or partner},
            "target": {"model": "res.partner", "id": partner, "display_name": "Gemini Furniture"},
        }
        return self._create(action_type="send_customer_reply", payload=payload, **values)

    def test_odoo_computes_the_canonical_hash(self):
        """The stored hash is sha256 of sorted-key compact JSON of action, target and payload."""
        request = self._reply()
        document = {
            "action": "send_customer_reply",
            "target": {"model": "res.partner", "id": self.partner.id},
            "payload": request.payload,
        }
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        self.assertEqual(request.payload_hash, hashlib.sha256(canonical.encode("utf-8")).hexdigest())

    def test_the_stored_payload_has_the_stored_hash(self):
        """What PostgreSQL gives back hashes to the stored hash; a payload it would change is refused."""
        for value in (5000.0, 0.1 + 0.2, 1e-07, 12345678901234567890, "é €"):
            with self.subTest(value=value):
                request = self._create(payload={"x": value, "y": [value]})
                request.invalidate_recordset(["payload"])
                stored = request.read(["payload"])[0]["payload"]
                self.assertEqual(stored, {"x": value, "y": [value]})
                self.assertEqual(
                    request.payload_hash, payload_hash(request.action_type, request.res_model, request.res_id, stored)
                )
        for value in (-0.0, 1e16, 1.5e300):  # jsonb gives back 0.0 and integers: the executor would refuse forever
            with self.subTest(value=value), self.assertRaises(ValidationError):
                self._create(payload={"x": value})

    def test_a_sent_hash_must_match(self):
        with self.assertRaises(UserError):
            self._reply(payload_hash="0" * 64)

    def test_a_payload_must_change_its_own_target(self):
        """A payload naming another record than the request's target is refused at creation."""
        with self.assertRaises(ValidationError):
            self._reply(res_id=self.admin.partner_id.id)

    def test_what_will_run_never_changes_even_for_an_administrator(self):
        request = self._reply()
        for values in ({"payload": {"x": 1}}, {"res_id": self.admin.partner_id.id}, {"payload_hash": "0" * 64}):
            with self.subTest(values=values):
                with self.assertRaises(UserError):
                    request.with_user(self.admin).write(values)
                with self.assertRaises(UserError):
                    request.sudo().write(values)

    def test_what_was_proposed_is_frozen_from_the_first_decision(self):
        """Between the first and the second of two approvals nothing a person decided on changes."""
        request = self._create(risk_tier="critical")
        request.with_user(self.admin).write({"amount": 1600.0})  # no decision yet: an admin may correct it
        request.with_user(self.approver1).action_approve()
        self.assertEqual(request.state, "pending")
        for values in ({"amount": 1.0}, {"risk_tier": "low"}, {"name": "other"}, {"diff": "nothing"}):
            with self.subTest(values=values):
                with self.assertRaises(UserError):
                    request.with_user(self.admin).write(values)
                with self.assertRaises(UserError):
                    request.sudo().write(values)
        self.assertEqual(request.amount, 1600.0)

    def test_on_behalf_of_is_found_ignoring_case_never_as_a_pattern(self):
        self.approver1.email = "Approver.One@Example.com"
        by_login = self._create(on_behalf_of=self.approver1.login.upper())
        self.assertEqual(by_login.on_behalf_of_user_id, self.approver1)
        by_email = self._create(on_behalf_of="approver.one@example.COM")
        self.assertEqual(by_email.on_behalf_of_user_id, self.approver1)
        with self.assertRaises(UserError):
            by_email.with_user(self.approver1).action_approve()
        for pattern in ("%", "copilot_approver_", "%@example.com"):
            with self.subTest(pattern=pattern):
                self.assertFalse(self._create(on_behalf_of=pattern).on_behalf_of_user_id)

    def test_pre_approval_is_only_for_the_copilots_own_proposals(self):
        """A person (even an administrator) or an API client's proposal is never approved by policy."""
        with self.assertRaises(UserError):
            self._create(user=self.requester, action_type="set_ticket_labels", policy_mode="pre_approved")
        with self.assertRaises(UserError):
            self._create(action_type="set_ticket_labels", policy_mode="pre_approved", source="api")
        request = self._create(action_type="set_ticket_labels", policy_mode="pre_approved", source="triage")
        self.assertEqual(request.state, "approved")

    def test_a_price_change_states_its_own_title_exposure_and_tier(self):
        """Whoever creates it, a price change shows what Odoo computes: (new - current) x open quantity."""
        if "purchase.order.line" not in self.env:
            self.skipTest("purchase is not installed")
        product = self.env["product.product"].create({"name": "Large Desk"})
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.partner.id,
                "order_line": [
                    Command.create(
                        {"product_id": product.id, "name": "Large Desk", "product_qty": 20, "price_unit": 500}
                    )
                ],
            }
        )
        line = order.order_line
        inner = {"action_type": "accept_price_change", "po_id": order.id, "line_id": line.id, "new_price": 5000.0}
        payload = {"payload": inner, "target": {"model": "purchase.order.line", "id": line.id}}
        lie = {
            "name": "Accept P00008 Drawer Black at 281.00 USD",
            "diff": "Unit price: 280.80 -> 281.00",
            "amount": 3.0,
            "risk_tier": "medium",
        }
        request = self._create(
            action_type="accept_price_change", res_model="purchase.order.line", res_id=line.id, payload=payload, **lie
        )
        self.assertEqual(request.amount, 90000.0)
        self.assertEqual(request.risk_tier, "critical")
        self.assertEqual(request.approvals_required, 2)
        self.assertTrue(request.name.startswith(f"Accept {order.name} Large Desk at 5,000.00"))
        self.assertEqual(request.diff, "Unit price: 500.00 -> 5,000.00")
        other = {**payload, "payload": {**inner, "po_id": order.id + 1000}}
        with self.assertRaises(ValidationError):
            self._create(
                action_type="accept_price_change", res_model="purchase.order.line", res_id=line.id, payload=other
            )
