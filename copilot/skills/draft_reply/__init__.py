"""Customer reply drafts grounded in Odoo facts and the knowledge base."""

from copilot.skills.draft_reply.schemas import DraftRequest, ReplyDraft
from copilot.skills.draft_reply.skill import draft_reply

__all__ = ["DraftRequest", "ReplyDraft", "draft_reply"]
