"""Lead scoring and the deal-value automation (sales automation, issue 7 item 5).

Scores are recomputed on events, inside the transaction that caused them: an inbound
message (inbox calls `record_interaction`) and a saved deal (`hub.actions.do_save_deal`
calls `on_deal_saved`). The weights live in the admin-edited `LeadScoring` row.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from hub import config_cache
from hub.models import Account, Contact, Deal, DealStage, LeadScoring, Tag, Task, TaskStatus

OPEN_STAGES = (DealStage.PROSPECTING, DealStage.PROPOSAL)
CALL_TASK_PREFIX = "Call about deal"


def scoring_settings() -> LeadScoring:
    return config_cache.cached(
        "scoring.settings",
        lambda: LeadScoring.objects.filter(is_active=True).order_by("id").first() or LeadScoring(),
    )


def open_deal_value(account_id: int | None) -> Decimal:
    """The largest open deal of the account: what a conversation could be worth."""
    if account_id is None:
        return Decimal("0")
    value = Deal.objects.filter(account_id=account_id, stage__in=OPEN_STAGES).aggregate(
        top=Max("value")
    )["top"]
    # SQLite hands back Decimal("20000"), PostgreSQL Decimal("20000.00"): one form.
    return Decimal(value or 0).quantize(Decimal("0.01"))


def compute_lead_score(
    contact: Contact, settings: LeadScoring | None = None, now: datetime | None = None
) -> int:
    settings = settings or scoring_settings()
    now = now or timezone.now()
    account = contact.account
    score = 0.0
    employees = (account.employees or 0) if account else 0
    score += settings.size_weight * min(employees / settings.size_full_at, 1.0)
    score += settings.interactions_weight * min(
        contact.interaction_count / settings.interactions_full_at, 1.0
    )
    if contact.last_interaction_at is not None:
        age_days = max((now - contact.last_interaction_at).total_seconds(), 0) / 86400
        score += settings.recency_weight * max(1.0 - age_days / settings.recency_days, 0.0)
    # Criteria with no weight cannot change the score: their queries are skipped.
    if settings.deal_value_weight:
        deal_value = open_deal_value(contact.account_id)
        score += settings.deal_value_weight * min(
            float(deal_value / settings.deal_value_full_at), 1.0
        )
    if settings.tag_points:
        tag_names = set(contact.tags.values_list("name", flat=True))
        if account is not None:
            tag_names |= set(account.tags.values_list("name", flat=True))
        score += sum(points for name, points in settings.tag_points.items() if name in tag_names)
    return round(score)


def recompute_lead_score(contact: Contact) -> int:
    score = compute_lead_score(contact)
    if score != contact.lead_score:
        contact.lead_score = score
        Contact.objects.filter(pk=contact.pk).update(lead_score=score)
    return score


def recompute_account_lead_scores(account: Account) -> None:
    settings = scoring_settings()
    for contact in account.contacts.select_related("account"):
        score = compute_lead_score(contact, settings)
        if score != contact.lead_score:
            Contact.objects.filter(pk=contact.pk).update(lead_score=score)


def record_interaction(contact: Contact, at: datetime | None = None) -> int:
    """A message from the contact arrived: count it and rescore, in the caller's
    transaction. The contact's row is locked while counting (two messages of one
    contact at once each add one), then written once with count and score."""
    at = at or timezone.now()
    if not connection.in_atomic_block:
        with transaction.atomic():
            return record_interaction(contact, at)
    count = (
        Contact.objects.select_for_update()
        .filter(pk=contact.pk)
        .values_list("interaction_count", flat=True)
        .get()
    )
    contact.interaction_count = count + 1
    contact.last_interaction_at = at
    contact.lead_score = compute_lead_score(contact)
    Contact.objects.filter(pk=contact.pk).update(
        interaction_count=contact.interaction_count,
        last_interaction_at=at,
        lead_score=contact.lead_score,
    )
    return contact.lead_score


def on_deal_saved(deal: Deal) -> str:
    """Deal value above the threshold → a call task for the account owner (once per
    deal); otherwise the account goes onto the nurture list (a tag). Returns what it did."""
    recompute_account_lead_scores(deal.account)
    if deal.stage not in OPEN_STAGES:
        return "closed deal: no automation"
    settings = scoring_settings()
    account = deal.account
    if deal.value >= settings.call_task_threshold:
        owner = account.owner or deal.owner
        exists = Task.objects.filter(
            deal=deal, title__startswith=CALL_TASK_PREFIX, status=TaskStatus.OPEN
        ).exists()
        if not exists:
            Task.objects.create(
                title=f"{CALL_TASK_PREFIX} {deal.title}"[:200],
                description=(
                    f"{deal.title} is worth {deal.value} {deal.currency} "
                    f"(call threshold {settings.call_task_threshold})."
                ),
                assignee=owner,
                account=account,
                contact=deal.contact,
                deal=deal,
            )
        nurture = Tag.objects.filter(name=settings.nurture_tag).first()
        if nurture is not None:
            account.tags.remove(nurture)
        return f"call task for {owner.full_name if owner else 'nobody (no owner)'}"
    nurture, _ = Tag.objects.get_or_create(name=settings.nurture_tag)
    account.tags.add(nurture)
    return f"account added to the nurture list ({settings.nurture_tag})"
