# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import math

from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

GROUP_AGENT = "copilot_approval.group_copilot_agent"
GROUP_APPROVER = "copilot_approval.group_copilot_approver"
GROUP_SYSTEM = "base.group_system"

#: Worst first, as the copilot's controls rank them.
SEVERITIES = [
    ("critical", "Critical"),
    ("high", "High"),
    ("medium", "Medium"),
    ("low", "Low"),
]
EXCEPTION_STATES = [
    ("open", "Open"),
    ("acknowledged", "Acknowledged"),
    ("snoozed", "Snoozed"),
    ("closed", "Closed"),
]
#: What the copilot may set through ``copilot_sync`` (nothing else, ever; nobody writes these otherwise).
SYNC_FIELDS = frozenset(
    {
        "key",
        "control",
        "severity",
        "score",
        "title",
        "reason",
        "state",
        "owner",
        "record_model",
        "record_id",
        "record_name",
        "record_url",
        "evidence",
        "factors",
        "first_seen",
        "last_seen",
        "snoozed_until",
    }
)
#: Needed to create an exception (an update names only what changed, plus its key and control).
SYNC_REQUIRED_ON_CREATE = frozenset({"key", "control", "severity", "title"})
#: The states the copilot may send: only a person acknowledges (``action_acknowledge``).
SYNC_STATES = ("open", "snoozed", "closed")
#: What ``action_acknowledge`` writes, and nothing else.
ACKNOWLEDGE_FIELDS = frozenset({"state", "acknowledged_by", "acknowledged_at"})
#: The states a person may acknowledge.
ACKNOWLEDGEABLE_STATES = ("open", "snoozed")
#: At most this many exceptions per ``copilot_sync`` call.
SYNC_BATCH_LIMIT = 1000
#: The environment flag of the two writers (``copilot_sync``, ``action_acknowledge``); set only in superuser mode.
_WRITER = "copilot_exception_writer"


