from . import test_approval_workflow, test_security
