"""A partner probing every URL of the project, and the console socket, with the ids of
objects not shared with their organization gets 404 (or nothing) everywhere (DESIGN §6).

Every unshared object carries SECRET in its text; no response to the partner may
contain it. The walk covers every URL pattern the project has: a new pattern that
this file does not know how to probe fails the test until it is classified below.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.http import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern

from hub.actions import do_create_contact
from hub.models import (
    Account,
    AuditLogEntry,
    Contact,
    Deal,
    LeadScoring,
    PartnerOrganization,
    Tag,
    Task,
    Team,
    TeamMembership,
    User,
)
from inbox import actions, reports
from inbox.attachments import AttachmentInput, do_add_attachments
from inbox.models import (
    BusinessHours,
    CannedResponse,
    Channel,
    Conversation,
    ConversationNote,
    ConversationShare,
    Message,
    RoutingRule,
    SlaPolicy,
    Survey,
    WebhookDelivery,
    WebhookSubscription,
)
from kb_documents import actions as kb_actions
from kb_documents.actions import Sharing
from kb_documents.models import Document, Note
from mail.models import Mailbox
from slack_bridge.models import ChannelKind, SlackChannel, SlackWorkspace
from telephony.models import Call
from tests import sockets
from tests.factories import Personas, make_personas
from tests.inbox_fixtures import inbound, make_inbox

SECRET = "zqxsecretzqx"
WRITE_METHODS = ("post", "put", "patch", "delete")

# URL name → the kind of object its `pk` names; probed with every unshared id of that
# kind, each answer must be 404 (or 405 for a method the view never allows).
OBJECT_URLS: dict[str, str] = {
    "conversation-detail": "conversations",
    "conversation-assign": "conversations",
    "conversation-messages": "conversations",
    "conversation-notes": "conversations",
    "conversation-share": "conversations",
    "conversation-status": "conversations",
    "conversation-unshare": "conversations",
    "note-detail": "notes",
    "note-history": "notes",
    "document-detail": "documents",
    "document-download": "documents",
    "document-versions": "documents",
    "contact-detail": "contacts",
    "contact-call": "contacts",
    "account-detail": "accounts",
    "deal-detail": "deals",
    "task-detail": "tasks",
    "call-detail": "calls",
    "call-contact": "calls",
    "routing-rule-detail": "routing_rules",
    "webhook-detail": "webhooks",
    "webhook-delivery-detail": "webhook_deliveries",
    "canned-response-detail": "canned_responses",
    "sales-account": "accounts",
    "sales-contact": "contacts",
    "sales-contact-panel": "contacts",
    "attachment-download": "attachments",
    "user-detail": "users",
    "team-detail": "teams",
    "team-membership-detail": "team_memberships",
    "tag-detail": "tags",
    "partner-organization-detail": "partner_organizations",
    "lead-scoring-detail": "lead_scorings",
    "sla-policy-detail": "sla_policies",
    "business-hours-detail": "business_hours",
    "survey-detail": "surveys",
    "mailbox-detail": "mailboxes",
    "slack-workspace-detail": "slack_workspaces",
    "slack-channel-detail": "slack_channels",
}
# Lists and searches: 200 with nothing unshared in them, or 403/404; writes refused.
LIST_URLS = {
    "api-root",
    "console-state",
    "search",
    "conversation-list",
    "note-list",
    "document-list",
    "contact-list",
    "contact-lookup",
    "account-list",
    "deal-list",
    "task-list",
    "routing-rule-list",
    "webhook-list",
    "webhook-delivery-list",
    "csv-import",  # supervisors only: multipart upload of contacts/accounts
    "csv-export",
    "canned-response-list",
    "sales",
    "sales-accounts",
    "sales-pipeline",
    "sales-tasks",
    # The organization, configuration and call log (issue 11): staff only, partners 404.
    "user-list",
    "team-list",
    "team-membership-list",
    "tag-list",
    "partner-organization-list",
    "lead-scoring-list",
    "sla-policy-list",
    "business-hours-list",
    "call-list",
    "mailbox-list",
    "slack-workspace-list",
    "slack-channel-list",
}
# No object involved: any answer without unshared content, writes never succeed.
PUBLIC_URLS = {
    "healthz": "health check",
    "login": "the login pages (the project's and the admin's)",
    "password_change": "the admin's password form: redirects to the admin login",
    "password_change_done": "ditto",
    "schema": "the OpenAPI schema: structure, no data",
    "api-docs": "Swagger UI shell",
    "javascript-catalog": "translations",
    "chat-demo": "the anonymous web chat demo page of a chat inbox",
    "console": "redirects partners to the portal",
    "portal": "the portal shell: data comes through the API and the socket",
    # The website lead form: anonymous by design (spam checks in inbox/leads.py); only
    # inboxes of channel `form` answer, so the probed chat inbox key gets 404.
    "lead-capture": "the public website lead form",
    "lead-form-token": "the lead form's signed fill-time token",
    "survey": "the customer's survey page: 404 without a valid unguessable token",
}
# Analytics (dashboards, reports, exports): staff only, a partner gets 404 on every method.
STAFF_ONLY_URLS = {
    "dashboard",
    "reports",
    "report-export",
    "survey-list",
    "survey-aggregate",
    "metric-index",
    *(f"metric-{metric.replace('_', '-')}" for metric in reports.METRICS),
}
# Ends the session: probed with GET only (the other methods would sign the partner out).
SESSION_URLS = {"logout"}
# Signed webhooks: without a valid signature or token, 403/404 (405 for GET).
WEBHOOK_URLS = {
    "twilio-voice",
    "twilio-voice-status",
    "twilio-voice-after-dial",
    "twilio-voice-hold",
    "twilio-voice-recording",
    "twilio-voice-bridge",
    "twilio-voice-goodbye",
    "twilio-sms",
    "twilio-sms-status",
    "cti-event",
    "events",  # Slack's events endpoint: signed with the Slack signing secret
}
FILLERS = {
    "format": "json",
    "token": "not-a-token",
    "inbox_key": "secret-chat",
    "kind": "contacts",
}


@dataclass(frozen=True)
class Probe:
    pattern: str
    name: str
    namespace: str
    path: str
    params: frozenset[str]


def _fill(pattern: str, values: dict[str, str]) -> str:
    def value(name: str) -> str:
        if name not in values:
            raise KeyError(name)
        return values[name]

    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: value(m.group(1)), pattern)
    text = re.sub(r"<drf_format_suffix:(\w+)>", lambda m: "." + value(m.group(1)), text)
    text = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: value(m.group(1)), text)
    return text.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")


def _params(pattern: str) -> set[str]:
    return set(re.findall(r"<(?:\w+:)?(\w+)>", pattern)) | set(re.findall(r"\(\?P<(\w+)>", pattern))


def walk(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""
) -> list[tuple[str, URLPattern, str]]:
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            found += walk(entry, prefix + str(entry.pattern), entry.namespace or namespace)
        else:
            found.append((prefix + str(entry.pattern), entry, namespace))
    return found


def probes_for(
    pattern: str, entry: URLPattern, namespace: str, ids: dict[str, list[int]]
) -> list[Probe]:
    name = entry.name or ""
    params = _params(pattern)
    if namespace == "admin":
        # The admin is for staff: every admin URL, with the ids of unshared objects.
        values = {"object_id": str(ids["conversations"][0]), "content_type_id": "1"}
        values |= {"app_label": "inbox", "url": f"inbox/conversation/{ids['conversations'][0]}/"}
        values |= FILLERS
        return [Probe(pattern, name, namespace, "/" + _fill(pattern, values), frozenset(params))]
    if name in OBJECT_URLS:
        kind = OBJECT_URLS[name]
        return [
            Probe(
                pattern,
                name,
                namespace,
                "/" + _fill(pattern, {**FILLERS, "pk": str(pk)}),
                frozenset(params),
            )
            for pk in [*ids[kind], 999_999_999]
        ]
    known = LIST_URLS | PUBLIC_URLS.keys() | SESSION_URLS | WEBHOOK_URLS | STAFF_ONLY_URLS
    assert name in known, (
        f"URL pattern {pattern!r} (name {name!r}) is new to the partner-isolation test: "
        "classify it in OBJECT_URLS, LIST_URLS, PUBLIC_URLS, STAFF_ONLY_URLS or WEBHOOK_URLS."
    )
    unknown = params - FILLERS.keys()
    assert not unknown, f"{pattern!r}: the isolation test cannot fill {sorted(unknown)}"
    return [Probe(pattern, name, namespace, "/" + _fill(pattern, FILLERS), frozenset(params))]


def body_of(response: HttpResponseBase) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response.content


@pytest.fixture
def world(people: Personas, settings: Any, tmp_path: Path) -> dict[str, list[int]]:
    """Objects the partner of org A must never reach, plus what is shared with them."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SEARCH_INDEX_DIR = tmp_path / "index"
    settings.SEARCH_INDEX_IN_BACKGROUND = False
    agent = people.agent
    account = Account.objects.create(name=f"{SECRET} account")
    contact = do_create_contact(f"{SECRET} contact", account=account, by=agent)
    deal = Deal.objects.create(title=f"{SECRET} deal", account=account)
    task = Task.objects.create(title=f"{SECRET} task")
    inbox = make_inbox(people.support, key="secret-chat")
    phone = make_inbox(people.support, key="phone", channel=Channel.PHONE, address="+15005550006")
    secret = inbound(
        inbox, f"{SECRET} message", subject=f"{SECRET} subject", contact=contact, thread_key="s"
    ).conversation
    actions.do_add_note(secret, f"{SECRET} internal note", by=agent)
    actions.do_reply(secret, f"{SECRET} reply", by=agent)
    other = inbound(inbox, f"{SECRET} for B", subject=f"{SECRET} B", thread_key="b").conversation
    actions.do_share(other, people.org_b, by=agent)
    actions.do_add_note(other, f"{SECRET} note for B", by=agent, share_with=[people.org_b])
    shared = inbound(inbox, "Please check the delivery", subject="Delivery", thread_key="a")
    actions.do_share(shared.conversation, people.org_a, by=agent)
    actions.do_add_note(shared.conversation, f"{SECRET} staff-only note", by=agent)
    actions.do_add_note(
        shared.conversation, "Supplier, please look", by=agent, share_with=[people.org_a]
    )
    notes = [
        kb_actions.do_add_note(f"{SECRET} kb note", by=agent),
        kb_actions.do_add_note(
            f"{SECRET} kb note for B",
            by=agent,
            sharing=Sharing(visibility="partner", partners=[people.org_b]),
        ),
    ]
    documents = [
        kb_actions.do_upload_document(f"{SECRET} document".encode(), "secret.txt", by=agent),
        kb_actions.do_upload_document(
            f"{SECRET} document for B".encode(),
            "b.txt",
            by=agent,
            sharing=Sharing(visibility="partner", partners=[people.org_b]),
        ),
    ]
    rule = RoutingRule.objects.create(
        name=f"{SECRET} rule",
        position=1,
        conditions={"words": [SECRET]},
        actions={"priority": "high"},
    )
    canned = CannedResponse.objects.create(
        shortcut="secret", title=f"{SECRET} canned", body=f"{SECRET} canned body"
    )
    call = Call.objects.create(
        sid="CA-secret", inbox=phone, conversation=secret, contact=contact, team=people.support
    )
    webhook = WebhookSubscription.objects.create(
        name=f"{SECRET} hook", url=f"http://127.0.0.1:9/{SECRET}", event_types=["message.*"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=webhook, source_key="event.1", event_type="message.created", payload={}
    )
    secret_reply = secret.messages.filter(direction="outbound").first()
    attachments = do_add_attachments(
        secret_reply, [AttachmentInput(f"{SECRET}.txt", "text/plain", SECRET.encode())]
    )
    shared_attachments = do_add_attachments(
        shared.message, [AttachmentInput("delivery.txt", "text/plain", b"delivery note")]
    )
    tag = Tag.objects.create(name=f"{SECRET}-tag")
    scoring = LeadScoring.objects.create(name=f"{SECRET} scoring")
    sla = SlaPolicy.objects.create(priority="high", first_response_minutes=30)
    hours = BusinessHours.objects.create(team=people.support, time_zone="Europe/Oslo")
    survey = Survey.objects.create(
        conversation=secret,
        token=f"{SECRET}-token",
        channel=Channel.CHAT,
        sent_at=secret.created_at,
        comment=f"{SECRET} comment",
    )
    mailbox = Mailbox.objects.create(
        inbox=make_inbox(people.support, key="mail", channel=Channel.EMAIL, address="s@hub.test"),
        imap_host="127.0.0.1",
        imap_user=f"{SECRET}-user",
        from_address="s@hub.test",
    )
    workspace = SlackWorkspace.objects.create(team_id="T-SECRET", name=f"{SECRET} workspace")
    slack_channel = SlackChannel.objects.create(
        workspace=workspace,
        channel_id="C-SECRET",
        name=SECRET,
        kind=ChannelKind.TEAM,
        team=people.support,
    )
    return {
        "attachments": [a.pk for a in attachments],
        "shared_attachment": [a.pk for a in shared_attachments],
        "users": [people.agent.pk, people.partner_a.pk, people.partner_b.pk],
        "teams": [people.support.pk],
        "team_memberships": list(TeamMembership.objects.values_list("pk", flat=True)[:1]),
        "tags": [tag.pk],
        "partner_organizations": [people.org_a.pk, people.org_b.pk],
        "lead_scorings": [scoring.pk],
        "sla_policies": [sla.pk],
        "business_hours": [hours.pk],
        "surveys": [survey.pk],
        "mailboxes": [mailbox.pk],
        "slack_workspaces": [workspace.pk],
        "slack_channels": [slack_channel.pk],
        "conversations": [secret.pk, other.pk],
        "shared_conversation": [shared.conversation.pk],
        "notes": [n.pk for n in notes],
        "documents": [d.pk for d in documents],
        "contacts": [contact.pk],
        "accounts": [account.pk],
        "deals": [deal.pk],
        "tasks": [task.pk],
        "calls": [call.pk],
        "routing_rules": [rule.pk],
        "webhooks": [webhook.pk],
        "webhook_deliveries": [delivery.pk],
        "canned_responses": [canned.pk],
    }


def _snapshot() -> dict[str, Any]:
    return {
        "messages": Message.objects.count(),
        "conversation_notes": ConversationNote.objects.count(),
        "shares": sorted(ConversationShare.objects.values_list("conversation", "organization")),
        "notes": Note.objects.count(),
        "documents": Document.objects.count(),
        "contacts": Contact.objects.count(),
        "accounts": Account.objects.count(),
        "deals": Deal.objects.count(),
        "tasks": Task.objects.count(),
        "conversations": sorted(
            Conversation.objects.values_list("pk", "status", "assignee", "priority")
        ),
        "audit": AuditLogEntry.objects.count(),
        "webhooks": sorted(WebhookSubscription.objects.values_list("pk", "url", "is_active")),
        "users": sorted(User.objects.values_list("pk", "email", "role", "is_active")),
        "teams": sorted(Team.objects.values_list("pk", "name")),
        "memberships": sorted(TeamMembership.objects.values_list("team", "user")),
        "tags": sorted(Tag.objects.values_list("pk", "name")),
        "partner_organizations": sorted(PartnerOrganization.objects.values_list("pk", "name")),
        "lead_scoring": sorted(LeadScoring.objects.values_list("pk", "name", "size_weight")),
        "sla_policies": sorted(SlaPolicy.objects.values_list("pk", "priority")),
        "business_hours": sorted(BusinessHours.objects.values_list("pk", "time_zone")),
    }


@pytest.mark.django_db
def test_a_partner_gets_404_or_nothing_on_every_url_of_the_project(
    people: Personas, world: dict[str, list[int]]
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(people.partner_a)
    before = _snapshot()
    payload = {
        "body": f"{SECRET} probe",
        "partner": people.org_a.pk,
        "partners": [people.org_a.pk],
        "assignee": people.partner_a.pk,
        "status": "resolved",
        "visibility": "partner",
        "conversation": world["conversations"][0],
        "contact": world["contacts"][0],
        "account": world["accounts"][0],
        "name": "probe",
        "title": "probe",
    }
    probes = [
        probe for pattern, entry, ns in walk() for probe in probes_for(pattern, entry, ns, world)
    ]
    assert len(probes) > 200
    failures = []
    for probe in probes:
        match = resolve(probe.path.split("?")[0])
        assert match.url_name == (probe.name or None) or probe.namespace == "admin", probe
        methods = ("get",) if probe.name in SESSION_URLS else ("get", *WRITE_METHODS)
        query = (
            {"q": SECRET, "phone": "+4790000000", "page_size": "500"}
            if probe.name in LIST_URLS
            else {}
        )
        for method in methods:
            if method == "get":
                response = client.get(probe.path, query)
            else:
                response = getattr(client, method)(
                    probe.path, json.dumps(payload), content_type="application/json"
                )
            status = response.status_code
            content = body_of(response)
            problem = _judge(probe, method, status, content)
            if SECRET.encode() in content:
                problem = "unshared content in the answer"
            if problem:
                failures.append(f"{method.upper()} {probe.path} → {status}: {problem}")
            assert client.session.get("_auth_user_id") == str(people.partner_a.pk), probe
    assert not failures, "\n".join(failures)
    assert _snapshot() == before


def _judge(probe: Probe, method: str, status: int, content: bytes) -> str:
    if status >= 500:
        return "server error"
    if probe.namespace == "admin" and probe.name not in PUBLIC_URLS:
        return "" if status in (302, 403, 404) else "the admin answered a partner"
    if probe.name in OBJECT_URLS:
        return "" if status in (404, 405) else "an unshared object answered"
    if probe.name in STAFF_ONLY_URLS:
        return "" if status == 404 else "an analytics page answered a partner"
    if 200 <= status < 300 and method != "get" and probe.name not in PUBLIC_URLS:
        return "a write was accepted"
    if probe.name in LIST_URLS:
        return "" if status in (200, 400, 403, 404, 405) else "unexpected status"
    if probe.name in WEBHOOK_URLS:
        return "" if status in (403, 404, 405) else "an unsigned webhook was accepted"
    return ""  # public pages: anything but a server error, without unshared content


@pytest.mark.django_db
def test_answers_for_unshared_ids_look_like_answers_for_missing_ids(
    people: Personas, world: dict[str, list[int]]
) -> None:
    client = Client()
    client.force_login(people.partner_a)
    for pattern, entry, namespace in walk():
        if entry.name not in OBJECT_URLS or "format" in _params(pattern):
            continue
        probes = probes_for(pattern, entry, namespace, world)
        missing = probes[-1]
        for probe in probes[:-1]:
            for method in ("get", *WRITE_METHODS):
                seen = getattr(client, method)(probe.path)
                expected = getattr(client, method)(missing.path)
                assert seen.status_code == expected.status_code, (method, probe.path)


@pytest.mark.django_db
def test_a_partner_works_in_what_is_shared_and_sees_no_staff_only_notes(
    people: Personas, world: dict[str, list[int]]
) -> None:
    client = Client()
    client.force_login(people.partner_a)
    [shared] = world["shared_conversation"]
    listed = client.get("/api/v1/conversations/").json()
    assert [c["id"] for c in listed["results"]] == [shared]
    for path in (
        f"/api/v1/conversations/{shared}/notes/",
        f"/api/v1/conversations/{shared}/messages/",
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert SECRET.encode() not in response.content
    notes = client.get(f"/api/v1/conversations/{shared}/notes/").json()
    assert [n["body"] for n in notes["results"]] == ["Supplier, please look"]
    reply = client.post(
        f"/api/v1/conversations/{shared}/messages/",
        {"body": "Shipped today"},
        content_type="application/json",
    )
    assert reply.status_code == 201, reply.content
    message = Message.objects.get(pk=reply.json()["id"])
    assert (message.direction, message.author, message.inbox.channel) == (
        "outbound",
        people.partner_a,
        "chat",
    )
    note = client.post(
        f"/api/v1/conversations/{shared}/notes/",
        {"body": "We are on it"},
        content_type="application/json",
    )
    assert note.status_code == 201, note.content
    assert list(ConversationNote.objects.get(pk=note.json()["id"]).shared_with.all()) == [
        people.org_a
    ]
    # Staff see the partner's note; partner B sees nothing of it.
    client_b = Client()
    client_b.force_login(people.partner_b)
    assert client_b.get(f"/api/v1/conversations/{shared}/notes/").status_code == 404


@pytest.mark.django_db
def test_sharing_and_unsharing_are_audited_and_pushed(people: Personas) -> None:
    from inbox.models import Event

    conversation = inbound(make_inbox(people.support)).conversation
    actions.do_share(conversation, people.org_a, by=people.agent)
    actions.do_unshare(conversation, people.org_a, by=people.agent)
    assert list(
        AuditLogEntry.objects.filter(object_id=str(conversation.pk))
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["conversation.shared", "conversation.unshared"]
    partner_events = [
        e.type for e in Event.objects.filter(audience__contains=f" partner.{people.org_a.pk} ")
    ]
    assert partner_events == ["conversation.updated", "conversation.unshared"]


@pytest.mark.django_db
def test_a_partner_can_never_be_assigned(people: Personas) -> None:
    conversation = inbound(make_inbox(people.support)).conversation
    with pytest.raises(Exception, match="staff"):
        actions.do_assign(conversation, people.partner_a, by=people.supervisor)


db = database_sync_to_async


@pytest.mark.django_db(transaction=True)
async def test_a_partner_socket_gets_nothing_about_unshared_conversations(
    fresh_channel_layer: None,
) -> None:
    people = await db(make_personas)()
    inbox = await db(make_inbox)(people.support)
    secret = (await db(inbound)(inbox, f"{SECRET} hello", thread_key="s")).conversation
    other = (await db(inbound)(inbox, f"{SECRET} b", thread_key="b")).conversation
    await db(actions.do_share)(other, people.org_b, by=people.agent)
    partner = await sockets.console(people.partner_a)
    frames = await partner.drain()
    for conversation_id in (secret.pk, other.pk):
        for action in ("view", "typing", "leave", "subscribe"):
            await partner.send({"action": action, "conversation": conversation_id})
            frames.append(await partner.receive())
    await partner.send({"action": "resume", "since": 0})
    # Events keep happening in the unshared conversations while the partner listens.
    await db(inbound)(inbox, f"{SECRET} again", thread_key="s")
    await db(actions.do_reply)(secret, f"{SECRET} answer", by=people.agent)
    await db(actions.do_add_note)(
        other, f"{SECRET} note", by=people.agent, share_with=[people.org_b]
    )
    await db(actions.do_assign)(secret, people.teammate, by=people.agent)
    frames += await partner.drain(quiet=0.6)
    await partner.close()
    assert all(SECRET not in json.dumps(frame) for frame in frames), frames
    answers = [f for f in frames if f["type"] == "error"]
    assert len(answers) == 8
    assert {f["data"]["code"] for f in answers} <= {"not_found", "unknown_action"}
    assert not [
        f
        for f in frames
        if f["type"] not in ("error", "pong", "resumed", "hello")
        and (
            f["data"].get("conversation") in (secret.pk, other.pk)
            or (f["data"].get("conversation") or {}).get("id") in (secret.pk, other.pk)
        )
    ]


def test_a_url_the_walk_does_not_know_fails_the_walk() -> None:
    new = URLPattern(RoutePattern("widgets/<int:pk>/"), lambda request: None, name="widget-detail")
    with pytest.raises(AssertionError, match="new to the partner-isolation test"):
        probes_for("api/v1/widgets/<int:pk>/", new, "", {})
    assert {"conversation-detail", "note-detail", "document-detail"} <= {
        entry.name for _pattern, entry, _ns in walk()
    }


@pytest.mark.django_db
def test_sharing_notes_and_documents_with_partners_is_audited_and_pushed(
    people: Personas, settings: Any, tmp_path: Path
) -> None:
    from inbox.models import Event

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SEARCH_INDEX_DIR = tmp_path / "index"
    settings.SEARCH_INDEX_IN_BACKGROUND = False
    for_a = Sharing(visibility="partner", partners=[people.org_a])
    note = kb_actions.do_add_note("Spec for the supplier", by=people.agent, sharing=for_a)
    document = kb_actions.do_upload_document(b"price list", "prices.txt", by=people.agent)
    kb_actions.do_update_document(document, by=people.agent, sharing=for_a)
    kb_actions.do_edit_note(
        note, by=people.agent, sharing=Sharing(visibility="partner", partners=[people.org_b])
    )
    audit = AuditLogEntry.objects.filter(action__endswith=".partners").order_by("id")
    assert [(e.action, e.changes) for e in audit] == [
        ("note.partners", {"added": [people.org_a.pk], "removed": []}),
        ("document.partners", {"added": [people.org_a.pk], "removed": []}),
        ("note.partners", {"added": [people.org_b.pk], "removed": [people.org_a.pk]}),
    ]
    pushed = [
        (e.type, e.data["item"]["id"], sorted(e.audience_keys))
        for e in Event.objects.filter(type__in=["note.shared", "note.unshared", "document.shared"])
    ]
    assert pushed == [
        ("note.shared", note.pk, [f"partner.{people.org_a.pk}"]),
        ("document.shared", document.pk, [f"partner.{people.org_a.pk}"]),
        ("note.shared", note.pk, [f"partner.{people.org_b.pk}"]),
        ("note.unshared", note.pk, [f"partner.{people.org_a.pk}"]),
    ]
