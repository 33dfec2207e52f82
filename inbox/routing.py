"""Where a new conversation goes. Runs inside the inbound transaction (DESIGN §5),
the same for every channel, and deterministically: rules in (position, id) order,
each one's conditions all true, its actions applied; `stop_processing` ends the walk.

Order of decisions for the team: the last matching rule with a `team` action wins;
with none, a message with sales intent goes to the Sales team; otherwise the inbox's
default team. Every step appends one line to the routing trace that agents read on
the conversation (`Conversation.routing_trace`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from hub import config_cache
from hub.actions import do_save_task, record_audit
from hub.models import Contact, PartnerOrganization, Tag, Task, Team, TeamKind, User
from hub.scoring import lead_score_after_interaction, open_deal_value
from inbox.assignment import assign_new_conversation
from inbox.business_hours import is_open
from inbox.models import Conversation, ConversationShare, Inbox, RoutingRule
from inbox.notifications import Notification, can_notify, notify

# Built-in sales-intent vocabulary (English, Norwegian, German, French, Spanish),
# matched against whole analyzed words (case- and accent-folded), never substrings:
# "priceless" is not "price". ROUTING_SALES_INTENT_WORDS replaces it.
DEFAULT_SALES_INTENT_WORDS: tuple[str, ...] = (
    # English
    "price", "prices", "pricing", "quote", "quotes", "quotation", "offer", "offers",
    "proposal", "purchase", "discount", "licence", "license", "licensing",
    # Norwegian
    "tilbud", "pris", "priser", "prisen", "prisene", "pristilbud", "prisliste", "kjøpe",
    "rabatt", "lisens",
    # German
    "angebot", "angebote", "preis", "preise", "preisliste", "kostenvoranschlag",
    "kaufen", "lizenz",
    # French
    "devis", "prix", "tarif", "tarifs", "offre", "offres", "acheter", "remise",
    # Spanish
    "presupuesto", "precio", "precios", "cotización", "cotizacion", "oferta",
    "ofertas", "comprar", "descuento",
)  # fmt: skip

_WORD = re.compile(r"\w+", re.UNICODE)


def analyze(text: str) -> list[str]:
    """Words of a text, case- and accent-folded (cotización → cotizacion)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(char for char in folded if not unicodedata.combining(char))
    return _WORD.findall(stripped)


def sales_intent_words() -> frozenset[str]:
    configured = getattr(settings, "ROUTING_SALES_INTENT_WORDS", None) or []
    return _analyzed_words(tuple(configured or DEFAULT_SALES_INTENT_WORDS))


@functools.lru_cache(maxsize=8)
def _analyzed_words(words: tuple[str, ...]) -> frozenset[str]:
    """The words' tokens, kept per word list: every routed message asked for them and
    analysed the same ~50 words again (the setting is read on each call, so a changed
    list is analysed once it is seen)."""
    return frozenset(token for word in words for token in analyze(word))


def sales_intent_match(words: set[str]) -> list[str]:
    return sorted(words & sales_intent_words())


def is_within_business_hours(team: Team | None, at: datetime) -> bool:
    """Whether the team is open at `at` by its business hours (inbox.business_hours);
    a team without configured hours is always open."""
    return is_open(team, at)


# Conditions that read the contact's and account's tags, languages, countries, tier
# and open deals (RoutingContext.build); the others need none of that.
CONTACT_FACT_CONDITIONS = frozenset({"tags", "language", "country", "tier", "deal_value_at_least"})
# Actions that write rows naming the conversation (or its id in a text).
ACTIONS_NEEDING_ID = frozenset({"add_tags", "share_with", "create_task", "notify_slack"})


