"""What the Slack bridge does, as domain functions: store an acknowledged Slack event,
turn it into inbox actions, queue posts to Slack (replies, mirror threads,
notifications) and record how they went. Each write is one transaction; nothing here
talks to Slack except through slack_bridge.client, and never inside a transaction."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from hub.actions import contacts_with_email
from hub.models import User
from hub.retry import next_attempt_at
from inbox import actions as inbox_actions
from inbox.delivery import do_update_message, mark_message_status
from inbox.models import Conversation, Event, Message, MessageStatus
from inbox.notifications import Notification
from slack_bridge import client
from slack_bridge.models import (
    ChannelKind,
    EventLogCursor,
    MirrorThread,
    PostKind,
    SlackChannel,
    SlackEvent,
    SlackPost,
    SlackUserLink,
    SlackWorkspace,
    WorkState,
)

CURSOR_NAME = "slack_bridge.mirror"
MIRRORED_EVENT_TYPES = ("conversation.created", "conversation.updated", "message.created")
# Message subtypes that are people writing; edits, joins, bot posts … are not input.
HUMAN_SUBTYPES = {None, "", "thread_broadcast", "file_share"}


def thread_key(channel_id: str, root_ts: str) -> str:
    return f"{channel_id}:{root_ts}"


def slack_text(text: str) -> str:
    """Slack escapes &, < and > in message text (its mrkdwn); customers get plain text."""
    return html.unescape(text or "").strip()


# ---------------------------------------------------------------- the events endpoint


def signing_secrets() -> list[str]:
    secrets = [settings.SLACK_SIGNING_SECRET]
    for workspace in SlackWorkspace.objects.filter(is_active=True).exclude(signing_secret_env=""):
        secrets.append(workspace.signing_secret)
    return [secret for secret in secrets if secret]


def check_event_envelope(payload: Any) -> tuple[str, str, str]:
    """(event_id, team_id, event type) of an event_callback, or a ValidationError."""
    if not isinstance(payload, dict):
        raise ValidationError("The body is not a JSON object.")
    event_id = payload.get("event_id")
    event = payload.get("event")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 64:
        raise ValidationError("event_id is missing.")
    if not isinstance(event, dict):
        raise ValidationError("event is missing.")
    return event_id, str(payload.get("team_id") or "")[:32], str(event.get("type") or "")[:64]


def store_event(payload: dict[str, Any]) -> tuple[SlackEvent, bool]:
    """Keep an event_callback durably; a retry of the same event_id stores nothing."""
    event_id, team_id, event_type = check_event_envelope(payload)
    existing = SlackEvent.objects.filter(event_id=event_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            stored = SlackEvent.objects.create(
                event_id=event_id,
                team_id=team_id,
                event_type=event_type,
                payload=payload,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        # Slack retried while the first delivery was still being stored.
        return SlackEvent.objects.get(event_id=event_id), False
    return stored, True


# ---------------------------------------------------------------- processing events


class Skip(Exception):
    """The event is valid but not for us (a bot post, an unconnected channel …)."""


@dataclass(frozen=True)
class SlackAuthor:
    slack_user_id: str
    name: str
    email: str
    user: User | None


def _claim(queryset: QuerySet, worker: str, limit: int) -> list[int]:
    """Conditional UPDATEs: of two workers, only one wins a row. A row left WORKING by
    a worker that died is taken again after SLACK_STALE_SECONDS."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SLACK_STALE_SECONDS)
    due = queryset.filter(
        Q(state=WorkState.PENDING, next_attempt_at__lte=now)
        | Q(state=WorkState.PENDING, next_attempt_at__isnull=True)
        | Q(state=WorkState.WORKING, claimed_at__lt=stale)
    )
    won = []
    rows = due.order_by("id").values_list("pk", "state", "claimed_at")[:limit]
    for pk, state, claimed_at in rows:
        if queryset.model.objects.filter(pk=pk, state=state, claimed_at=claimed_at).update(
            state=WorkState.WORKING, claimed_by=worker, claimed_at=now, attempts=F("attempts") + 1
        ):
            won.append(pk)
    return won


