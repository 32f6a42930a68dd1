"""Reply templates: the deterministic engine writes customer replies from these, filled with Odoo facts."""
