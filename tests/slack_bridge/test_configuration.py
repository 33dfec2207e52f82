"""Configuring Slack in the admin, and the worker command."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from inbox.models import Channel, Message
from slack_bridge.models import ChannelKind, SlackChannel, SlackEvent, WorkState
from tests.conftest import login_client
from tests.factories import Personas
from tests.inbox_fixtures import make_inbox
from tests.slack_bridge.conftest import Post, Slack, message_event


@pytest.mark.parametrize(
    "model", ["slackworkspace", "slackchannel", "slackuserlink", "slackevent", "slackpost"]
)
def test_admin_lists_the_slack_configuration(slack: Slack, people: Personas, model: str) -> None:
    response = login_client(people.admin).get(f"/admin/slack_bridge/{model}/")
    assert response.status_code == 200


def test_a_channel_must_match_its_kind(slack: Slack, people: Personas) -> None:
    email_inbox = make_inbox(people.support, key="mail", channel=Channel.EMAIL)
    with pytest.raises(ValidationError):
        SlackChannel(workspace=slack.workspace, channel_id="C1", kind=ChannelKind.TEAM).clean()
    with pytest.raises(ValidationError):
        SlackChannel(
            workspace=slack.workspace, channel_id="C2", kind=ChannelKind.CUSTOMER, inbox=email_inbox
        ).clean()
    with pytest.raises(ValidationError):
        SlackChannel(
            workspace=slack.workspace, channel_id="C3", kind=ChannelKind.PARTNER, inbox=slack.inbox
        ).clean()


def test_a_workspace_may_have_its_own_signing_secret(
    slack: Slack, post_event: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FJORD_SLACK_SECRET", "fjord-secret")
    slack.workspace.signing_secret_env = "FJORD_SLACK_SECRET"
    slack.workspace.save()
    assert post_event(message_event("hi"), secret="fjord-secret").status_code == 200
    assert post_event(message_event("hi"), secret="someone-else").status_code == 403


def test_the_worker_command_does_one_pass(slack: Slack, post_event: Post, capsys) -> None:
    post_event(message_event("Via the command"))
    call_command("slack_worker", "--once")
    assert "1 events" in capsys.readouterr().out
    assert SlackEvent.objects.get().state == WorkState.DONE
    assert Message.objects.get().body_text == "Via the command"
