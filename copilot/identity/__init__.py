"""Who is asking: a person on a channel, mapped to an Odoo user, a role and the companies they may see."""

from copilot.identity.actor import CHANNELS, ROLES, SKILLS, Actor, Channel, Role, Skill
from copilot.identity.resolve import IdentityResolver, RolesFile, load_roles_file
from copilot.identity.rules import ROLE_SKILLS, ROLE_TOOLS, allowed_tools, authorize

__all__ = [
    "CHANNELS",
    "ROLES",
    "ROLE_SKILLS",
    "ROLE_TOOLS",
    "SKILLS",
    "Actor",
    "Channel",
    "IdentityResolver",
    "Role",
    "RolesFile",
    "Skill",
    "allowed_tools",
    "authorize",
    "load_roles_file",
]
