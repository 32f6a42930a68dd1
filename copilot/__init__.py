"""Odoo Ops Copilot: reads Odoo and mail, prepares decisions; people keep the authority."""

__version__ = "0.1.0"
