def post_init_hook(env):
    """Grant the Copilot agent read-only access to the business models installed now."""
    env["ir.model.access"]._copilot_sync_agent_read_access()