def claim_events(worker: str, *, limit: int = 50) -> list[SlackEvent]:
    ids = _claim(SlackEvent.objects.all(), worker, limit)
    return list(SlackEvent.objects.filter(pk__in=ids).order_by("id"))


def _finish_event(event: SlackEvent, state: str, result: str = "") -> None:
    SlackEvent.objects.filter(pk=event.pk).update(
        state=state, result=result[:2000], processed_at=timezone.now(), claimed_by=""
    )


def _retry_event(event: SlackEvent, error: str) -> None:
    if event.attempts >= settings.SLACK_MAX_ATTEMPTS:
        _finish_event(event, WorkState.FAILED, f"gave up after {event.attempts} attempts: {error}")
        return
    SlackEvent.objects.filter(pk=event.pk).update(
        state=WorkState.PENDING,
        next_attempt_at=next_attempt_at(event.attempts, settings.SLACK_RETRY_SECONDS),
        result=error[:2000],
        claimed_by="",
    )


def process_event(event: SlackEvent) -> str:
    """Do what one stored event asks and record the outcome on its row; returns the
    final state. A temporary Slack failure (users.info) leaves it for a later try."""
    try:
        action = _plan(event)
    except Skip as skip:
        with transaction.atomic():
            _finish_event(event, WorkState.SKIPPED, str(skip))
            if isinstance(skip, Unmapped):
                _tell_author(
                    event,
                    "Not sent: your Slack account is not linked to a hub user "
                    "(same e-mail address, or a Slack user link in the admin).",
                )
        return WorkState.SKIPPED
    except client.SlackError as exc:
        if exc.permanent:
            _finish_event(event, WorkState.FAILED, str(exc))
            return WorkState.FAILED
        _retry_event(event, str(exc))
        return WorkState.PENDING
    try:
        with transaction.atomic():
            result = action()
            # Marked done in the action's own transaction: a crash in between cannot
            # make a Slack reply reach the customer twice.
            _finish_event(event, WorkState.DONE, result)
    except (ValidationError, PermissionDenied) as exc:
        with transaction.atomic():
            _finish_event(event, WorkState.FAILED, _error_text(exc))
            _tell_author(event, f"Not sent: {_error_text(exc)}")
        return WorkState.FAILED
    return WorkState.DONE


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


def _plan(event: SlackEvent) -> Callable[[], str]:
    """What to do, decided outside any transaction (users.info may call Slack)."""
    inner = event.payload.get("event") or {}
    if inner.get("type") != "message":
        raise Skip(f"event type {inner.get('type')!r} is not handled")
    if inner.get("subtype") not in HUMAN_SUBTYPES:
        raise Skip(f"message subtype {inner.get('subtype')!r}")
    if inner.get("bot_id") or inner.get("bot_profile"):
        raise Skip("a bot's message (ours included): never input")
    workspace = SlackWorkspace.objects.filter(team_id=event.team_id, is_active=True).first()
    if workspace is None:
        raise Skip(f"workspace {event.team_id!r} is not connected")
    user_id = str(inner.get("user") or "")
    if not user_id or user_id == workspace.bot_user_id:
        raise Skip("no human author")
    channel = (
        SlackChannel.objects.select_related("inbox", "team")
        .filter(workspace=workspace, channel_id=inner.get("channel"), is_active=True)
        .first()
    )
    if channel is None:
        raise Skip(f"channel {inner.get('channel')!r} is not connected")
    text = slack_text(str(inner.get("text") or ""))
    if not text:
        raise Skip("no text")
    ts = str(inner.get("ts") or "")
    root_ts = str(inner.get("thread_ts") or ts)
    if channel.kind == ChannelKind.TEAM:
        mirror = MirrorThread.objects.filter(channel=channel, thread_ts=root_ts).first()
        if mirror is None or root_ts == ts:
            raise Skip("not a reply in a mirrored conversation thread")
        author = slack_author(workspace, user_id)
        if author.user is None or not author.user.is_active or not author.user.is_internal:
            raise Unmapped(author)
        return lambda: _bridge_reply(mirror, author.user, text)
    author = slack_author(workspace, user_id)
    return lambda: _receive(channel, inner, author, text, ts, root_ts)