@dataclass
class RoutingContext:
    """What the conditions look at, computed once per inbound message."""

    conversation: Conversation
    words: set[str]
    at: datetime
    contact: Contact | None
    tags: set[str] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)
    countries: set[str] = field(default_factory=set)
    tier: str = ""
    deal_value: Decimal = Decimal("0")
    # The contact's lead score as this message leaves it (the scoring runs first).
    lead_score: int | None = None

    @classmethod
    def build(
        cls,
        conversation: Conversation,
        body_text: str,
        at: datetime,
        *,
        conditions: frozenset[str] = CONTACT_FACT_CONDITIONS,
        deal_value: Decimal | None = None,
        lead_score: int | None = None,
    ) -> RoutingContext:
        """`conditions`: the names of the conditions the rules look at. The contact's
        facts are read only for those: tags (two queries) only for a `tags` condition,
        the open deal value (one) only for `deal_value_at_least`; none of them when
        no rule looks at any fact. `deal_value`: the account's open deal value when
        the caller has just read it (the lead scoring of the same message).
        `lead_score`: the score this message will leave, when it is not scored yet
        (team_for_new_conversation); otherwise the contact's, as the scoring left it."""
        contact = conversation.contact
        context = cls(
            conversation=conversation,
            words=set(analyze(f"{conversation.subject}\n{body_text}")),
            at=at,
            contact=contact,
            lead_score=lead_score
            if lead_score is not None
            else getattr(contact, "lead_score", None),
        )
        if contact is None or not (CONTACT_FACT_CONDITIONS & conditions):
            return context
        account = contact.account
        with_tags = "tags" in conditions
        if with_tags:
            context.tags = _tag_names(contact)
        context.languages = {contact.language.lower()} - {""}
        context.countries = {contact.country.upper()} - {""}
        if account is not None:
            if with_tags:
                context.tags |= set(account.tags.values_list("name", flat=True))
            context.languages |= {account.language.lower()} - {""}
            context.countries |= {account.country.upper()} - {""}
            context.tier = account.tier
            if deal_value is not None:
                context.deal_value = deal_value
            elif "deal_value_at_least" in conditions:
                context.deal_value = open_deal_value(account.pk)
        return context


def _tag_names(contact: Contact) -> set[str]:
    """The contact's tag names; from its prefetched tags when the caller loaded them
    (an incoming call does, for the screen pop)."""
    if "tags" in getattr(contact, "_prefetched_objects_cache", {}):
        return {tag.name for tag in contact.tags.all()}
    return set(contact.tags.values_list("name", flat=True))


def _one_of(found: set[str] | str, wanted: list[str], label: str, fold: str) -> str | None:
    """The reason text when any of `wanted` is in `found`, else None."""
    found_set = {found} if isinstance(found, str) else found
    norm = (lambda s: s.lower()) if fold == "lower" else (lambda s: s.upper())
    hits = sorted({norm(item) for item in found_set} & {norm(item) for item in wanted})
    return f"{label} = {', '.join(hits)}" if hits else None


def condition_reason(name: str, value: object, ctx: RoutingContext) -> str | None:
    """Why the condition holds ("account tier = gold"), or None when it does not."""
    conversation = ctx.conversation
    if name == "channel":
        return _one_of(conversation.channel, value, "channel", "lower")  # type: ignore[arg-type]
    if name == "inbox":
        return _one_of(conversation.inbox.key, value, "inbox", "lower")  # type: ignore[arg-type]
    if name == "words":
        wanted = {token for word in value for token in analyze(word)}  # type: ignore[attr-defined]
        hits = sorted(ctx.words & wanted)
        return f"words: {', '.join(hits)}" if hits else None
    if name == "sales_intent":
        hits = sales_intent_match(ctx.words)
        if value:
            return f"sales intent: {', '.join(hits)}" if hits else None
        return None if hits else "no sales intent"
    if name == "tier":
        return _one_of(ctx.tier, value, "account tier", "lower") if ctx.tier else None  # type: ignore[arg-type]
    if name == "language":
        return _one_of(ctx.languages, value, "language", "lower")  # type: ignore[arg-type]
    if name == "country":
        return _one_of(ctx.countries, value, "country", "upper")  # type: ignore[arg-type]
    if name == "tags":
        return _one_of(ctx.tags, value, "tag", "lower")  # type: ignore[arg-type]
    if name == "lead_score_at_least":
        score = ctx.lead_score if ctx.contact else None
        if score is not None and score >= value:  # type: ignore[operator]
            return f"lead score {score} ≥ {value}"
        return None
    if name == "deal_value_at_least":
        if ctx.deal_value >= Decimal(str(value)) and ctx.contact is not None:
            return f"open deal value {ctx.deal_value} ≥ {value}"
        return None
    if name == "within_business_hours":
        team = conversation.team or conversation.inbox.default_team
        inside = is_within_business_hours(team, ctx.at)
        if inside == value:
            return "within business hours" if inside else "outside business hours"
        return None
    return None


