"""An @mention reaches the mentioned user's console socket, and nobody else's."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from kb_documents.actions import Sharing, do_add_note
from tests import sockets
from tests.factories import Personas, make_personas

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


@pytest.fixture(autouse=True)
def _fresh_channel_layer(fresh_channel_layer: None) -> None:
    """A fresh layer and pump per test (tests/conftest.py)."""


@pytest.fixture
async def people() -> Personas:
    return await db(make_personas)()


async def test_a_mention_reaches_the_mentioned_users_console_live(people: Personas) -> None:
    mentioned = await sockets.console(people.salesperson)
    bystander = await sockets.console(people.teammate)
    note = await db(do_add_note)(
        f"@{people.salesperson.email} please call **Fjord Fisk** today",
        by=people.agent,
        sharing=Sharing(),
    )
    frame = await mentioned.receive_type("note.mentioned")
    assert frame["data"]["note"]["id"] == note.pk
    assert "<strong>Fjord Fisk</strong>" in frame["data"]["note"]["body_html"]
    assert frame["data"]["by"]["id"] == people.agent.pk
    assert not [f for f in await bystander.drain() if f["type"] == "note.mentioned"]
    await mentioned.close()
    await bystander.close()