class Unmapped(Skip):
    def __init__(self, author: SlackAuthor) -> None:
        super().__init__(f"Slack user {author.slack_user_id} is not mapped to a hub user")


def _receive(
    channel: SlackChannel,
    inner: dict[str, Any],
    author: SlackAuthor,
    text: str,
    ts: str,
    root_ts: str,
) -> str:
    contact = contacts_with_email(author.email).first() if author.email else None
    received = inbox_actions.receive_message(
        channel.inbox,
        body_text=text,
        external_id=thread_key(channel.channel_id, ts),
        thread_key=thread_key(channel.channel_id, root_ts),
        sender_name=author.name,
        sender_address=author.email,
        contact=contact,
        subject=text.splitlines()[0][:120] if root_ts == ts else "",
        metadata={
            "slack": {
                "channel": channel.channel_id,
                "ts": ts,
                "thread_ts": root_ts,
                "user": author.slack_user_id,
            }
        },
    )
    state = "stored" if received.created else "already stored"
    return f"message {received.message.pk} {state} in conversation {received.conversation.pk}"


def note_prefix() -> str:
    return settings.SLACK_NOTE_PREFIX


def _bridge_reply(mirror: MirrorThread, user: User, text: str) -> str:
    conversation = Conversation.objects.get(pk=mirror.conversation_id)
    prefix = note_prefix()
    if text.lower().startswith(prefix.lower()):
        note = inbox_actions.do_add_note(conversation, text[len(prefix) :], by=user)
        return f"note {note.pk} on conversation {conversation.pk}"
    message = inbox_actions.do_reply(conversation, text, by=user)
    return f"reply {message.pk} on conversation {conversation.pk}"


def _tell_author(event: SlackEvent, text: str) -> None:
    """A short notice in the thread the author wrote in (the bridge's only feedback)."""
    inner = event.payload.get("event") or {}
    workspace = SlackWorkspace.objects.filter(team_id=event.team_id).first()
    channel_id = str(inner.get("channel") or "")
    if workspace is None or not channel_id:
        return
    SlackPost.objects.create(
        workspace=workspace,
        kind=PostKind.NOTICE,
        channel_id=channel_id,
        thread_ts=str(inner.get("thread_ts") or inner.get("ts") or ""),
        text=text,
        next_attempt_at=timezone.now(),
    )


def slack_author(workspace: SlackWorkspace, slack_user_id: str) -> SlackAuthor:
    """Who wrote: a configured SlackUserLink, else users.info's e-mail matched to a hub
    user (remembered in a SlackUserLink). Raises SlackError if Slack cannot say."""
    link = (
        SlackUserLink.objects.select_related("user")
        .filter(workspace=workspace, slack_user_id=slack_user_id)
        .first()
    )
    if link is None:
        profile = client.user_info(workspace, slack_user_id)
        details = profile.get("profile") or {}
        email = str(details.get("email") or "")[:255]
        name = str(
            details.get("real_name") or profile.get("real_name") or profile.get("name") or ""
        )[:255]
        user = User.objects.filter(email__iexact=email).first() if email else None
        link, _ = SlackUserLink.objects.get_or_create(
            workspace=workspace,
            slack_user_id=slack_user_id,
            defaults={"email": email, "display_name": name, "user": user},
        )
    return SlackAuthor(
        slack_user_id=slack_user_id,
        name=link.display_name or (link.user.full_name if link.user else "") or slack_user_id,
        email=link.email or (link.user.email if link.user else ""),
        user=link.user,
    )


def process_due_events(worker: str) -> int:
    return sum(process_event(event) != WorkState.PENDING for event in claim_events(worker))


# ---------------------------------------------------------------- outbound: queueing


