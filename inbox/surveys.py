"""CSAT, CES and NPS surveys, sent once after a conversation is first resolved.

The hook is one marked line in inbox.actions.do_change_status (inside its
transaction): the survey row, the outbound message that carries the link and its
event commit together with the resolution, or not at all. The message leaves on the
conversation's own channel through the existing outbound machinery (mail outbox,
SMS sender); on web chat the message event is the visitor's prompt. Survey messages
have no author, so they never count as an agent reply in the metrics.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import outbound
from inbox.events import record_event
from inbox.models import Conversation, Direction, Message, MessageStatus, Survey
from inbox.serializers import message_data
from inbox.visibility import conversation_audience, visitor_keys

SCALES = {"csat": (1, 5), "ces": (1, 7), "nps": (0, 10)}


def survey_url(survey: Survey) -> str:
    return settings.PUBLIC_BASE_URL + reverse("frontend:survey", kwargs={"token": survey.token})


def send_survey_after_resolution(conversation: Conversation) -> Survey | None:
    """Create and send the conversation's survey, unless it already has one or its
    channel cannot carry a reply. Runs inside the resolving transaction."""
    if not getattr(settings, "SURVEYS_ENABLED", True):
        return None
    if not outbound.can_send_on(conversation.channel):
        return None
    if Survey.objects.filter(conversation=conversation).exists():
        return None  # one survey per conversation: a re-resolution does not ask again
    try:
        # A savepoint: a channel that cannot carry the link (no mailbox, no address)
        # leaves no survey behind and must never block the resolution itself.
        with transaction.atomic():
            return _send(conversation)
    except ValidationError:
        return None


def _send(conversation: Conversation) -> Survey:
    now = timezone.now()
    survey = Survey.objects.create(
        conversation=conversation,
        token=secrets.token_urlsafe(32),
        channel=conversation.channel,
        team_id=conversation.team_id,
        agent_id=conversation.assignee_id,
        sent_at=now,
    )
    text = _("How did we do? Please answer three short questions: %(url)s") % {
        "url": survey_url(survey)
    }
    message = Message.objects.create(
        conversation=conversation,
        inbox=conversation.inbox,
        direction=Direction.OUTBOUND,
        sender_name=_("Customer survey"),
        body_text=text,
        status=MessageStatus.QUEUED,
        metadata={"survey": survey.pk},
    )
    outbound.queue_outbound(message)
    record_event(
        "message.created",
        {"conversation": conversation.pk, "message": message_data(message)},
        conversation_audience(conversation) | visitor_keys(conversation),
        conversation_id=conversation.pk,
    )
    return survey


def survey_by_token(token: str) -> Survey | None:
    if not token or len(token) > 64:
        return None
    return Survey.objects.filter(token=token).first()


def check_answer(raw: dict[str, Any]) -> dict[str, int]:
    answers: dict[str, int] = {}
    errors: dict[str, str] = {}
    for field, (low, high) in SCALES.items():
        value = str(raw.get(field, "")).strip()
        if not value:
            errors[field] = _("Please choose an answer.")
            continue
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            errors[field] = _("Choose a number from %(low)s to %(high)s.") % {
                "low": low,
                "high": high,
            }
            continue
        answers[field] = number
    if errors:
        raise ValidationError(errors)
    return answers


@transaction.atomic
def do_answer_survey(survey: Survey, raw: dict[str, Any], comment: str = "") -> bool:
    """Store the answer once; a second answer (a double submit, a replay) changes
    nothing and returns False."""
    answers = check_answer(raw)
    updated = Survey.objects.filter(pk=survey.pk, answered_at__isnull=True).update(
        answered_at=timezone.now(), comment=comment[:2000], **answers
    )
    return bool(updated)


@dataclass(frozen=True)
class SurveyScores:
    answered: int
    csat_percent: float | None  # share of CSAT answers that are 4 or 5
    ces_average: float | None
    nps: float | None  # % promoters (9-10) - % detractors (0-6)


def aggregate(surveys: QuerySet[Survey]) -> SurveyScores:
    row = surveys.filter(answered_at__isnull=False).aggregate(
        answered=Count("id"),
        csat_n=Count("id", filter=Q(csat__isnull=False)),
        satisfied=Count("id", filter=Q(csat__gte=4)),
        ces=Avg("ces"),
        nps_n=Count("id", filter=Q(nps__isnull=False)),
        promoters=Count("id", filter=Q(nps__gte=9)),
        detractors=Count("id", filter=Q(nps__lte=6)),
    )
    csat = 100.0 * row["satisfied"] / row["csat_n"] if row["csat_n"] else None
    nps = 100.0 * (row["promoters"] - row["detractors"]) / row["nps_n"] if row["nps_n"] else None
    ces = round(float(row["ces"]), 2) if row["ces"] is not None else None
    return SurveyScores(row["answered"], csat, ces, nps)