def rule_reasons(rule: RoutingRule, ctx: RoutingContext) -> list[str] | None:
    """The reasons every condition holds, or None when one does not (in key order, so
    the trace reads the same every time)."""
    reasons = []
    for name in sorted(rule.conditions):
        reason = condition_reason(name, rule.conditions[name], ctx)
        if reason is None:
            return None
        reasons.append(reason)
    return reasons or ["always"]


@dataclass
class RoutingOutcome:
    trace: list[str] = field(default_factory=list)
    team_set: bool = False
    assignee_set: bool = False
    # Partner organizations the rules shared the conversation with (all its shares,
    # for a conversation new in this transaction).
    shared_with: list[int] = field(default_factory=list)


def _apply_team(rule: RoutingRule, ctx: RoutingContext, outcome: RoutingOutcome) -> None:
    """A matched rule's team action, the one action that writes nothing: all that
    team_for_new_conversation applies."""
    if "team" not in rule.actions:
        return
    team = _team_of(rule)
    if team is None:
        outcome.trace.append(f"  team {rule.actions['team']!r} no longer exists: skipped")
    else:
        # Later conditions (business hours) look at the team chosen so far.
        ctx.conversation.team = team
        outcome.team_set = True
        outcome.trace.append(f"  → team {team.name}")


def _apply_actions(rule: RoutingRule, ctx: RoutingContext, outcome: RoutingOutcome) -> None:
    conversation = ctx.conversation
    trace = outcome.trace
    actions = rule.actions
    # A fixed order so that the trace (and the outcome) never depends on JSON key order.
    _apply_team(rule, ctx, outcome)
    if "priority" in actions:
        conversation.priority = actions["priority"]
        trace.append(f"  → priority {actions['priority']}")
    if "assign" in actions:
        agent = (
            User.objects.filter(email__iexact=actions["assign"], is_active=True)
            .exclude(role="partner")
            .first()
        )
        if agent is None:
            trace.append(f"  assignee {actions['assign']!r} is not active staff: skipped")
        else:
            conversation.assignee = agent
            outcome.assignee_set = True
            trace.append(f"  → assigned to {agent.full_name}")
    # Not saved here: tags and shares need only its id, and the caller saves it once
    # after all rules (a save per matching rule was a statement per rule).
    if "add_tags" in actions:
        tags = [Tag.objects.get_or_create(name=name[:50])[0] for name in actions["add_tags"]]
        conversation.tags.add(*tags)
        trace.append(f"  → tags {', '.join(tag.name for tag in tags)}")
    if "share_with" in actions:
        organization = PartnerOrganization.objects.filter(
            slug=actions["share_with"], is_active=True
        ).first()
        if organization is None:
            trace.append(f"  partner {actions['share_with']!r} is not active: not shared")
        else:
            _share, created = ConversationShare.objects.get_or_create(
                conversation=conversation, organization=organization
            )
            if organization.pk not in outcome.shared_with:
                outcome.shared_with.append(organization.pk)
            if created:
                record_audit(
                    None,
                    "conversation.shared",
                    conversation,
                    {"partner": organization.pk, "rule": rule.pk},
                )
            trace.append(f"  → shared with partner {organization.name}")
    if "create_task" in actions:
        trace.append(_create_task(actions["create_task"], ctx))
    if "notify_slack" in actions:
        trace.append(_notify_slack(actions["notify_slack"], rule, ctx))


