from . import copilot_approval_decision, copilot_approval_request, ir_model, ir_model_access
