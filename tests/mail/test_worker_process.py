"""`mail_sync` runs as its own process (`make run` starts it beside Daphne): mail it
stores reaches a console connected to the web server live, through the event log in
the embedded default or through Redis when it is configured."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connections

from tests import sockets
from tests.factories import Personas
from tests.mail import corpus
from tests.mail.conftest import MakeMailbox
from tests.mail.servers import Dovecot
from tests.servers import test_database_url as database_url

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _stop_event_pump(fresh_channel_layer: None) -> AsyncIterator[None]:
    # A fresh layer and pump per test (tests/conftest.py); and the socket thread's
    # database connection closed.
    yield
    await database_sync_to_async(connections.close_all)()


async def test_mail_stored_by_the_worker_process_appears_live_on_a_console(
    people: Personas, make_mailbox: MakeMailbox, dovecot: Dovecot, tmp_path: Path
) -> None:
    mailbox = await database_sync_to_async(make_mailbox)("support-email")
    url = await database_sync_to_async(database_url)()
    sock = await sockets.console(people.agent)
    await sock.drain()
    await asyncio.to_thread(
        dovecot.deliver,
        mailbox.imap_user,
        corpus.plain(
            sender="Kari Nordmann <kari@fjord.test>",
            subject="From the worker",
            body="Stored by another process.",
            message_id="<worker-process@fjord.test>",
        ),
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "HUB_DATA_DIR": str(tmp_path),
        # The mailbox password is encrypted under a key derived from SECRET_KEY.
        "SECRET_KEY": settings.SECRET_KEY,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "manage.py", "mail_sync", "--once", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, output.decode()
    assert b"'stored': 1" in output

    frame = await sock.receive_type("message.created", timeout=15)
    assert frame["data"]["message"]["body_text"] == "Stored by another process."
    await sock.close()
