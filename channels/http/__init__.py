"""The http channel (not built yet: see the service issue)."""
