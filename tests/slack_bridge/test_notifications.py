"""Routing notifications to Slack: queued with the routing that raised them, posted
by the worker to the target channel."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from inbox.notifications import Notification, can_notify, notify
from slack_bridge import worker
from slack_bridge.models import SlackPost, WorkState
from tests.slack_bridge.conftest import Slack
from tests.slack_bridge.fake_slack import FakeSlack


def test_a_notification_is_posted_to_its_channel(slack: Slack, fake_slack: FakeSlack) -> None:
    assert can_notify("slack")
    with transaction.atomic():
        notify(Notification(kind="slack", target="C0LEADS", text="New lead: Fjord AS, 90 000 €"))
    post = SlackPost.objects.get()
    assert post.state == WorkState.PENDING
    assert not fake_slack.posts("C0LEADS")

    worker.run_once()

    [posted] = fake_slack.posts("C0LEADS")
    assert posted["text"] == "New lead: Fjord AS, 90 000 €"
    post.refresh_from_db()
    assert post.state == WorkState.DONE


def test_a_notification_rolled_back_with_its_routing_is_never_posted(
    slack: Slack, fake_slack: FakeSlack
) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(Notification(kind="slack", target="C0LEADS", text="never"))
        raise RuntimeError("routing failed")
    worker.run_once()
    assert not fake_slack.posts()


def test_without_a_workspace_a_notification_is_refused(db: None) -> None:
    with pytest.raises(ValidationError):
        notify(Notification(kind="slack", target="C0LEADS", text="x"))