def _json_text(value):
    """JSON shown to people: indented, keys sorted."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


class CopilotException(models.Model):
    """An exception a copilot control found (a late receipt, an order at risk, an aging ticket...).

    The copilot's technical user creates and updates them through ``copilot_sync`` only (upsert by control
    and key, whitelisted fields); people read them, and a Copilot approver or an administrator acknowledges
    one with ``action_acknowledge``. No one writes, creates or deletes them otherwise.
    """

    _name = "copilot.exception"
    _description = "Copilot Exception"
    _order = "severity_rank, first_seen, id"
    _rec_name = "title"

    key = fields.Char(required=True, readonly=True, index=True, help="Stable identity across runs, e.g. sale.order:24")
    control = fields.Char(required=True, readonly=True, index=True, help="The control that found it")
    severity = fields.Selection(selection=SEVERITIES, required=True, readonly=True, group_expand=True)
    severity_rank = fields.Integer(compute="_compute_severity_rank", store=True, index=True)
    score = fields.Float(readonly=True, digits=(16, 3), help="Higher is worse")
    title = fields.Char(required=True, readonly=True)
    reason = fields.Text(readonly=True)
    state = fields.Selection(
        selection=EXCEPTION_STATES,
        string="Status",
        required=True,
        readonly=True,
        default="open",
        index=True,
    )
    owner = fields.Char(readonly=True, help="The role or Slack channel the copilot sends it to")
    record_model = fields.Char(readonly=True)
    record_id = fields.Many2oneReference(string="Record ID", model_field="record_model", readonly=True)
    record_name = fields.Char(string="Record", readonly=True)
    record_url = fields.Char(string="Record Link", readonly=True)
    evidence = fields.Json(readonly=True, help="The records the finding relies on, as the copilot cites them")
    factors = fields.Json(readonly=True, help="Each factor of the score and its contribution")
    evidence_html = fields.Html(string="Evidence Links", compute="_compute_evidence_html", sanitize=True)
    factors_html = fields.Html(string="Why", compute="_compute_factors_html", sanitize=True)
    evidence_display = fields.Text(string="Evidence (JSON)", compute="_compute_evidence_display")
    first_seen = fields.Datetime(readonly=True, index=True)
    last_seen = fields.Datetime(readonly=True)
    age_days = fields.Float(string="Age (days)", compute="_compute_age_days", digits=(16, 1))
    snoozed_until = fields.Datetime(readonly=True)
    closed_at = fields.Datetime(readonly=True)
    acknowledged_by = fields.Many2one(comodel_name="res.users", readonly=True, index=True)
    acknowledged_at = fields.Datetime(readonly=True)
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
        index=True,
    )

    # The (company, control, key) UNIQUE constraint is in copilot_exception_orm.py: Odoo 18 and 19 spell it
    # differently.

    # ------------------------------------------------------------------ computes

    @api.depends("severity")
    def _compute_severity_rank(self):
        ranks = {key: rank for rank, (key, _label) in enumerate(SEVERITIES)}
        for rec in self:
            rec.severity_rank = ranks.get(rec.severity, len(ranks))

    @api.depends("first_seen")
    def _compute_age_days(self):
        now = fields.Datetime.now()
        for rec in self:
            start = rec.first_seen or rec.create_date
            rec.age_days = round((now - start).total_seconds() / 86400.0, 1) if start else 0.0

    @api.depends("evidence")
    def _compute_evidence_display(self):
        for rec in self:
            rec.evidence_display = _json_text(rec.evidence) if rec.evidence else False

    @api.depends("evidence", "record_url", "record_name")
    def _compute_evidence_html(self):
        for rec in self:
            items = rec.evidence if isinstance(rec.evidence, list) else ([rec.evidence] if rec.evidence else [])
            lines = [self._evidence_line(item) for item in items]
            rec.evidence_html = Markup("<ul>%s</ul>") % Markup("").join(lines) if lines else False

    @api.model
    def _evidence_line(self, item):
        """One cited record (or link) as a list entry; only http(s) links are clickable."""
        if not isinstance(item, dict):
            return Markup("<li>%s</li>") % str(item)
        label = item.get("display_name") or item.get("label") or item.get("url") or self.env._("evidence")
        model, res_id = item.get("model"), item.get("id") or item.get("res_id")
        text = f"{label} ({model}, {res_id})" if model and res_id else str(label)
        url = item.get("url")
        if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
            return Markup('<li><a href="%s" target="_blank" rel="noopener noreferrer">%s</a></li>') % (url, text)
        return Markup("<li>%s</li>") % text

    @api.depends("factors")
    def _compute_factors_html(self):
        for rec in self:
            rows = [f for f in (rec.factors if isinstance(rec.factors, list) else []) if isinstance(f, dict)]
            if not rows:
                rec.factors_html = False
                continue
            body = Markup("").join(
                Markup("<tr><td>%s</td><td>%s</td><td class='text-end'>%s</td></tr>")
                % (
                    str(f.get("label") or f.get("name") or ""),
                    "" if f.get("value") is None else str(f.get("value")),
                    self._signed(f.get("contribution")),
                )
                for f in rows
            )
            head = Markup("<tr><th>%s</th><th>%s</th><th class='text-end'>%s</th></tr>") % (
                self.env._("Factor"),
                self.env._("Value"),
                self.env._("Contribution"),
            )
            rec.factors_html = Markup("<table class='table table-sm'><thead>%s</thead><tbody>%s</tbody></table>") % (
                head,
                body,
            )

    @staticmethod
    def _signed(value):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return ""
        return f"{number:+.2f}"

    # ------------------------------------------------------------------ who may do what

    @api.model
    def _user_may_acknowledge(self, user):
        """A Copilot approver or an administrator, never the copilot's own account."""
        if user.has_group(GROUP_AGENT):
            return False
        return user.has_group(GROUP_APPROVER) or user.has_group(GROUP_SYSTEM)

    def _writer(self):
        """The environment the two writers use (superuser mode and the writer flag)."""
        return self.sudo().with_context(**{_WRITER: True})

    def _is_writer(self):
        return self.env.su and bool(self.env.context.get(_WRITER))

    # ------------------------------------------------------------------ no generic writes

    @api.model_create_multi
    def create(self, vals_list):
        if not self._is_writer():
            raise AccessError(self.env._("Copilot exceptions are created by the copilot only (copilot_sync)."))
        return super().create(vals_list)

    def write(self, vals):
        if not self._is_writer():
            raise AccessError(
                self.env._(
                    "Copilot exceptions are updated by the copilot only (copilot_sync); people acknowledge them "
                    "with the Acknowledge button."
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------------ the copilot's upsert

    @api.model
    def copilot_sync(self, vals_list):
        """Create or update the copilot's exceptions, by (control, key); returns their ids (False: nothing to do).

        Only the Copilot agent calls it. Each dict names only ``SYNC_FIELDS``; a new exception needs
        ``SYNC_REQUIRED_ON_CREATE``; ``state`` is one of ``SYNC_STATES`` (a person acknowledges, never the
        copilot). An update never reopens an acknowledged exception (it stays acknowledged until the problem
        is gone: then the copilot closes it); a closed one that comes back is open again, unacknowledged.
        A closing of an exception Odoo never had is ignored.
        """
        user = self.env.user
        if not user.has_group(GROUP_AGENT):
            raise AccessError(self.env._("Only the Copilot agent can sync copilot exceptions."))
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        if not isinstance(vals_list, list | tuple):
            raise UserError(self.env._("copilot_sync takes a list of exceptions."))
        if len(vals_list) > SYNC_BATCH_LIMIT:
            raise UserError(
                self.env._("copilot_sync takes at most %(limit)s exceptions per call.", limit=SYNC_BATCH_LIMIT)
            )
        cleaned = [self._sync_values(vals) for vals in vals_list]
        company = self.env.company
        writer = self._writer().with_company(company)
        existing = {
            (rec.control, rec.key): rec
            for rec in writer.search(
                [
                    ("company_id", "=", company.id),
                    ("key", "in", [v["key"] for v in cleaned]),
                    ("control", "in", list({v["control"] for v in cleaned})),
                ]
            )
        }
        now = fields.Datetime.now()
        ids = []
        for vals in cleaned:
            rec = existing.get((vals["control"], vals["key"]))
            if rec:
                rec.write(self._update_values(rec, vals, now))
                ids.append(rec.id)
                continue
            if vals.get("state") == "closed":
                ids.append(False)
                continue
            missing = sorted(SYNC_REQUIRED_ON_CREATE - {k for k, v in vals.items() if v not in (None, False, "")})
            if missing:
                raise ValidationError(
                    self.env._("A new copilot exception needs %(fields)s.", fields=", ".join(missing))
                )
            new = writer.create(
                {
                    **vals,
                    "company_id": company.id,
                    "first_seen": vals.get("first_seen") or now,
                    "last_seen": vals.get("last_seen") or now,
                }
            )
            existing[(vals["control"], vals["key"])] = new
            ids.append(new.id)
        return ids

    @api.model
    def _sync_values(self, vals):
        """One exception's values, checked: known fields only, valid severity, state, link and JSON."""
        if not isinstance(vals, dict):
            raise UserError(self.env._("Each exception is a dict of values."))
        extra = sorted(set(vals) - SYNC_FIELDS)
        if extra:
            raise UserError(self.env._("copilot_sync cannot set %(fields)s.", fields=", ".join(extra)))
        out = dict(vals)
        for name in ("key", "control"):
            if not isinstance(out.get(name), str) or not out[name].strip():
                raise ValidationError(self.env._("Each exception needs a %(field)s.", field=name))
        if "severity" in out and out["severity"] not in dict(SEVERITIES):
            raise ValidationError(self.env._("Unknown severity %(severity)s.", severity=out["severity"]))
        if "state" in out and out["state"] not in SYNC_STATES:
            raise ValidationError(
                self.env._(
                    "The copilot sets the state to %(states)s only: people acknowledge.", states=", ".join(SYNC_STATES)
                )
            )
        if "score" in out:
            try:
                score = float(out["score"])
            except (TypeError, ValueError):
                raise ValidationError(self.env._("The score is a number.")) from None
            if not math.isfinite(score) or score < 0:
                raise ValidationError(self.env._("The score is a finite number, zero or more."))
            out["score"] = score
        url = out.get("record_url")
        if url and not (isinstance(url, str) and url.lower().startswith(("http://", "https://"))):
            raise ValidationError(self.env._("The record link must be an http(s) URL."))
        for name in ("evidence", "factors"):
            if out.get(name) not in (None, False) and not isinstance(out[name], list):
                raise ValidationError(self.env._("%(field)s is a list.", field=name))
        return out

    @api.model
    def _update_values(self, rec, vals, now):
        """What an update writes: the sent values, with the acknowledgement rules applied."""
        out = {name: value for name, value in vals.items() if name not in ("key", "control")}
        out["last_seen"] = vals.get("last_seen") or now
        out.pop("first_seen", None)  # when it was first seen never moves
        state = vals.get("state")
        if rec.state == "acknowledged" and state in ("open", "snoozed"):
            out.pop("state")  # the person's acknowledgement stands until the problem is gone
        elif rec.state == "closed" and state in ("open", None):
            out.update(
                state="open",
                first_seen=vals.get("first_seen") or now,
                acknowledged_by=False,
                acknowledged_at=False,
                closed_at=False,
            )
        if state == "closed" and rec.state != "closed":
            out["closed_at"] = now
        if out.get("state", rec.state) != "snoozed":
            out["snoozed_until"] = False
        return out

    # ------------------------------------------------------------------ buttons

    def action_acknowledge(self):
        """Acknowledge: a Copilot approver or an administrator, on open or snoozed exceptions."""
        user = self.env.user
        if not self._user_may_acknowledge(user):
            raise AccessError(
                self.env._("Only Copilot approvers and administrators can acknowledge copilot exceptions.")
            )
        self.check_access("read")
        for rec in self:
            if rec.state not in ACKNOWLEDGEABLE_STATES:
                raise UserError(
                    self.env._(
                        "Only an open or snoozed exception can be acknowledged; %(title)s is %(state)s.",
                        title=rec.title,
                        state=dict(EXCEPTION_STATES)[rec.state],
                    )
                )
        self._writer().write(
            {"state": "acknowledged", "acknowledged_by": user.id, "acknowledged_at": fields.Datetime.now()}
        )
        return True

    def action_open_record(self):
        """Open the record the exception is about (people's own access rights apply)."""
        self.ensure_one()
        if not self.record_model or not self.record_id or self.record_model not in self.env:
            if self.record_url:
                return {"type": "ir.actions.act_url", "url": self.record_url, "target": "new"}
            raise UserError(self.env._("This exception names no record."))
        return {
            "type": "ir.actions.act_window",
            "res_model": self.record_model,
            "res_id": self.record_id,
            "view_mode": "form",
            "target": "current",
        }
