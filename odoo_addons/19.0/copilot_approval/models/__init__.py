# copilot_process_health's SQL view reads the tables of the models imported before it (Odoo creates them in
# this order).
from . import (
    copilot_approval_decision,
    copilot_approval_request,
    copilot_approval_request_orm,
    copilot_exception,
    copilot_exception_orm,
    copilot_process_health,
    ir_model,
    ir_model_access,
)
