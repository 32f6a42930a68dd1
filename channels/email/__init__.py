"""The email channel (not built yet: see the service issue)."""
