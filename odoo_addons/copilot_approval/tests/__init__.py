from . import test_approval_workflow, test_executor_webhook, test_security
