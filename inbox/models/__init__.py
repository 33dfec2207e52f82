from inbox.models.chat import ChatVisitor
from inbox.models.conversations import (
    Attachment,
    Channel,
    Conversation,
    ConversationNote,
    ConversationShare,
    ConversationStatus,
    Direction,
    Inbox,
    Message,
    MessageStatus,
    Priority,
)
from inbox.models.events import Event
from inbox.models.presence import AgentPresence, ConsoleSession, ConversationViewer, PresenceStatus
from inbox.models.routing import AssignmentStrategy, RoutingRule, TeamAssignment

__all__ = [
    "AgentPresence",
    "AssignmentStrategy",
    "Attachment",
    "Channel",
    "ChatVisitor",
    "ConsoleSession",
    "Conversation",
    "ConversationNote",
    "ConversationShare",
    "ConversationStatus",
    "ConversationViewer",
    "Direction",
    "Event",
    "Inbox",
    "Message",
    "MessageStatus",
    "PresenceStatus",
    "Priority",
    "RoutingRule",
    "TeamAssignment",
]
