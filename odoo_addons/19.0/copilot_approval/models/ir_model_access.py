# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, models

_logger = logging.getLogger(__name__)

#: Business models the Copilot agent reads, by prefix (whichever of them are installed).
AGENT_READ_PREFIXES = (
    "purchase.",
    "sale.",
    "stock.",
    "account.",
    "product.",
    "uom.",
    "helpdesk.",
)
#: And these models by name.
AGENT_READ_MODELS = (
    "res.partner",
    "res.partner.category",
    "res.partner.industry",
    "res.partner.title",
    "res.currency",
    "res.company",
    "res.country",
    "res.country.state",
    "mail.message",
    "mail.message.subtype",
    "mail.activity",
    "mail.activity.type",
    "mail.followers",
    "mail.tracking.value",
)
#: Never granted, even when a business model points to them.
AGENT_DENIED_PREFIXES = (
    "ir.",
    "base.",
    "res.users",
    "res.groups",
    "res.partner.bank",
    "bus.",
    "auth_",
    "payment.",
    "discuss.",
    "mail.mail",
    "mail.guest",
    "mail.alias",
    "mail.template",
    "mail.link.preview",
    "report.",
    "iap.",
    "sms.",
    "snailmail.",
)


class IrModelAccess(models.Model):
    _inherit = "ir.model.access"

    @api.model
    def _copilot_agent_read_models(self):
        """Installed business models the agent reads, plus the models their relational fields point to."""

        def eligible(name):
            if name not in self.env:
                return False
            model = self.env[name]
            return not model._abstract and not model._transient and not name.startswith(AGENT_DENIED_PREFIXES)

        base = {
            name
            for name in self.env.registry
            if (name.startswith(AGENT_READ_PREFIXES) or name in AGENT_READ_MODELS) and eligible(name)
        }
        related = {
            field.comodel_name
            for name in base
            for field in self.env[name]._fields.values()
            if field.relational and field.comodel_name and eligible(field.comodel_name)
        }
        return sorted(base | related)

    @api.model
    def _copilot_sync_agent_read_access(self):
        """Give the Copilot agent group read-only access to the installed business models.

        Called when the addon is installed, whenever a later module adds models, and from
        Copilot > Configuration. Creates what is missing (one read-only line per model, with an XML
        id of this addon so that uninstalling it removes them) and never widens or re-creates an
        existing line: archive a line to withhold a model from the agent. Returns the number of
        lines created.
        """
        group = self.env.ref("copilot_approval.group_copilot_agent")
        existing = self.sudo().with_context(active_test=False).search([("group_id", "=", group.id)])
        covered = set(existing.mapped("model_id.model"))
        todo = [name for name in self._copilot_agent_read_models() if name not in covered]
        ir_models = {m.model: m for m in self.env["ir.model"].sudo().search([("model", "in", todo)])}
        vals_list = [
            {
                "name": f"copilot agent: read {name}",
                "model_id": ir_models[name].id,
                "group_id": group.id,
                "perm_read": True,
                "perm_write": False,
                "perm_create": False,
                "perm_unlink": False,
            }
            for name in todo
            if name in ir_models
        ]
        lines = self.create(vals_list)
        self.env["ir.model.data"]._update_xmlids(
            [
                {
                    "xml_id": "copilot_approval.access_agent_read_{}".format(line.model_id.model.replace(".", "_")),
                    "record": line,
                    "noupdate": True,
                }
                for line in lines
            ]
        )
        self._copilot_sync_agent_rules(group)
        if lines:
            _logger.info("Copilot agent: %d read-only access lines created", len(lines))
        return len(lines)

    @api.model
    def _copilot_sync_agent_rules(self, group):
        """helpdesk_mgmt shows internal users only the tickets they follow: let the agent read all."""
        if "helpdesk.ticket" not in self.env:
            return
        xml_id = "copilot_approval.rule_agent_read_helpdesk_ticket"
        if self.env.ref(xml_id, raise_if_not_found=False):
            return
        rule = (
            self.env["ir.rule"]
            .sudo()
            .create(
                {
                    "name": "Copilot agent: read all helpdesk tickets",
                    "model_id": self.env["ir.model"]._get_id("helpdesk.ticket"),
                    "groups": [(4, group.id)],
                    "domain_force": "[(1, '=', 1)]",
                    "perm_read": True,
                    "perm_write": False,
                    "perm_create": False,
                    "perm_unlink": False,
                }
            )
        )
        self.env["ir.model.data"]._update_xmlids([{"xml_id": xml_id, "record": rule, "noupdate": True}])
