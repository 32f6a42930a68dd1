"""Proposal types, risk tiers, approval-request backends in Odoo, and the executor (the only writer).

Not built yet; the Odoo client already allows ``create`` on the approval-request model and nothing else.
"""
