"""An incoming call's two transactions on PostgreSQL: the pop's commits without waiting
for the disk, the conversation's waits as every other commit does, and Twilio's answer
comes after it, so whatever the answer confirms is on disk (the flush of the second
commit carries the first; docs/architecture.md, "Pop first, conversation second")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, transaction

from inbox.models import Conversation, Event, Inbox
from telephony.actions import calls as call_actions
from telephony.models import Call
from tests.factories import Personas
from tests.telephony.conftest import call_params, twilio_post, twiml

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WATCHED = {
    'INSERT INTO "telephony_call"': "call",
    'INSERT INTO "inbox_conversation"': "conversation",
}


@contextmanager
def synchronous_commit_at_inserts() -> Iterator[dict[str, str]]:
    """What `synchronous_commit` is in force when the call's row and the conversation's
    row are inserted, asked of the same session right before each statement."""
    seen: dict[str, str] = {}

    def wrapper(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        for prefix, name in WATCHED.items():
            if sql.startswith(prefix):
                row = connection.connection.execute("SHOW synchronous_commit").fetchone()
                seen[name] = row[0]
        return execute(sql, *args)

    with connection.execute_wrapper(wrapper):
        yield seen


def test_the_pop_does_not_wait_for_the_disk_and_the_conversation_does(
    people: Personas, phone_inbox: Inbox
) -> None:
    with synchronous_commit_at_inserts() as seen:
        answer = twiml(twilio_post("/telephony/twilio/voice/", call_params()))
    assert seen == {"call": "off", "conversation": "on"}
    # Both committed, and the answer came after the second.
    call = Call.objects.get()
    assert call.conversation == Conversation.objects.get()
    assert Event.objects.filter(type="call.incoming").count() == 1
    assert answer.tag == "Response"
    # The setting was the pop's transaction's alone: the session is back to waiting.
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_inside_a_callers_transaction_every_commit_waits_for_the_disk(
    people: Personas, phone_inbox: Inbox
) -> None:
    # The caller's commit is the only one, and nothing after it would flush the log.
    with synchronous_commit_at_inserts() as seen, transaction.atomic():
        call_actions.do_receive_call(
            phone_inbox,
            source="twilio",
            sid="CA" + "7" * 32,
            from_number="+14155550132",
            to_number=phone_inbox.address,
        )
    assert seen == {"call": "on", "conversation": "on"}
    assert Call.objects.get().conversation_id is not None
