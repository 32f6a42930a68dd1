# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import functools
import json
import logging
from urllib.parse import urlparse

from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..executor_webhook import event_body, post_event
from ..payload_binding import binding_problem, payload_hash

_logger = logging.getLogger(__name__)

GROUP_AGENT = "copilot_approval.group_copilot_agent"
GROUP_APPROVER = "copilot_approval.group_copilot_approver"
GROUP_EXECUTOR = "copilot_approval.group_copilot_executor"

#: ir.config_parameter: comma-separated action types that may be approved by policy (low tier only).
PARAM_PRE_APPROVED = "copilot_approval.pre_approved_action_types"
#: ir.config_parameter: minimum exposure per tier, e.g. "high:10000,critical:50000" (whoever proposes).
PARAM_EXPOSURE_TIERS = "copilot_approval.exposure_tiers"
DEFAULT_EXPOSURE_TIERS = "high:10000,critical:50000"
#: ir.config_parameter: where to tell the copilot's executor that a request was approved (both unset: no call).
PARAM_WEBHOOK_URL = "copilot_approval.executor_webhook_url"
#: ir.config_parameter: the HMAC secret shared with the executor (COPILOT_EXECUTOR_WEBHOOK_SECRET).
PARAM_WEBHOOK_SECRET = "copilot_approval.executor_webhook_secret"  # noqa: S105 (a key, not a secret)

STATES = [
    ("pending", "To Approve"),
    ("approved", "Approved"),
    ("refused", "Refused"),
    ("expired", "Expired"),
    ("executing", "Executing"),
    ("executed", "Executed"),
    ("failed", "Failed"),
]
RISK_TIERS = [
    ("low", "Low"),
    ("medium", "Medium"),
    ("high", "High"),
    ("critical", "Critical"),
]
ACTION_TYPES = [
    ("reschedule_po_line", "Reschedule a PO line"),
    ("reschedule_receipt", "Reschedule a receipt"),
    ("accept_price_change", "Accept a supplier price change"),
    ("substitute_product", "Substitute a product on a PO line"),
    ("reduce_po_line_qty", "Reduce a PO line's quantity (the rest cancelled)"),
    ("expedite", "Expedite (message to the vendor)"),
    ("change_so_commitment", "Change a sale order's delivery date"),
    ("create_return", "Create a return"),
    ("issue_credit_note", "Issue a credit note"),
    ("set_ticket_labels", "Set ticket category, team or priority"),
    ("send_customer_reply", "Send a customer reply"),
]
POLICY_MODES = [
    ("approval", "Approval"),
    ("dual_control", "Dual Control"),
    ("pre_approved", "Pre-approved"),
]
#: Tiers that need two distinct approvers.
DUAL_TIERS = ("high", "critical")
#: What will run: set at creation, never written afterwards (by anyone, administrators included).
BOUND_FIELDS = frozenset({"action_type", "res_model", "res_id", "payload", "payload_hash"})
#: What a person decides on: none of it changes from the first decision on (by anyone).
FROZEN_FIELDS = frozenset(
    {
        *BOUND_FIELDS,
        "name",
        "res_name",
        "target_snapshot",
        "diff",
        "amount",
        "currency_id",
        "risk_tier",
        "policy_mode",
        "idempotency_key",
        "company_id",
        "evidence",
        "source",
        "on_behalf_of",
        "on_behalf_of_user_id",
    }
)
#: Only the buttons set these (they write in superuser mode after their own checks).
WORKFLOW_FIELDS = frozenset(
    {
        "state",
        "decision_ids",
        "approvals_required",
        "requested_by_id",
        "approved_date",
        "executed_date",
        "executed_by_id",
        "execution_outcome",
    }
)
#: What the agent may put on an evidence attachment it sends with a new request.
ATTACHMENT_KEYS = frozenset({"name", "datas", "mimetype", "description"})


