"""Lead scoring and the deal-value automation (sales automation, issue 7 item 5).

Scores are recomputed on events, inside the transaction that caused them: an inbound
message (inbox calls `record_interaction`) and a saved deal (`hub.actions.do_save_deal`
calls `on_deal_saved`). The weights live in the admin-edited `LeadScoring` row.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, Max, OuterRef, Q, Subquery, Value, When
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
    return _deal_value(value)


def _deal_value(value: Decimal | None) -> Decimal:
    # SQLite hands back Decimal("20000"), PostgreSQL Decimal("20000.00"): one form.
    return Decimal(value or 0).quantize(Decimal("0.01"))


def deal_value_read(value: Decimal | None) -> Decimal:
    """open_deal_value() from what `open_deal_value_of_account()` read."""
    return _deal_value(value)


def open_deal_value_of_account(account_field: str = "account_id") -> Subquery:
    """open_deal_value() as a subquery on a contact's account (`account_field` names
    the account's id from the query's model), to read it in the same statement as
    the contact."""
    return Subquery(
        Deal.objects.filter(account_id=OuterRef(account_field), stage__in=OPEN_STAGES)
        .order_by()
        .values("account_id")
        .annotate(top=Max("value"))
        .values("top")
    )


def compute_lead_score(
    contact: Contact,
    settings: LeadScoring | None = None,
    now: datetime | None = None,
    *,
    deal_value: Decimal | None = None,
) -> int:
    """`deal_value`: the account's open deal value when the caller has read it."""
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
        if deal_value is None:
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


@dataclass(frozen=True)
class Interaction:
    """What recording an interaction computed: the new lead score, and the account's
    open deal value when the score read it or was given it (routing reads the same
    value; None when neither happened)."""

    lead_score: int
    deal_value: Decimal | None


def lead_score_after_interaction(contact: Contact, at: datetime | None = None) -> int:
    """The score record_interaction would give the contact for a message at `at`,
    computed without writing (nor locking: a message counted meanwhile by another
    transaction is not seen)."""
    at = at or timezone.now()
    counted = copy.copy(contact)
    counted.interaction_count = contact.interaction_count + 1
    counted.last_interaction_at = at
    return compute_lead_score(counted, now=at)


class ContactChanged(Exception):
    """A contact counted by PendingInteractions was changed by another transaction
    after it was read: its count and score were not written, and the caller's
    transaction must not commit (the mail sync then stores its batch again one mail
    per transaction, counting with record_interaction's locking read)."""


@dataclass
class PendingInteractions:
    """The counts and scores of a batch's contacts, computed as record_interaction
    computes them from the contacts as the caller read them (with their deal value),
    and written at the batch's end with one conditional UPDATE for all of them instead
    of one per message. The UPDATE matches a contact only where its count and score
    are still those read; if any does not match, `write` raises ContactChanged."""

    # Contact id -> (the contact, its count and score as read).
    counted: dict[int, tuple[Contact, int, int]] = field(default_factory=dict)

    def count(self, contact: Contact, at: datetime, deal_value: Decimal) -> Interaction:
        if contact.pk not in self.counted:
            self.counted[contact.pk] = (contact, contact.interaction_count, contact.lead_score)
        contact.interaction_count += 1
        contact.last_interaction_at = at
        contact.lead_score = compute_lead_score(contact, scoring_settings(), deal_value=deal_value)
        return Interaction(contact.lead_score, deal_value)

    def write(self) -> None:
        if not self.counted:
            return
        rows = list(self.counted.values())
        self.counted = {}
        if connection.vendor == "postgresql":
            written = _write_counted_postgresql(rows)
        else:
            written = _write_counted(rows)
        if written != len(rows):
            raise ContactChanged(
                f"{len(rows) - written} of {len(rows)} contacts changed since they were read"
            )


# The contact UPDATE of PendingInteractions on PostgreSQL: the rows' values as arrays
# (one statement text whatever the batch's size, built without the ORM's per-row
# CASE/WHEN and OR conditions), matched only where count and score are still those read.
_UPDATE_COUNTED_POSTGRESQL = """
UPDATE {table} AS contact
SET {count} = counted.new_count, {at} = counted.new_at, {score} = counted.new_score
FROM unnest(%s::bigint[], %s::integer[], %s::integer[], %s::integer[], %s::timestamptz[],
            %s::integer[]) AS counted(id, seen_count, seen_score, new_count, new_at, new_score)
WHERE contact.{pk} = counted.id
  AND contact.{count} = counted.seen_count
  AND contact.{score} = counted.seen_score
"""


