# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Exceptions and Process health views render in Odoo's web client (headless Chrome; skipped without one)."""

import json

from odoo.tests import HttpCase, new_test_user, tagged

#: Wait for a selector, check what it holds, then say "test successful" (anything thrown fails the test).
_CHECK = """
const wait = (selector, text) => new Promise((resolve, reject) => {
    let tries = 0;
    const timer = setInterval(() => {
        const found = [...document.querySelectorAll(selector)].find((el) => !text || el.textContent.includes(text));
        if (found) {
            clearInterval(timer);
            resolve(found);
        } else if (++tries > 300) {
            clearInterval(timer);
            reject(new Error(`nothing matches ${selector} ${text || ""}`));
        }
    }, 100);
});
(async () => {
    for (const [selector, text] of CHECKS) {
        await wait(selector, text);
    }
    console.log("test successful");
})().catch((error) => console.error(error.message));
"""


@tagged("post_install", "-at_install")
class TestExceptionViewsInBrowser(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="copilot_web_manager",
            groups="base.group_user,copilot_approval.group_copilot_approver",
        )
        agent = new_test_user(
            cls.env, login="copilot_web_agent", groups="base.group_user,copilot_approval.group_copilot_agent"
        )
        cls.env["copilot.exception"].with_user(agent).copilot_sync(
            [
                {
                    "key": "sale.order:24",
                    "control": "orders_at_risk",
                    "severity": "critical",
                    "score": 0.9,
                    "title": "S00024 Gemini Furniture: Corner Desk Right Sit x10",
                    "reason": "Waits for P00009, 3 days late.",
                    "evidence": [{"model": "purchase.order", "id": 9, "display_name": "P00009"}],
                    "factors": [{"name": "late", "label": "P00009 is 3 days late", "value": 3, "contribution": 0.35}],
                }
            ]
        )
        cls.exception = cls.env["copilot.exception"].search([("key", "=", "sale.order:24")])

    def _check(self, path, checks):
        code = _CHECK.replace("CHECKS", json.dumps(checks))
        self.browser_js(path, code, login=self.manager.login, timeout=120)

    def test_exceptions_list_kanban_and_form_render(self):
        action = "/odoo/action-copilot_approval.copilot_exception_action"
        self._check(action, [(".o_list_renderer .o_data_row", "S00024"), (".o_data_row button", "Acknowledge")])
        self._check(
            f"{action}?view_type=kanban",
            [
                (".o_kanban_group", "Critical"),
                (".o_kanban_record", "S00024"),
                (".o_kanban_record button", "Acknowledge"),
            ],
        )
        self._check(
            f"{action}/{self.exception.id}",
            [(".o_form_view h1", "S00024"), (".o_form_statusbar button", "Acknowledge"), (".o_form_view", "P00009")],
        )

    def test_process_health_renders(self):
        action = "/odoo/action-copilot_approval.copilot_process_health_action"
        self._check(action, [(".o_list_renderer .o_group_header", "Open exceptions by age")])
        self._check(f"{action}?view_type=pivot", [(".o_pivot", "Count")])
        self._check(f"{action}?view_type=graph", [(".o_graph_renderer canvas", "")])