def _team_of(rule: RoutingRule) -> Team | None:
    return Team.objects.filter(slug=rule.actions["team"]).first()


def _sales_team(words: set[str]) -> tuple[Team | None, list[str]]:
    """The Sales team when the words show sales intent (and such a team exists)."""
    hits = sales_intent_match(words)
    sales = Team.objects.filter(kind=TeamKind.SALES).order_by("id").first() if hits else None
    return sales, hits


ApplyRule = Callable[[RoutingRule, RoutingContext, RoutingOutcome], None]


def _run_rules(rules: list[RoutingRule], ctx: RoutingContext, apply: ApplyRule) -> RoutingOutcome:
    """The active rules in order, each matching one applied, then the team fallback
    when no rule set a team: sales intent in the words, else the inbox's default team.
    `apply` is _apply_actions for routing, _apply_team for the decision before the
    write: one loop, so that the two can never choose different teams."""
    outcome = RoutingOutcome()
    conversation = ctx.conversation
    for rule in rules:
        reasons = rule_reasons(rule, ctx)
        if reasons is None:
            continue
        outcome.trace.append(f"rule '{rule.name}' matched: {'; '.join(reasons)}")
        apply(rule, ctx, outcome)
        if rule.stop_processing:
            outcome.trace.append(f"rule '{rule.name}' stops processing")
            break
    if not outcome.team_set:
        sales, hits = _sales_team(ctx.words)
        if sales is not None:
            conversation.team = sales
            outcome.trace.append(f"sales intent ({', '.join(hits)}): team {sales.name}")
        else:
            conversation.team = conversation.inbox.default_team
            outcome.trace.append(
                f"inbox '{conversation.inbox.name}' default team: {conversation.team.name}"
            )
    return outcome


def _create_task(spec: str | dict[str, str], ctx: RoutingContext) -> str:
    conversation = ctx.conversation
    title = spec if isinstance(spec, str) else spec["title"]
    who = None if isinstance(spec, str) else spec.get("assignee")
    account = ctx.contact.account if ctx.contact else None
    assignee: User | None = None
    if who == "account_owner":
        assignee = account.owner if account else None
    elif who:
        assignee = (
            User.objects.filter(email__iexact=who, is_active=True).exclude(role="partner").first()
        )
    task = do_save_task(
        Task(
            title=title[:200],
            description=f"From conversation #{conversation.pk}: {conversation.subject}".strip(),
            assignee=assignee,
            team=None if assignee else conversation.team,
            account=account,
            contact=ctx.contact,
        )
    )
    owner = assignee.full_name if assignee else f"team {conversation.team}"
    return f"  → task '{task.title}' for {owner}"


def _notify_slack(target: str, rule: RoutingRule, ctx: RoutingContext) -> str:
    conversation = ctx.conversation
    if not can_notify("slack"):
        return f"  Slack #{target} not notified: no Slack notifier is installed"
    text = f"New {conversation.channel} conversation #{conversation.pk} matched '{rule.name}'"
    if conversation.subject:
        text += f": {conversation.subject}"
    notify(Notification("slack", target, text, conversation.pk))
    return f"  → Slack {target} notified"


def route_new_conversation(
    conversation: Conversation,
    *,
    body_text: str = "",
    at: datetime | None = None,
    save: bool = True,
) -> list[str]:
    """Route a new (saved) conversation: team, priority, tags, shares, tasks,
    notifications, assignee. Saves it (unless the caller saves it next anyway) and
    returns the routing trace."""
    return route_new_conversation_outcome(conversation, body_text=body_text, at=at, save=save).trace


