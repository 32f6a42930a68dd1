"""Scheduled controls: named scans of Odoo (late POs, orders at risk, ticket aging...) that yield exceptions.

``model`` holds the shapes every control, store, sink and channel share; the engine, the registry and the
controls themselves live in sibling modules.
"""