class CopilotApprovalRequest(models.Model):
    """An action the copilot proposes; people approve or refuse it; an executor runs it once.

    States: ``pending`` -> ``approved`` | ``refused`` | ``expired``; ``approved`` -> ``executing``
    -> ``executed`` | ``failed`` (``approved`` -> ``failed`` when preconditions no longer hold).
    Every transition is a button (``action_*``) that checks who calls it; plain writes never
    change the state, and what was approved never changes afterwards.
    """

    _name = "copilot.approval.request"
    _description = "Copilot Approval Request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "create_date desc, id desc"

    name = fields.Char(string="Summary", required=True, tracking=True)
    action_type = fields.Selection(selection=ACTION_TYPES, string="Action", required=True, tracking=True)
    res_model = fields.Char(string="Target Model", required=True, index=True)
    res_id = fields.Many2oneReference(string="Target Record ID", model_field="res_model", required=True, index=True)
    res_name = fields.Char(string="Target")
    payload = fields.Json(help="The action's typed parameters, as the copilot proposed them.")
    payload_hash = fields.Char(
        readonly=True,
        copy=False,
        index=True,
        help="SHA-256 of the canonical JSON of (action, target, payload), computed by Odoo at creation: "
        "the executor runs a request only if what it runs has this hash.",
    )
    payload_display = fields.Text(string="Payload (JSON)", compute="_compute_payload_display")
    target_snapshot = fields.Json(help="The target's values the executor re-checks before acting.")
    diff = fields.Text(string="Changes", help="Before and after, as people read it.")
    amount = fields.Monetary(currency_field="currency_id", tracking=True)
    currency_id = fields.Many2one(
        comodel_name="res.currency",
        default=lambda self: self.env.company.currency_id,
    )
    risk_tier = fields.Selection(selection=RISK_TIERS, required=True, default="low", tracking=True)
    policy_mode = fields.Selection(selection=POLICY_MODES, default="approval")
    approvals_required = fields.Integer(compute="_compute_approvals_required", store=True)
    evidence = fields.Json(help="Links to the source e-mail, ticket, Slack thread or record.")
    evidence_html = fields.Html(string="Evidence Links", compute="_compute_evidence_html", sanitize=True)
    attachment_ids = fields.One2many(
        comodel_name="ir.attachment",
        inverse_name="res_id",
        domain=[("res_model", "=", "copilot.approval.request")],
        string="Attachments",
    )
    source = fields.Char(help="The skill that proposed the action, e.g. supplier_email.")
    requested_by_id = fields.Many2one(
        comodel_name="res.users",
        string="Requested by",
        readonly=True,
        default=lambda self: self.env.user,
        index=True,
    )
    on_behalf_of = fields.Char(help="The person who asked the copilot (login, e-mail or name).")
    on_behalf_of_user_id = fields.Many2one(
        comodel_name="res.users",
        string="On Behalf Of (User)",
        help="Set from 'On Behalf Of' when it is a user's login or e-mail; that user cannot approve either.",
    )
    state = fields.Selection(
        selection=STATES,
        string="Status",
        required=True,
        readonly=True,
        default="pending",
        tracking=True,
        index=True,
        copy=False,
    )
    decision_ids = fields.One2many(
        comodel_name="copilot.approval.decision",
        inverse_name="request_id",
        string="Decisions",
        readonly=True,
        copy=False,
    )
    approval_count = fields.Integer(compute="_compute_approval_count")
    can_approve = fields.Boolean(
        string="To Approve by Me",
        compute="_compute_can_approve",
        search="_search_can_approve",
    )
    idempotency_key = fields.Char(required=True, copy=False, index=True)
    expires_at = fields.Datetime(string="Expires", tracking=True)
    approved_date = fields.Datetime(string="Approved on", readonly=True, copy=False)
    executed_date = fields.Datetime(string="Executed on", readonly=True, copy=False)
    executed_by_id = fields.Many2one(comodel_name="res.users", string="Executed by", readonly=True, copy=False)
    execution_outcome = fields.Text(string="Outcome", readonly=True, copy=False)
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        default=lambda self: self.env.company,
        index=True,
    )

    # The idempotency key's UNIQUE constraint and the search method of can_approve are declared in
    # copilot_approval_request_orm.py: Odoo 18 and 19 spell them differently.

    # ------------------------------------------------------------------ computes

    @api.depends("payload")
    def _compute_payload_display(self):
        for rec in self:
            rec.payload_display = json.dumps(rec.payload, indent=2, sort_keys=True) if rec.payload else False

    @api.depends("risk_tier", "policy_mode")
    def _compute_approvals_required(self):
        for rec in self:
            rec.approvals_required = rec._required_approvals()

    def _required_approvals(self):
        """Distinct approvers needed: two for high and critical tiers and under dual control."""
        self.ensure_one()
        return 2 if self.risk_tier in DUAL_TIERS or self.policy_mode == "dual_control" else 1

    @api.depends("evidence")
    def _compute_evidence_html(self):
        for rec in self:
            items = rec.evidence if isinstance(rec.evidence, list) else ([rec.evidence] if rec.evidence else [])
            lines = [self._evidence_line(item) for item in items]
            rec.evidence_html = Markup("<ul>%s</ul>") % Markup("").join(lines) if lines else False

    @api.model
    def _evidence_line(self, item):
        """One evidence item as a list entry; only http(s) links are clickable."""
        if not isinstance(item, dict):
            return Markup("<li>%s</li>") % str(item)
        label = item.get("label") or item.get("url") or item.get("kind") or self.env._("evidence")
        kind = item.get("kind")
        text = f"{kind}: {label}" if kind else str(label)
        url = item.get("url")
        if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
            return Markup('<li><a href="%s" target="_blank" rel="noopener noreferrer">%s</a></li>') % (url, text)
        if item.get("model") and item.get("res_id"):
            text = f"{text} ({item['model']}, {item['res_id']})"
        return Markup("<li>%s</li>") % text

    @api.depends("decision_ids.decision", "decision_ids.user_id")
    def _compute_approval_count(self):
        for rec in self:
            rec.approval_count = len(rec._approvers())

    @api.depends_context("uid")
    @api.depends("state", "requested_by_id", "decision_ids.user_id", "expires_at")
    def _compute_can_approve(self):
        user = self.env.user
        allowed = self._user_may_approve(user)
        now = fields.Datetime.now()
        for rec in self:
            rec.can_approve = bool(
                allowed
                and rec.state == "pending"
                and not rec._is_requester(user)
                and user not in rec._approvers()
                and not (rec.expires_at and rec.expires_at <= now)
            )

    def _can_approve_domain(self):
        """The requests the current user may approve now, as a domain (what 'To approve by me' finds)."""
        user = self.env.user
        if not self._user_may_approve(user):
            return [("id", "=", 0)]
        decided = self.env["copilot.approval.decision"].sudo()._search([("user_id", "=", user.id)])
        return [
            ("state", "=", "pending"),
            ("requested_by_id", "!=", user.id),
            ("create_uid", "!=", user.id),
            "|",
            ("on_behalf_of_user_id", "=", False),
            ("on_behalf_of_user_id", "!=", user.id),
            "|",
            ("expires_at", "=", False),
            ("expires_at", ">", fields.Datetime.now()),
            ("id", "not in", decided.subselect("request_id")),
        ]

    # ------------------------------------------------------------------ helpers

    def _approvers(self):
        """The distinct users who approved this request."""
        self.ensure_one()
        return self.decision_ids.filtered(lambda d: d.decision == "approve").user_id

    def _is_requester(self, user):
        self.ensure_one()
        return user in (self.requested_by_id | self.create_uid | self.on_behalf_of_user_id)

    @api.model
    def _user_may_approve(self, user):
        return user.has_group(GROUP_APPROVER) and not user.has_group(GROUP_AGENT)

    def _check_group(self, group, verb):
        """Raise unless the current user is in ``group`` and not a Copilot agent."""
        user = self.env.user
        if user.has_group(GROUP_AGENT):
            raise AccessError(self.env._("The Copilot agent cannot %(verb)s copilot approval requests.", verb=verb))
        if not user.has_group(group):
            group_name = self.env.ref(group).name
            raise AccessError(
                self.env._(
                    "Only members of '%(group)s' can %(verb)s copilot approval requests.", group=group_name, verb=verb
                )
            )

    def _lock(self):
        """Serialize decisions on these requests: a concurrent transition fails and is retried by Odoo."""
        self.check_access("read")
        self.flush_recordset()
        self.env.cr.execute(
            "UPDATE copilot_approval_request SET write_date = write_date WHERE id IN %s",
            [tuple(self.ids)],
        )

    def _is_expired(self):
        self.ensure_one()
        return bool(self.expires_at) and self.expires_at <= fields.Datetime.now()

    def _add_decision(self, decision, comment=None):
        self.ensure_one()
        return (
            self.env["copilot.approval.decision"]
            .sudo()
            .create(
                {
                    "request_id": self.id,
                    "user_id": self.env.uid,
                    "decision": decision,
                    "comment": comment or False,
                }
            )
        )

    def _set_workflow(self, values):
        """Write workflow fields (superuser mode, so only the buttons can)."""
        return self.sudo().write(values)

    def _post_note(self, body):
        self.sudo().message_post(body=body, subtype_xmlid="mail.mt_note")

    @api.model
    def _pre_approved_action_types(self):
        value = self.env["ir.config_parameter"].sudo().get_param(PARAM_PRE_APPROVED, "")
        return {part.strip() for part in value.split(",") if part.strip()}

    @api.model
    def _executor_webhook(self):
        """(url, secret) of the executor's webhook, or None when either parameter is unset or the URL is not http(s)."""
        params = self.env["ir.config_parameter"].sudo()
        url = (params.get_param(PARAM_WEBHOOK_URL) or "").strip()
        secret = (params.get_param(PARAM_WEBHOOK_SECRET) or "").strip()
        if not url or not secret:
            return None
        if urlparse(url).scheme not in ("http", "https"):
            _logger.warning("%s is not an http(s) URL; the executor is not notified", PARAM_WEBHOOK_URL)
            return None
        return url, secret

    def _notify_executor(self):
        """After the commit, tell the executor (if configured) that these requests are approved.

        Runs as a post-commit callback: nothing is sent if the transaction rolls back, and a slow or
        failing executor never blocks or undoes the approval (it is logged; the executor polls anyway).
        """
        webhook = self._executor_webhook()
        if webhook is None:
            return
        url, secret = webhook
        db = self.env.cr.dbname
        for rec in self:
            body = event_body(rec.id, rec.state, db)
            self.env.cr.postcommit.add(functools.partial(post_event, url, secret, body))

    # ------------------------------------------------------------------ ORM

    @api.model_create_multi
    def create(self, vals_list):
        attachments = []
        for vals in vals_list:
            if not self.env.su:
                touched = sorted(set(vals) & WORKFLOW_FIELDS)
                if touched:
                    raise UserError(
                        self.env._(
                            "A new approval request always starts as 'To Approve'; its buttons set %(fields)s.",
                            fields=", ".join(touched),
                        )
                    )
                vals["requested_by_id"] = self.env.uid
            self._bind_payload(vals)
            vals.update(self._derive_from_target(vals))
            if vals.get("policy_mode") == "pre_approved":
                self._check_pre_approval(vals)
            vals["on_behalf_of_user_id"] = self._find_user(vals.get("on_behalf_of")).id or False
            attachments.append(vals.pop("attachment_ids", None))
        records = super().create(vals_list)
        for rec, commands in zip(records, attachments, strict=True):
            if commands:
                rec._create_evidence_attachments(commands)
        for rec in records.filtered(lambda r: r.policy_mode == "pre_approved"):
            rec._add_decision("policy", self.env._("Approved by policy (pre-approved action type, low tier)."))
            rec._set_workflow({"state": "approved", "approved_date": fields.Datetime.now()})
            rec._notify_executor()
        return records

    @api.model
    def _bind_payload(self, vals):
        """Check that a copilot payload changes the request's own target; store the payload's hash.

        The hash is Odoo's own computation: a hash sent by the creator must equal it (a transport or
        a client that changed the payload on the way is refused), and it never changes afterwards.
        """
        action, model, res_id = vals.get("action_type"), vals.get("res_model"), vals.get("res_id") or 0
        payload = vals.get("payload")
        problem = binding_problem(action, model, res_id, payload)
        if problem is None and model == "purchase.order.line" and model in self.env:
            inner = payload.get("payload") if isinstance(payload, dict) else None
            if isinstance(inner, dict):
                line = self.env[model].sudo().browse(res_id).exists()
                if not line or line.order_id.id != inner.get("po_id"):
                    problem = self.env._(
                        "PO line %(line)s does not belong to purchase order %(po)s", line=res_id, po=inner.get("po_id")
                    )
        if problem:
            raise ValidationError(
                self.env._("Every record in a payload must belong to its target: %(problem)s.", problem=problem)
            )
        self._check_stored_as_sent(payload)
        digest = payload_hash(action, model, res_id, payload)
        if vals.get("payload_hash") and vals["payload_hash"] != digest:
            raise UserError(self.env._("The payload hash does not match the payload: the request was not created."))
        vals["payload_hash"] = digest

    @api.model
    def _check_stored_as_sent(self, payload):
        """Refuse a payload that PostgreSQL's jsonb would give back changed (its hash would never match again).

        jsonb stores numbers as decimals: -0.0 comes back as 0.0 and 1e+16 as the integer 10000000000000000,
        so the executor, hashing what it reads, would refuse the approved request forever.
        """
        if not payload:
            return
        try:
            sent = json.dumps(payload, sort_keys=True, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationError(self.env._("The payload is not plain JSON: %(error)s.", error=exc)) from None
        self.env.cr.execute("SELECT %s::jsonb", [sent])
        stored = json.dumps(self.env.cr.fetchone()[0], sort_keys=True, ensure_ascii=False, allow_nan=False)
        if stored != sent:
            raise ValidationError(
                self.env._(
                    "The payload would not be stored as sent (PostgreSQL rewrites numbers such as -0.0 or 1e+16), "
                    "so what was approved could never be checked: send plain decimal numbers."
                )
            )

    @api.model
    def _exposure_tiers(self):
        """[(tier, minimum exposure)] from the system parameter (malformed parts are ignored)."""
        value = self.env["ir.config_parameter"].sudo().get_param(PARAM_EXPOSURE_TIERS, DEFAULT_EXPOSURE_TIERS)
        out = []
        for part in (value or "").split(","):
            tier, _sep, minimum = part.partition(":")
            try:
                out.append((tier.strip(), float(minimum)))
            except ValueError:
                continue
        return [(tier, minimum) for tier, minimum in out if tier in dict(RISK_TIERS)]

    @api.model
    def _derive_from_target(self, vals):
        """What Odoo states itself about a price change, whoever created the request: the title, the
        diff, the exposure (|new - current price| x open quantity) and at least the tier it calls for."""
        payload = vals.get("payload")
        inner = payload.get("payload") if isinstance(payload, dict) else None
        model = "purchase.order.line"
        if vals.get("action_type") != "accept_price_change" or not isinstance(inner, dict) or model not in self.env:
            return {}
        line = self.env[model].sudo().browse(vals.get("res_id") or 0).exists()
        try:
            new = float(inner.get("new_price"))
        except (TypeError, ValueError):
            raise ValidationError(self.env._("A price change needs a numeric new_price.")) from None
        if not line:
            raise ValidationError(self.env._("The purchase order line of this price change does not exist."))
        old = line.price_unit
        open_qty = max(line.product_qty - line.qty_received, 0.0)
        exposure = round(abs(new - old) * open_qty, 2)
        product = ((line.name or "").strip().splitlines() or [""])[0][:80]
        ranks = [key for key, _label in RISK_TIERS]
        tier = vals.get("risk_tier") if vals.get("risk_tier") in ranks else "low"
        for level, minimum in self._exposure_tiers():
            if exposure >= minimum and ranks.index(level) > ranks.index(tier):
                tier = level
        currency = line.currency_id
        return {
            "name": f"Accept {line.order_id.name} {product} at {new:,.2f} {currency.name or ''}".strip(),
            "diff": f"Unit price: {old:,.2f} -> {new:,.2f}",
            "amount": exposure,
            "currency_id": currency.id or vals.get("currency_id"),
            "risk_tier": tier,
        }

    @api.model
    def _check_pre_approval(self, vals):
        action_type = vals.get("action_type")
        tier = vals.get("risk_tier") or "low"
        if action_type not in self._pre_approved_action_types() or tier != "low":
            raise UserError(
                self.env._(
                    "Pre-approval is not allowed for %(action)s at tier %(tier)s: an administrator "
                    "allows it per action type, for the low tier only.",
                    action=action_type,
                    tier=tier,
                )
            )
        if not self.env.user.has_group(GROUP_AGENT) or str(vals.get("source") or "").startswith("api"):
            raise UserError(
                self.env._(
                    "Pre-approval is only for the copilot's own proposals: a request from a person or an "
                    "API client needs an approver."
                )
            )

    @api.model
    def _find_user(self, login_or_email):
        """The user whose login or e-mail is exactly ``login_or_email``, ignoring case (never a pattern)."""
        wanted = (login_or_email or "").strip()
        users = self.env["res.users"].sudo().with_context(active_test=False)
        if not wanted:
            return users.browse()
        escaped = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        candidates = users.search(["|", ("login", "=ilike", escaped), ("email", "=ilike", escaped)], order="id")
        folded = wanted.casefold()
        exact = candidates.filtered(
            lambda u: folded in ((u.login or "").strip().casefold(), (u.email or "").strip().casefold())
        )
        return exact[:1]

    def _create_evidence_attachments(self, commands):
        """Store the evidence files sent with a new request (the agent may not write the request)."""
        self.ensure_one()
        vals_list = []
        for command in commands:
            if not (isinstance(command, list | tuple) and len(command) == 3 and command[0] == 0):
                raise UserError(
                    self.env._("Evidence attachments can only be created with the request: (0, 0, values).")
                )
            values = command[2] or {}
            extra = sorted(set(values) - ATTACHMENT_KEYS)
            if extra:
                raise UserError(self.env._("Evidence attachments cannot set %(fields)s.", fields=", ".join(extra)))
            vals_list.append({**values, "res_model": self._name, "res_id": self.id})
        return self.env["ir.attachment"].sudo().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            touched = sorted(set(vals) & WORKFLOW_FIELDS)
            if touched:
                raise UserError(
                    self.env._("Use the request's buttons to change %(fields)s.", fields=", ".join(touched))
                )
        bound = sorted(set(vals) & BOUND_FIELDS)
        if bound:
            raise UserError(
                self.env._(
                    "Request %(name)s: its payload is frozen from its creation (%(fields)s).",
                    name=self[:1].name,
                    fields=", ".join(bound),
                )
            )
        frozen = sorted(set(vals) & FROZEN_FIELDS)
        if frozen:
            locked = self.filtered(lambda r: r.state != "pending" or r.decision_ids)
            if locked:
                raise UserError(
                    self.env._(
                        "Request %(name)s has a decision (%(state)s): what was proposed is frozen (%(fields)s).",
                        name=locked[0].name,
                        state=dict(STATES)[locked[0].state],
                        fields=", ".join(frozen),
                    )
                )
        if "on_behalf_of" in vals:  # the person who asked can never approve: keep the user in step
            vals["on_behalf_of_user_id"] = self._find_user(vals["on_behalf_of"]).id or False
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_undecided(self):
        if any(rec.state != "pending" or rec.decision_ids for rec in self):
            raise UserError(self.env._("Decided approval requests are an audit trail: they cannot be deleted."))

    @api.constrains("state", "decision_ids")
    def _check_quorum(self):
        """An approved (or later) request has enough distinct approvers, none of them the requester."""
        for rec in self:
            if rec.state in ("pending", "refused", "expired") or (rec.state == "failed" and not rec.approved_date):
                continue
            if rec.decision_ids.filtered(lambda d: d.decision == "policy"):
                continue
            approvers = rec._approvers()
            if any(rec._is_requester(user) for user in approvers):
                raise ValidationError(self.env._("The requester of %(name)s cannot approve it.", name=rec.name))
            if len(approvers) < rec._required_approvals():
                raise ValidationError(
                    self.env._(
                        "%(name)s needs %(required)s distinct approvers, it has %(count)s.",
                        name=rec.name,
                        required=rec._required_approvals(),
                        count=len(approvers),
                    )
                )

    @api.constrains("res_model")
    def _check_res_model(self):
        for rec in self:
            if rec.res_model not in self.env:
                raise ValidationError(self.env._("Unknown target model %(model)s.", model=rec.res_model))

    # ------------------------------------------------------------------ buttons

    def action_approve(self, comment=None):
        """Approve: an approver who did not request it, once each, before expiry."""
        self._check_group(GROUP_APPROVER, self.env._("approve"))
        self._lock()
        user = self.env.user
        for rec in self:
            if rec.state != "pending":
                raise UserError(
                    self.env._(
                        "Only a request to approve can be approved; %(name)s is %(state)s.",
                        name=rec.name,
                        state=rec.state,
                    )
                )
            if rec._is_expired():
                raise UserError(
                    self.env._(
                        "%(name)s has expired and can no longer be approved; ask for a new proposal.", name=rec.name
                    )
                )
            if rec._is_requester(user):
                raise UserError(self.env._("You requested %(name)s: someone else must approve it.", name=rec.name))
            if user in rec._approvers():
                raise UserError(
                    self.env._("You already approved %(name)s; a second, different approver is needed.", name=rec.name)
                )
            rec._add_decision("approve", comment)
            if len(rec._approvers()) >= rec._required_approvals():
                rec._set_workflow({"state": "approved", "approved_date": fields.Datetime.now()})
                rec._notify_executor()
            else:
                rec._post_note(
                    self.env._(
                        "Approved by %(user)s (%(count)s of %(required)s).",
                        user=user.name,
                        count=len(rec._approvers()),
                        required=rec._required_approvals(),
                    )
                )
        return True

    def action_refuse(self, comment=None):
        """Refuse: any approver, while the request is pending."""
        self._check_group(GROUP_APPROVER, self.env._("refuse"))
        self._lock()
        for rec in self:
            if rec.state != "pending":
                raise UserError(
                    self.env._(
                        "Only a request to approve can be refused; %(name)s is %(state)s.",
                        name=rec.name,
                        state=rec.state,
                    )
                )
            rec._add_decision("refuse", comment)
            rec._set_workflow({"state": "refused"})
            if comment:
                rec._post_note(self.env._("Refused: %(comment)s", comment=comment))
        return True

    def _executor_step(self, allowed_from, verb):
        self._check_group(GROUP_EXECUTOR, verb)
        self._lock()
        for rec in self:
            if rec.state not in allowed_from:
                raise UserError(
                    self.env._(
                        "Cannot %(verb)s %(name)s: it is %(state)s (expected %(expected)s).",
                        verb=verb,
                        name=rec.name,
                        state=rec.state,
                        expected=" or ".join(allowed_from),
                    )
                )

    def action_start_execution(self):
        """Claim approved requests for execution (approved -> executing): one executor wins."""
        self._executor_step(("approved",), self.env._("execute"))
        self._set_workflow({"state": "executing", "executed_by_id": self.env.uid})
        return True

    def action_mark_executed(self, outcome=""):
        """Record success (executing -> executed) and tell the followers."""
        self._executor_step(("executing",), self.env._("finish"))
        self._set_workflow(
            {
                "state": "executed",
                "executed_date": fields.Datetime.now(),
                "execution_outcome": outcome or self.env._("done"),
            }
        )
        for rec in self:
            rec._post_note(self.env._("Executed: %(outcome)s", outcome=rec.execution_outcome))
        return True

    def action_mark_failed(self, reason=""):
        """Record failure (approved or executing -> failed), with the reason."""
        self._executor_step(("approved", "executing"), self.env._("fail"))
        self._set_workflow(
            {
                "state": "failed",
                "executed_date": fields.Datetime.now(),
                "executed_by_id": self.env.uid,
                "execution_outcome": reason or self.env._("failed"),
            }
        )
        for rec in self:
            rec._post_note(self.env._("Not executed: %(reason)s", reason=rec.execution_outcome))
        return True

    def action_expire(self):
        """Close pending requests past their expiry (approvers, executors, and the cron)."""
        user = self.env.user
        may_expire = self._user_may_approve(user) or user.has_group(GROUP_EXECUTOR)
        if not self.env.su and (user.has_group(GROUP_AGENT) or not may_expire):
            raise AccessError(self.env._("Only Copilot approvers and executors can expire copilot approval requests."))
        self._lock()
        for rec in self:
            if rec.state != "pending" or not rec._is_expired():
                raise UserError(
                    self.env._("Only a pending request past its expiry can be expired (%(name)s).", name=rec.name)
                )
        self._set_workflow({"state": "expired"})
        return True

    def action_open_target(self):
        """Open the record the action changes."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "target": "current",
        }

    @api.model
    def _cron_expire_requests(self):
        """Mark pending requests past their expiry as expired."""
        expired = self.sudo().search([("state", "=", "pending"), ("expires_at", "<=", fields.Datetime.now())])
        if expired:
            expired.action_expire()
        return len(expired)