def active_rules() -> list[RoutingRule]:
    return config_cache.cached(
        "routing.rules",
        lambda: list(RoutingRule.objects.filter(is_active=True).order_by("position", "id")),
    )


def routing_needs_conversation_id() -> bool:
    """Whether an active rule may act on the conversation's id (tags, shares, tasks,
    notifications name it): then it must be saved before routing. Otherwise routing
    only sets fields and the conversation is inserted once, after it."""
    return any(ACTIONS_NEEDING_ID & rule.actions.keys() for rule in active_rules())


def route_new_conversation_outcome(
    conversation: Conversation,
    *,
    body_text: str = "",
    at: datetime | None = None,
    save: bool = True,
    deal_value: Decimal | None = None,
    team: Team | None = None,
) -> RoutingOutcome:
    """route_new_conversation, returning the whole outcome (the trace and the partner
    organizations it was shared with). `deal_value`: see RoutingContext.build.

    `team`: the team already decided for this conversation by team_for_new_conversation
    (an incoming call rang it before its conversation was written). The rules still
    run (priority, tags, shares, tasks, assignment), but the conversation goes to that
    team: the call and its conversation never part."""
    at = at or timezone.now()
    rules = active_rules()
    ctx = RoutingContext.build(
        conversation,
        body_text,
        at,
        conditions=frozenset(name for rule in rules for name in rule.conditions),
        deal_value=deal_value,
    )
    outcome = _run_rules(rules, ctx, _apply_actions)
    if team is not None and conversation.team_id != team.pk:
        # Only when something changed between the decision and now (a rule, a tag, a
        # retry minutes later): otherwise routing has just decided the same team.
        conversation.team = team
        outcome.trace.append(f"the call already rang team {team.name}: team {team.name}")
    if not outcome.assignee_set:
        outcome.trace.extend(assign_new_conversation(conversation))
    conversation.routing_trace = outcome.trace
    if save:
        conversation.save()
    return outcome


def team_for_new_conversation(
    inbox: Inbox,
    *,
    contact: Contact | None,
    subject: str,
    body_text: str,
    at: datetime | None = None,
) -> Team:
    """The team route_new_conversation_outcome will give a new conversation of this
    inbox, decided before anything is written and writing nothing: the same rule loop
    (_run_rules), applying only the team actions. An incoming call rings that team's
    agents and pops their screens before its conversation is written (telephony).

    The lead score a `lead_score_at_least` rule compares is the one this message will
    leave (the scoring counts it before routing reads the score)."""
    at = at or timezone.now()
    conversation = Conversation(
        inbox=inbox, channel=inbox.channel, contact=contact, subject=subject[:255]
    )
    rules = active_rules()
    conditions = frozenset(name for rule in rules for name in rule.conditions)
    lead_score = None
    if contact is not None and "lead_score_at_least" in conditions:
        lead_score = lead_score_after_interaction(contact, at)
    ctx = RoutingContext.build(
        conversation, body_text, at, conditions=conditions, lead_score=lead_score
    )
    _run_rules(rules, ctx, _apply_team)
    return conversation.team


# Editing rules: the admin and the REST API both end here.


def check_can_edit_rules(user: User) -> None:
    if not (user.is_active and user.is_supervisor):
        raise PermissionDenied("Only supervisors and admins edit routing rules.")


@transaction.atomic
def do_save_routing_rule(rule: RoutingRule, *, by: User) -> RoutingRule:
    check_can_edit_rules(by)
    created = rule.pk is None
    rule.full_clean()
    rule.save()
    record_audit(
        by,
        "routingrule.created" if created else "routingrule.updated",
        rule,
        {"conditions": rule.conditions, "actions": rule.actions, "position": rule.position},
    )
    return rule


@transaction.atomic
def do_delete_routing_rule(rule: RoutingRule, *, by: User) -> None:
    check_can_edit_rules(by)
    record_audit(by, "routingrule.deleted", rule)
    rule.delete()
