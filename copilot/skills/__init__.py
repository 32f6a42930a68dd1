"""Skills: one package per job the copilot does (supplier-email summary, ...), each a ``Skill``.

The names are imported lazily: a skill pulls in its models and prompts, which ``copilot --help`` never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from copilot._lazy import lazy_exports

if TYPE_CHECKING:
    from copilot.skills.base import Skill, SkillContext
    from copilot.skills.registry import SKILLS
    from copilot.skills.supplier_email import SupplierEmailSummary, summarize_supplier_email

__all__ = ["SKILLS", "Skill", "SkillContext", "SupplierEmailSummary", "summarize_supplier_email"]

__getattr__ = lazy_exports(
    __name__,
    {
        "SKILLS": "registry",
        "Skill": "base",
        "SkillContext": "base",
        **dict.fromkeys(("SupplierEmailSummary", "summarize_supplier_email"), "supplier_email"),
    },
)
