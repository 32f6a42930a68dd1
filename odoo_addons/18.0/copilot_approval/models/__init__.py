from . import (
    copilot_approval_decision,
    copilot_approval_request,
    copilot_approval_request_orm,
    ir_model,
    ir_model_access,
)
