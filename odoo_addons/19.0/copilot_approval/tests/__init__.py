from . import (
    test_approval_workflow,
    test_exception_views_browser,
    test_exceptions,
    test_executor_webhook,
    test_payload_binding,
    test_security,
)
