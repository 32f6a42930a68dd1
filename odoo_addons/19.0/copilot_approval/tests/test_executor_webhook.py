# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
import hmac
import json
import time
from unittest.mock import patch

import requests
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.copilot_approval_request import PARAM_WEBHOOK_SECRET, PARAM_WEBHOOK_URL
from .common import CopilotApprovalCase

URL = "http://127.0.0.1:8766/executor/wake"
SECRET = "s3cret-shared-with-the-executor"  # noqa: S105 (a test value)


@tagged("post_install", "-at_install")
class TestExecutorWebhook(CopilotApprovalCase):
    """An approval tells the executor, after commit, with a signed POST; never when unconfigured."""

    def setUp(self):
        super().setUp()
        self.env.cr.postcommit.clear()  # only this test's callbacks
        self.post = self.startPatcher(patch("requests.post"))
        self.post.return_value.status_code = 202

    def _configure(self, url=URL, secret=SECRET):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(PARAM_WEBHOOK_URL, url)
        params.set_param(PARAM_WEBHOOK_SECRET, secret)

    def _commit(self):
        """What a real commit does after COMMIT: run the post-commit callbacks."""
        self.env.cr.postcommit.run()

    def _sent(self):
        """The one POST made: (url, body as dict, headers, timeout), the signature checked."""
        self.post.assert_called_once()
        args, kwargs = self.post.call_args
        url = args[0] if args else kwargs["url"]
        body, headers = kwargs["data"], kwargs["headers"]
        timestamp = headers["X-Copilot-Timestamp"]
        expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        self.assertEqual(headers["X-Copilot-Signature"], f"sha256={expected}")
        self.assertLess(abs(int(timestamp) - time.time()), 60)
        self.assertEqual(headers["Content-Type"], "application/json")
        return url, json.loads(body), kwargs.get("timeout")

    def test_approval_posts_a_signed_event_after_commit(self):
        """Approved by a person: nothing is sent before the commit, then one signed POST to the URL."""
        self._configure()
        request = self._create()
        request.with_user(self.approver1).action_approve()
        self.assertEqual(request.state, "approved")
        self.post.assert_not_called()
        self._commit()
        url, event, timeout = self._sent()
        self.assertEqual(url, URL)
        self.assertEqual(
            {k: event[k] for k in ("request_id", "state", "db")},
            {"request_id": request.id, "state": "approved", "db": self.env.cr.dbname},
        )
        self.assertTrue(event["event_id"])
        self.assertTrue(timeout and timeout <= 3)

    def test_policy_approval_posts_too(self):
        """Approved by policy (pre-approved type, low tier) at creation: the executor is told as well."""
        self._configure()
        request = self._create(action_type="set_ticket_labels", policy_mode="pre_approved")
        self.assertEqual(request.state, "approved")
        self._commit()
        _url, event, _timeout = self._sent()
        self.assertEqual((event["request_id"], event["state"]), (request.id, "approved"))

    def test_dual_control_posts_only_when_approved(self):
        """The first of two approvals sends nothing; the second, which approves, sends one event."""
        self._configure()
        request = self._create(risk_tier="high")
        request.with_user(self.approver1).action_approve()
        self._commit()
        self.post.assert_not_called()
        request.with_user(self.approver2).action_approve()
        self._commit()
        self.assertEqual(self._sent()[1]["request_id"], request.id)

    def test_nothing_is_sent_when_unconfigured(self):
        """No URL, no secret, or a non-http URL: no call at all."""
        for url, secret in (("", ""), (URL, ""), ("", SECRET), ("file:///etc/passwd", SECRET)):
            with self.subTest(url=url, secret=bool(secret)):
                self._configure(url, secret)
                request = self._create()
                with mute_logger("odoo.addons.copilot_approval.models.copilot_approval_request"):
                    request.with_user(self.approver1).action_approve()
                self._commit()
                self.post.assert_not_called()

    def test_refusal_sends_nothing(self):
        """Only approvals wake the executor."""
        self._configure()
        self._create().with_user(self.approver1).action_refuse("no")
        self._commit()
        self.post.assert_not_called()

    def test_a_failing_executor_never_undoes_the_approval(self):
        """A connection error or an error answer is a warning; the approval stands, nothing raises."""
        self._configure()
        for effect in (requests.ConnectionError("refused"), None):
            with self.subTest(effect=effect):
                self.post.reset_mock()
                self.post.side_effect = effect
                self.post.return_value.status_code = 401
                request = self._create()
                request.with_user(self.approver1).action_approve()
                with self.assertLogs("odoo.addons.copilot_approval.executor_webhook", level="WARNING") as logs:
                    self._commit()
                self.post.assert_called_once()
                self.assertEqual(request.state, "approved")
                self.assertNotIn(SECRET, "\n".join(logs.output))

    def test_only_administrators_read_the_secret(self):
        """The shared secret is a system parameter: approvers, executors and the agent cannot read it."""
        self._configure()
        for user in (self.agent, self.approver1, self.executor, self.employee):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["ir.config_parameter"].with_user(user).get_param(PARAM_WEBHOOK_SECRET)
        admin_params = self.env["ir.config_parameter"].with_user(self.requester)  # base.group_system
        self.assertEqual(admin_params.get_param(PARAM_WEBHOOK_SECRET), SECRET)
