"""POST /slack/events/: only Slack-signed, fresh requests are accepted; the event is
stored before the acknowledgement and the work happens afterwards in the worker."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from django.utils import timezone

from inbox.models import Conversation, Message
from slack_bridge import actions, worker
from slack_bridge.models import SlackEvent, WorkState
from tests.slack_bridge.conftest import Post, Slack, message_event, sign


def test_a_bad_signature_is_refused_and_nothing_is_stored(slack: Slack, post_event: Post) -> None:
    response = post_event(message_event("Hello"), secret="not-the-secret")
    assert response.status_code == 403
    assert not SlackEvent.objects.exists()
    worker.run_once()
    assert not Message.objects.exists()


def test_a_missing_signature_is_refused(slack: Slack, client) -> None:
    response = client.post(
        "/slack/events/", data=json.dumps(message_event("Hi")), content_type="application/json"
    )
    assert response.status_code == 403
    assert not SlackEvent.objects.exists()


def test_a_replayed_request_older_than_five_minutes_is_refused(
    slack: Slack, post_event: Post
) -> None:
    response = post_event(message_event("Hello again"), timestamp=int(time.time()) - 6 * 60)
    assert response.status_code == 403
    assert not SlackEvent.objects.exists()


def test_a_body_changed_after_signing_is_refused(slack: Slack, client) -> None:
    body = json.dumps(message_event("Original")).encode()
    now = int(time.time())
    response = client.post(
        "/slack/events/",
        data=body.replace(b"Original", b"Tampered"),
        content_type="application/json",
        HTTP_X_SLACK_REQUEST_TIMESTAMP=str(now),
        HTTP_X_SLACK_SIGNATURE=sign(body, now),
    )
    assert response.status_code == 403


def test_the_url_verification_challenge_is_answered(db: None, post_event: Post) -> None:
    response = post_event({"type": "url_verification", "token": "t", "challenge": "3eZbrw1aB"})
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aB"}
    assert not SlackEvent.objects.exists()


def test_a_signed_body_that_is_not_an_event_gets_400(db: None, post_event: Post) -> None:
    assert post_event(b"not json").status_code == 400
    assert post_event({"type": "event_callback", "event": {}}).status_code == 400
    assert not SlackEvent.objects.exists()


def test_slacks_retries_of_one_event_make_one_message(slack: Slack, post_event: Post) -> None:
    payload = message_event("Our pallet never arrived", event_id="EvRETRY1")
    assert post_event(payload).status_code == 200
    retried = post_event(
        payload, HTTP_X_SLACK_RETRY_NUM="1", HTTP_X_SLACK_RETRY_REASON="http_timeout"
    )
    assert retried.status_code == 200
    assert SlackEvent.objects.count() == 1
    worker.run_once()
    assert post_event(payload, HTTP_X_SLACK_RETRY_NUM="2").status_code == 200
    worker.run_once()
    assert Message.objects.filter(body_text="Our pallet never arrived").count() == 1
    assert Conversation.objects.count() == 1


def test_the_acknowledgement_comes_before_the_work(slack: Slack, post_event: Post) -> None:
    response = post_event(message_event("Is anyone there?", event_id="EvACK1"))

    # Acknowledged: the event is durably stored and nothing has been done with it yet.
    assert response.status_code == 200
    stored = SlackEvent.objects.get(event_id="EvACK1")
    assert stored.state == WorkState.PENDING
    assert stored.payload["event"]["text"] == "Is anyone there?"
    assert not Message.objects.exists()

    counts = worker.run_once()

    assert counts["events"] == 1
    stored.refresh_from_db()
    assert stored.state == WorkState.DONE
    message = Message.objects.get()
    assert message.body_text == "Is anyone there?"
    assert message.conversation.channel == "slack"


def test_an_event_the_worker_could_not_finish_is_retried(
    slack: Slack, post_event: Post, fake_slack
) -> None:
    fake_slack.failures["users.info"] = ["ratelimited"]
    post_event(message_event("Hello?", event_id="EvLATER"))
    worker.run_once()
    stored = SlackEvent.objects.get(event_id="EvLATER")
    assert stored.state == WorkState.PENDING
    assert "ratelimited" in stored.result
    assert not Message.objects.exists()
    worker.run_once()
    stored.refresh_from_db()
    assert stored.state == WorkState.DONE
    assert Message.objects.get().sender_name == "Kari Nordmann"


def test_messages_from_bots_and_unknown_channels_are_ignored(
    slack: Slack, post_event: Post
) -> None:
    post_event(message_event("echo of our own post", user="UBOT"))
    post_event(message_event("a bot", bot_id="B123"))
    post_event(message_event("edited", subtype="message_changed"))
    post_event(message_event("elsewhere", channel="C0RANDOM"))
    worker.run_once()
    assert set(SlackEvent.objects.values_list("state", flat=True)) == {WorkState.SKIPPED}
    assert not Message.objects.exists()


def test_two_workers_never_claim_the_same_event(slack: Slack, post_event: Post, settings) -> None:
    post_event(message_event("Once only"))
    [claimed] = actions.claim_events("worker-a")
    assert actions.claim_events("worker-b") == []
    assert claimed.claimed_by == "worker-a"


def test_an_event_left_by_a_dead_worker_is_taken_again(
    slack: Slack, post_event: Post, settings
) -> None:
    post_event(message_event("Orphaned"))
    actions.claim_events("dead-worker")
    SlackEvent.objects.update(claimed_at=timezone.now() - timedelta(hours=1))
    settings.SLACK_STALE_SECONDS = 60
    worker.run_once()
    assert SlackEvent.objects.get().state == WorkState.DONE
    assert Message.objects.get().body_text == "Orphaned"
