"""The slack channel (not built yet: see the service issue)."""
