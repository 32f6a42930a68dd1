"""Alembic migrations of the project's database (run by ``copilot.state.Database.upgrade``)."""
