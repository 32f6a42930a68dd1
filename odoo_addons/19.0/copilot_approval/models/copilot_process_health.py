# Copyright 2026 Odoo Ops Copilot contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models, tools

from .copilot_approval_request import ACTION_TYPES

METRICS = [
    ("open_exceptions", "Open exceptions by age"),
    ("approval_cycle", "Approval cycle time (hours)"),
    ("expired", "Requests expired"),
    ("executor_failed", "Executor failures"),
]
#: Open (or snoozed) exceptions by time since first seen; the SQL below uses the same keys and limits.
AGE_BUCKETS = [
    ("1_under_1d", "< 1 day"),
    ("2_1_3d", "1-3 days"),
    ("3_3_7d", "3-7 days"),
    ("4_7_30d", "7-30 days"),
    ("5_over_30d", "> 30 days"),
]

#: One row per company and figure. Cycle time: from the request's creation to the decision that closed it
#: (approval or refusal; decisions by policy are not a person's and are left out), in hours. Datetimes are
#: stored in UTC without a time zone, so "now" is taken in UTC too.
_QUERY = """
CREATE OR REPLACE VIEW copilot_process_health AS (
    WITH exception_age AS (
        SELECT e.company_id,
               e.control,
               EXTRACT(EPOCH FROM ((now() AT TIME ZONE 'UTC') - COALESCE(e.first_seen, e.create_date))) / 86400.0
                   AS days
          FROM copilot_exception e
         WHERE e.state IN ('open', 'snoozed')
    ),
    cycle AS (
        SELECT r.company_id,
               r.action_type,
               EXTRACT(EPOCH FROM (MAX(d.date) - r.create_date)) / 3600.0 AS hours
          FROM copilot_approval_request r
          JOIN copilot_approval_decision d ON d.request_id = r.id AND d.decision IN ('approve', 'refuse')
         WHERE r.state NOT IN ('pending', 'expired')
         GROUP BY r.id, r.company_id, r.action_type, r.create_date
    ),
    figures AS (
        SELECT 'open_exceptions'::varchar AS metric,
               CASE WHEN days < 1 THEN '1_under_1d'
                    WHEN days < 3 THEN '2_1_3d'
                    WHEN days < 7 THEN '3_3_7d'
                    WHEN days < 30 THEN '4_7_30d'
                    ELSE '5_over_30d' END::varchar AS age_bucket,
               NULL::varchar AS action_type,
               control,
               company_id,
               COUNT(*)::integer AS count,
               NULL::double precision AS median_hours,
               NULL::double precision AS p90_hours
          FROM exception_age
         GROUP BY 2, control, company_id
        UNION ALL
        SELECT 'approval_cycle', NULL, action_type, NULL, company_id, COUNT(*)::integer,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY hours),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY hours)
          FROM cycle
         GROUP BY action_type, company_id
        UNION ALL
        SELECT 'expired', NULL, action_type, NULL, company_id, COUNT(*)::integer, NULL, NULL
          FROM copilot_approval_request
         WHERE state = 'expired'
         GROUP BY action_type, company_id
        UNION ALL
        SELECT 'executor_failed', NULL, action_type, NULL, company_id, COUNT(*)::integer, NULL, NULL
          FROM copilot_approval_request
         WHERE state = 'failed'
         GROUP BY action_type, company_id
    )
    SELECT (ROW_NUMBER() OVER (ORDER BY metric, age_bucket, action_type, control, company_id))::integer AS id,
           metric, age_bucket, action_type, control, company_id, count, median_hours, p90_hours
      FROM figures
)
"""


class CopilotProcessHealth(models.Model):
    """Process health for managers: open exceptions by age, approval cycle times, expiries, executor failures.

    A read-only SQL view over the exceptions and the approval requests, computed when it is read.
    """

    _name = "copilot.process.health"
    _description = "Copilot Process Health"
    _auto = False
    _order = "metric, age_bucket, action_type, control"
    _rec_name = "metric"
    _depends = {
        "copilot.exception": ["company_id", "control", "first_seen", "state"],
        "copilot.approval.request": ["action_type", "company_id", "state"],
        "copilot.approval.decision": ["date", "decision", "request_id"],
    }

    metric = fields.Selection(selection=METRICS, readonly=True)
    age_bucket = fields.Selection(selection=AGE_BUCKETS, string="Age", readonly=True)
    action_type = fields.Selection(selection=ACTION_TYPES, string="Action", readonly=True)
    control = fields.Char(readonly=True)
    company_id = fields.Many2one(comodel_name="res.company", readonly=True)
    count = fields.Integer(readonly=True)
    median_hours = fields.Float(string="Median (hours)", readonly=True, aggregator="max", digits=(16, 1))
    p90_hours = fields.Float(string="P90 (hours)", readonly=True, aggregator="max", digits=(16, 1))

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(_QUERY)