def channel_for_inbox(inbox_id: int) -> SlackChannel | None:
    return (
        SlackChannel.objects.select_related("workspace")
        .filter(inbox_id=inbox_id, is_active=True)
        .exclude(kind=ChannelKind.TEAM)
        .first()
    )


def queue_reply(message: Message) -> None:
    """inbox.outbound sender for Slack: runs inside the reply's transaction and only
    writes the post that the worker will make into the conversation's thread."""
    conversation = message.conversation
    channel = channel_for_inbox(conversation.inbox_id)
    if channel is None:
        raise ValidationError({"body": "This inbox is not connected to a Slack channel."})
    channel_id, _, root_ts = conversation.thread_key.partition(":")
    if channel_id != channel.channel_id or not root_ts:
        raise ValidationError({"body": "This conversation has no Slack thread to reply in."})
    SlackPost.objects.create(
        workspace=channel.workspace,
        kind=PostKind.REPLY,
        channel_id=channel_id,
        thread_ts=root_ts,
        text=message.body_text,
        message=message,
        next_attempt_at=timezone.now(),
    )


def queue_notification(notification: Notification) -> None:
    """inbox.notifications notifier for "slack": one post to the target channel."""
    target = (notification.target or "").strip()
    if not target:
        raise ValidationError({"notify": "A Slack notification needs a channel id."})
    channel = SlackChannel.objects.select_related("workspace").filter(channel_id=target).first()
    workspace = (
        channel.workspace
        if channel is not None
        else SlackWorkspace.objects.filter(is_active=True).order_by("id").first()
    )
    if workspace is None:
        raise ValidationError({"notify": "No Slack workspace is connected."})
    SlackPost.objects.create(
        workspace=workspace,
        kind=PostKind.NOTIFICATION,
        channel_id=target,
        text=notification.text,
        next_attempt_at=timezone.now(),
    )


# ---------------------------------------------------------------- mirroring (event log)


def _team_channels() -> dict[int, list[SlackChannel]]:
    by_team: dict[int, list[SlackChannel]] = {}
    for channel in SlackChannel.objects.select_related("workspace").filter(
        kind=ChannelKind.TEAM, is_active=True, team__isnull=False, workspace__is_active=True
    ):
        by_team.setdefault(channel.team_id, []).append(channel)
    return by_team


def follow_event_log(*, limit: int = 500) -> int:
    """Read inbox's event log past our cursor and queue mirror posts. Event ids are
    handed out in commit order, so `id > cursor` never skips a late commit; each event
    is handled in one transaction with the cursor move (no double posts on a crash)."""
    cursor, _ = EventLogCursor.objects.get_or_create(name=CURSOR_NAME)
    events = list(
        Event.objects.filter(id__gt=cursor.last_event_id, type__in=MIRRORED_EVENT_TYPES).order_by(
            "id"
        )[:limit]
    )
    if not events:
        return 0
    channels = _team_channels()
    if not channels:
        EventLogCursor.objects.filter(pk=cursor.pk).update(last_event_id=events[-1].pk)
        return len(events)
    for event in events:
        with transaction.atomic():
            _mirror(event, channels)
            EventLogCursor.objects.filter(pk=cursor.pk).update(last_event_id=event.pk)
    return len(events)


def _mirror(event: Event, channels: dict[int, list[SlackChannel]]) -> None:
    data = event.data or {}
    if event.type in ("conversation.created", "conversation.updated"):
        team_id = (data.get("conversation") or {}).get("team")
        conversation_id = (data.get("conversation") or {}).get("id")
        for channel in channels.get(team_id, []):
            # Mirroring starts when the team channel is configured, not retroactively.
            if channel.created_at <= event.created_at:
                _open_mirror(conversation_id, channel)
        return
    message = data.get("message") or {}
    if message.get("direction") != "inbound":
        return
    for mirror in MirrorThread.objects.select_related("channel__workspace").filter(
        conversation_id=data.get("conversation")
    ):
        sender = message.get("sender_name") or "Customer"
        SlackPost.objects.create(
            workspace=mirror.channel.workspace,
            kind=PostKind.MIRROR_APPEND,
            channel_id=mirror.channel.channel_id,
            mirror=mirror,
            text=f"*{sender}:* {message.get('body_text', '')}",
            next_attempt_at=timezone.now(),
        )


