from inbox.models.canned import CannedResponse
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
from inbox.models.sla import (
    BusinessHours,
    Holiday,
    OpeningInterval,
    SlaPolicy,
    SlaTarget,
    Weekday,
)
from inbox.models.surveys import Survey
from inbox.models.webhooks import (
    DeliveryState,
    WebhookCursor,
    WebhookDelivery,
    WebhookSubscription,
)

__all__ = [
    "AgentPresence",
    "AssignmentStrategy",
    "Attachment",
    "BusinessHours",
    "CannedResponse",
    "Channel",
    "ChatVisitor",
    "ConsoleSession",
    "Conversation",
    "ConversationNote",
    "ConversationShare",
    "ConversationStatus",
    "ConversationViewer",
    "DeliveryState",
    "Direction",
    "Event",
    "Holiday",
    "Inbox",
    "Message",
    "MessageStatus",
    "OpeningInterval",
    "PresenceStatus",
    "Priority",
    "RoutingRule",
    "SlaPolicy",
    "SlaTarget",
    "Survey",
    "TeamAssignment",
    "WebhookCursor",
    "WebhookDelivery",
    "WebhookSubscription",
    "Weekday",
]
