from hub.models.audit import AuditLogEntry
from hub.models.configuration import ConfigurationVersion
from hub.models.crm import (
    Account,
    Contact,
    ContactEmail,
    ContactPhone,
    Deal,
    DealStage,
    DealStageChange,
    Tag,
    Task,
    TaskStatus,
)
from hub.models.organization import PartnerOrganization, Team, TeamKind, TeamMembership
from hub.models.scoring import LeadScoring
from hub.models.tokens import ApiToken
from hub.models.users import Role, User

__all__ = [
    "Account",
    "ApiToken",
    "AuditLogEntry",
    "ConfigurationVersion",
    "Contact",
    "ContactEmail",
    "ContactPhone",
    "Deal",
    "DealStage",
    "DealStageChange",
    "LeadScoring",
    "PartnerOrganization",
    "Role",
    "Tag",
    "Task",
    "TaskStatus",
    "Team",
    "TeamKind",
    "TeamMembership",
    "User",
]