def _write_counted_postgresql(rows: list[tuple[Contact, int, int]]) -> int:
    """PendingInteractions' UPDATE in one raw statement; the number of rows matched."""
    quote = connection.ops.quote_name
    meta = Contact._meta
    sql = _UPDATE_COUNTED_POSTGRESQL.format(
        table=quote(meta.db_table),
        pk=quote(meta.pk.column),
        count=quote(meta.get_field("interaction_count").column),
        at=quote(meta.get_field("last_interaction_at").column),
        score=quote(meta.get_field("lead_score").column),
    )
    params = [
        [contact.pk for contact, _count, _score in rows],
        [count for _contact, count, _score in rows],
        [score for _contact, _count, score in rows],
        [contact.interaction_count for contact, _count, _score in rows],
        [contact.last_interaction_at for contact, _count, _score in rows],
        [contact.lead_score for contact, _count, _score in rows],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _write_counted(rows: list[tuple[Contact, int, int]]) -> int:
    """PendingInteractions' UPDATE through the ORM (SQLite): one CASE per column, an
    OR of the rows' read values as condition; the number of rows matched."""
    unchanged = Q()
    for contact, seen_count, seen_score in rows:
        unchanged |= Q(pk=contact.pk, interaction_count=seen_count, lead_score=seen_score)

    def each(name: str) -> Case:
        return Case(
            *(When(pk=contact.pk, then=Value(getattr(contact, name))) for contact, _c, _s in rows),
            output_field=Contact._meta.get_field(name),
        )

    return (
        Contact.objects.filter(unchanged)
        .order_by()
        .update(
            interaction_count=each("interaction_count"),
            last_interaction_at=each("last_interaction_at"),
            lead_score=each("lead_score"),
        )
    )


def record_interaction(
    contact: Contact,
    at: datetime | None = None,
    *,
    deal_value: Decimal | None = None,
    pending: PendingInteractions | None = None,
) -> Interaction:
    """A message from the contact arrived: count it and rescore, in the caller's
    transaction. The contact's row is locked while counting (two messages of one
    contact at once each add one), then written once with count and score.

    `deal_value`: the account's open deal value, read by the caller together with
    the contact it passes (the mail sync reads its batch's contacts at once). The
    count and score are then written by one UPDATE on condition that they are still
    those read, without a locking read first; when another transaction changed them
    meanwhile (the UPDATE waits for its lock, then finds them changed), the locking
    read follows as without it.

    `pending` (with `deal_value`): nothing is written here; the count and score are
    written with the caller's batch (PendingInteractions.write), in the same
    transaction."""
    at = at or timezone.now()
    if pending is not None and deal_value is not None:
        return pending.count(contact, at, deal_value)
    if not connection.in_atomic_block:
        with transaction.atomic():
            return record_interaction(contact, at, deal_value=deal_value)
    settings = scoring_settings()
    if deal_value is not None:
        counted = _count_if_unchanged(contact, at, settings, deal_value)
        if counted is not None:
            return counted
    locked = Contact.objects.select_for_update().filter(pk=contact.pk)
    deal_value = None
    if settings.deal_value_weight:
        # The deal value in the locking read: one statement instead of two.
        count, top = (
            locked.annotate(open_deal_value=open_deal_value_of_account())
            .values_list("interaction_count", "open_deal_value")
            .get()
        )
        deal_value = _deal_value(top)
    else:
        count = locked.values_list("interaction_count", flat=True).get()
    contact.interaction_count = count + 1
    contact.last_interaction_at = at
    contact.lead_score = compute_lead_score(contact, settings, deal_value=deal_value)
    Contact.objects.filter(pk=contact.pk).update(
        interaction_count=contact.interaction_count,
        last_interaction_at=at,
        lead_score=contact.lead_score,
    )
    return Interaction(contact.lead_score, deal_value)


def _count_if_unchanged(
    contact: Contact, at: datetime, settings: LeadScoring, deal_value: Decimal
) -> Interaction | None:
    """record_interaction() from the contact as the caller read it; None (and the
    contact as it was) when its row no longer holds that count and score."""
    seen_count, seen_score, seen_at = (
        contact.interaction_count,
        contact.lead_score,
        contact.last_interaction_at,
    )
    contact.interaction_count = seen_count + 1
    contact.last_interaction_at = at
    score = compute_lead_score(contact, settings, deal_value=deal_value)
    won = Contact.objects.filter(
        pk=contact.pk, interaction_count=seen_count, lead_score=seen_score
    ).update(interaction_count=seen_count + 1, last_interaction_at=at, lead_score=score)
    if not won:
        contact.interaction_count, contact.last_interaction_at = seen_count, seen_at
        return None
    contact.lead_score = score
    return Interaction(score, deal_value)


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
