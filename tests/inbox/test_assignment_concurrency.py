"""Two conversations arriving at once must not both take an agent's last slot
(PostgreSQL: real concurrent transactions on two connections)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from hub.models import User
from inbox.models import AgentPresence, Conversation, PresenceStatus, TeamAssignment
from tests.factories import make_personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _lock_waits() -> list[str]:
    """What other backends of this database are waiting for (row and advisory locks)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT wait_event FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def test_two_arrivals_at_once_do_not_exceed_an_agents_capacity() -> None:
    people = make_personas()
    TeamAssignment.objects.create(team=people.support)
    User.objects.filter(pk=people.agent.pk).update(capacity=1)
    AgentPresence.objects.create(
        user=people.agent, chosen=PresenceStatus.ONLINE, effective=PresenceStatus.ONLINE
    )
    first_inbox = make_inbox(people.support, key="one")
    second_inbox = make_inbox(people.support, key="two")
    routed, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                inbound(first_inbox, "first")
                routed.set()
                release.wait(60)  # hold the transaction open: its locks too
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
            routed.set()
        finally:
            connections.close_all()

    def second() -> None:
        try:
            inbound(second_inbox, "second")
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    holder = threading.Thread(target=first)
    holder.start()
    assert routed.wait(60)
    racer = threading.Thread(target=second)
    racer.start()
    # Wait until the second transaction is blocked on a lock, or has finished.
    waits: list[str] = []
    for _ in range(3000):
        waits = _lock_waits()
        if waits or not racer.is_alive():
            break
        time.sleep(0.01)
    release.set()
    holder.join(60)
    racer.join(60)

    assert errors == []
    # Blocked on the routing locks (a row), not only on the event log's advisory lock
    # that every inbound write takes last.
    assert waits and waits[0] in ("transactionid", "tuple"), waits
    assignees = dict(Conversation.objects.values_list("inbox__key", "assignee_id"))
    assert assignees == {"one": people.agent.pk, "two": None}
    waiting = Conversation.objects.get(inbox__key="two")
    assert waiting.routing_trace[-1] == (
        "no online agent with free capacity in Support: waits in the team queue"
    )