def _open_mirror(conversation_id: int | None, channel: SlackChannel) -> None:
    conversation = (
        Conversation.objects.select_related("contact", "inbox").filter(pk=conversation_id).first()
    )
    if conversation is None:
        return
    mirror, created = MirrorThread.objects.get_or_create(conversation=conversation, channel=channel)
    if not created:
        return
    who = conversation.contact.name if conversation.contact else ""
    if not who:
        first = conversation.messages.filter(direction="inbound").order_by("id").first()
        who = (first.sender_name or first.sender_address) if first else "unknown"
    text = (
        f"*Conversation #{conversation.pk}* ({conversation.get_channel_display()}, "
        f"{conversation.inbox.name}): {conversation.subject or '(no subject)'}\n"
        f"Customer: {who}\n"
        f"_Reply in this thread to answer the customer; start with `{note_prefix()}` "
        f"for an internal note._"
    )
    SlackPost.objects.create(
        workspace=channel.workspace,
        kind=PostKind.MIRROR_ROOT,
        channel_id=channel.channel_id,
        mirror=mirror,
        text=text,
        next_attempt_at=timezone.now(),
    )


# ---------------------------------------------------------------- outbound: sending


def claim_posts(worker: str, *, limit: int = 50) -> list[SlackPost]:
    # A mirror message waits until its thread's root post has a ts.
    ready = SlackPost.objects.filter(
        Q(mirror__isnull=True) | Q(kind=PostKind.MIRROR_ROOT) | ~Q(mirror__thread_ts="")
    )
    ids = _claim(ready, worker, limit)
    return list(
        SlackPost.objects.select_related("workspace", "mirror", "message")
        .filter(pk__in=ids)
        .order_by("id")
    )


def thread_for(post: SlackPost) -> str:
    if post.kind == PostKind.MIRROR_APPEND and post.mirror is not None:
        return post.mirror.thread_ts
    return post.thread_ts


@transaction.atomic
def mark_posted(post: SlackPost, ts: str) -> None:
    SlackPost.objects.filter(pk=post.pk).update(
        state=WorkState.DONE, posted_ts=ts, last_error="", claimed_by=""
    )
    if post.kind == PostKind.MIRROR_ROOT and post.mirror_id:
        MirrorThread.objects.filter(pk=post.mirror_id).update(thread_ts=ts)
    if post.message_id:
        # Our own post's id, so that Slack echoing it back could never store it twice.
        do_update_message(
            post.message,
            status=MessageStatus.SENT,
            external_id=thread_key(post.channel_id, ts) if ts else None,
        )


@transaction.atomic
def mark_post_failed(post: SlackPost, error: str) -> None:
    SlackPost.objects.filter(pk=post.pk).update(
        state=WorkState.FAILED, last_error=error[:2000], claimed_by=""
    )
    if post.message_id:
        mark_message_status(post.message, MessageStatus.FAILED, error)


def mark_post_retry(post: SlackPost, error: str) -> None:
    if post.attempts >= settings.SLACK_MAX_ATTEMPTS:
        mark_post_failed(post, f"gave up after {post.attempts} attempts: {error}")
        return
    SlackPost.objects.filter(pk=post.pk).update(
        state=WorkState.PENDING,
        next_attempt_at=next_attempt_at(post.attempts, settings.SLACK_RETRY_SECONDS),
        last_error=error[:2000],
        claimed_by="",
    )


def send_post(post: SlackPost) -> str:
    """Make one claimed post; returns its final or retry state."""
    try:
        ts = client.post_message(post.workspace, post.channel_id, post.text, thread_for(post))
    except client.SlackError as exc:
        if exc.permanent:
            mark_post_failed(post, str(exc))
            return WorkState.FAILED
        mark_post_retry(post, str(exc))
        return WorkState.PENDING
    mark_posted(post, ts)
    return WorkState.DONE
