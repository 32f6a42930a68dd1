from . import test_approval_workflow, test_exceptions, test_executor_webhook, test_payload_binding, test_security
