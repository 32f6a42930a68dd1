# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Copilot Approval Requests",
    "summary": "Approval requests prepared by the Ops Copilot, decided by people in Odoo",
    "version": "18.0.1.2.0",
    "category": "Productivity",
    "website": "https://github.com/odoo-ops-copilot/odoo-ops-copilot",
    "author": "Odoo Ops Copilot contributors",
    "license": "LGPL-3",
    "depends": ["mail"],
    "data": [
        "security/copilot_approval_security.xml",
        "security/ir.model.access.csv",
        "data/ir_config_parameter_data.xml",
        "data/ir_cron_data.xml",
        "data/ir_actions_server_data.xml",
        "views/copilot_approval_request_views.xml",
        "views/copilot_exception_views.xml",
        "views/copilot_approval_menus.xml",
    ],
    "post_init_hook": "post_init_hook",
    "application": True,
}
