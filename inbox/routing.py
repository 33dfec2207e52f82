"""Where a new conversation goes. Runs inside the inbound transaction (DESIGN §5)."""

from __future__ import annotations

from inbox.models import Conversation


def route_new_conversation(conversation: Conversation) -> list[str]:
    """Set the team (and later assignee, priority, tags) of a new conversation and
    return the routing trace that agents can read."""
    conversation.team = conversation.inbox.default_team
    return [f"inbox '{conversation.inbox.name}' default team: {conversation.team.name}"]
