from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from mail.actions import MailboxInput, do_add_mailbox
from mail.models import Mailbox
from tests.factories import Personas
from tests.mail.servers import DOVECOT, PASSWORD, Dovecot, SmtpServer, start_dovecot


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if DOVECOT is None:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd); .ci/run installs it")
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _mail_limits(settings: pytest.FixtureRequest) -> None:
    settings.MAIL_MAX_MESSAGE_BYTES = 60_000
    settings.MAIL_MAX_ATTACHMENT_BYTES = 20_000
    settings.MAIL_SEND_RETRY_SECONDS = 0


MakeMailbox = Callable[..., Mailbox]


@pytest.fixture
def make_mailbox(people: Personas, dovecot: Dovecot) -> MakeMailbox:
    """A mailbox on the test Dovecot with a user of its own (fresh maildir)."""

    def make(
        key: str = "support-email", smtp: SmtpServer | None = None, **extra: object
    ) -> Mailbox:
        user = dovecot.add_user(f"{key}-{uuid.uuid4().hex[:8]}@hub.test")
        mailbox, _ = do_add_mailbox(
            MailboxInput(
                inbox_key=key,
                imap_host="127.0.0.1",
                imap_port=dovecot.port,
                imap_user=user,
                imap_security="none",
                imap_password=PASSWORD,
                from_address=f"{key}@hub.test",
                smtp_host="127.0.0.1" if smtp else "",
                smtp_port=smtp.port if smtp else 587,
                smtp_security="none",
                **extra,  # type: ignore[arg-type]
            )
        )
        return mailbox

    return make
