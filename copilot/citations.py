"""Citations: the Odoo records (and later KB chunks) a result is grounded in."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Citation", "Ref", "record_url"]


class Citation(BaseModel):
    """One Odoo record a result relies on."""

    model_config = ConfigDict(frozen=True)

    model: str = Field(description="Odoo model, e.g. purchase.order")
    id: int = Field(gt=0, description="Record id")
    display_name: str = Field(description="What Odoo shows for the record, e.g. P00009")

    def label(self) -> str:
        """Short text form, e.g. ``purchase.order,9 (P00009)``."""
        return f"{self.model},{self.id} ({self.display_name})"


class Ref(BaseModel):
    """A many2one value: Odoo's ``[id, display name]``."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str


def record_url(odoo_url: str | None, model: str, record_id: int) -> str | None:
    """The record's form in Odoo's web client (``/odoo/<model>/<id>``), or None without an Odoo URL."""
    if not odoo_url or model.startswith("kb.") or record_id <= 0:
        return None
    return f"{odoo_url.rstrip('/')}/odoo/{model}/{record_id}"
