"""`manage.py add_mailbox` (DESIGN §4) and where mailbox passwords live."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from hub.models import AuditLogEntry
from inbox.models import Channel, Inbox
from mail.models import Mailbox
from mail.secrets import decrypt_password, resolve_password
from scripts.serve import WORKERS
from tests.conftest import login_client
from tests.factories import Personas

ARGS = [
    "--inbox", "orders-email",
    "--imap-host", "127.0.0.1",
    "--imap-port", "1143",
    "--imap-user", "orders@hub.test",
    "--imap-password", "s3cret-imap",
    "--imap-security", "none",
    "--smtp-host", "127.0.0.1",
    "--smtp-port", "1025",
    "--smtp-security", "none",
    "--smtp-user", "orders",
    "--smtp-password", "s3cret-smtp",
    "--from-address", "Orders@Hub.test",
]  # fmt: skip


def test_add_mailbox_creates_the_email_inbox_for_support_and_is_idempotent(
    people: Personas,
) -> None:
    call_command("add_mailbox", *ARGS)
    call_command("add_mailbox", *ARGS)
    inbox = Inbox.objects.get(key="orders-email")
    assert (inbox.channel, inbox.default_team, inbox.address) == (
        "email",
        people.support,
        "orders@hub.test",
    )
    mailbox = Mailbox.objects.get()
    assert mailbox.inbox == inbox
    assert (mailbox.imap_port, mailbox.smtp_port, mailbox.folder_names) == (1143, 1025, ["INBOX"])


def test_mailbox_passwords_are_never_stored_in_plain_text(people: Personas) -> None:
    call_command("add_mailbox", *ARGS)
    mailbox = Mailbox.objects.get()
    stored = " ".join(str(value) for value in Mailbox.objects.values().get().values())
    assert "s3cret" not in stored
    assert decrypt_password(mailbox.imap_password_encrypted) == "s3cret-imap"
    assert decrypt_password(mailbox.smtp_password_encrypted) == "s3cret-smtp"


def test_a_password_can_come_from_the_environment(
    people: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = [a for a in ARGS if a not in {"--imap-password", "s3cret-imap"}]
    call_command("add_mailbox", *args, "--imap-password-env", "ORDERS_IMAP_PASSWORD")
    mailbox = Mailbox.objects.get()
    assert mailbox.imap_password_encrypted == ""
    monkeypatch.setenv("ORDERS_IMAP_PASSWORD", "from-env")
    assert (
        resolve_password(mailbox.imap_password_env, mailbox.imap_password_encrypted) == "from-env"
    )


def test_plain_text_connections_are_refused_beyond_loopback(people: Personas) -> None:
    args = [*ARGS]
    args[args.index("--imap-host") + 1] = "imap.example.com"
    with pytest.raises(CommandError, match="loopback"):
        call_command("add_mailbox", *args)
    assert not Mailbox.objects.exists()
    assert not Inbox.objects.filter(key="orders-email").exists()


def test_a_non_email_inbox_cannot_get_a_mailbox(people: Personas) -> None:
    Inbox.objects.create(
        key="orders-email", name="Chat", channel="chat", default_team=people.support
    )
    with pytest.raises(CommandError, match="chat inbox"):
        call_command("add_mailbox", *ARGS)


def test_make_run_starts_the_mail_worker() -> None:
    assert ["mail_sync"] in WORKERS


def test_an_admin_adds_a_mailbox_whose_password_is_stored_encrypted_and_never_audited(
    people: Personas,
) -> None:

    inbox = Inbox.objects.create(
        key="support-email", name="Support", channel=Channel.EMAIL, default_team=people.support
    )
    form = {
        "inbox": inbox.pk,
        "imap_host": "imap.example.com",
        "imap_port": 993,
        "imap_security": "tls",
        "imap_user": "support@example.com",
        "imap_password": "admin-typed-secret",
        "folders": "INBOX\nSupport",
        "smtp_host": "smtp.example.com",
        "smtp_port": 587,
        "smtp_security": "starttls",
        "from_address": "support@example.com",
        "is_active": "on",
    }
    response = login_client(people.admin).post("/admin/mail/mailbox/add/", form)
    assert response.status_code == 302, response.content[:2000]
    mailbox = Mailbox.objects.get()
    assert mailbox.folder_names == ["INBOX", "Support"]
    assert decrypt_password(mailbox.imap_password_encrypted) == "admin-typed-secret"
    audit = AuditLogEntry.objects.get(action="mailbox.created")
    assert "admin-typed-secret" not in str(audit.changes)
    assert audit.changes["imap_password"] == "(changed)"


def test_the_admin_refuses_plain_text_imap_to_a_remote_host(people: Personas) -> None:

    inbox = Inbox.objects.create(
        key="support-email", name="Support", channel=Channel.EMAIL, default_team=people.support
    )
    response = login_client(people.admin).post(
        "/admin/mail/mailbox/add/",
        {
            "inbox": inbox.pk,
            "imap_host": "imap.example.com",
            "imap_port": 143,
            "imap_security": "none",
            "imap_user": "support@example.com",
            "imap_password": "x",
            "folders": "INBOX",
            "smtp_port": 587,
            "smtp_security": "starttls",
            "from_address": "support@example.com",
        },
    )
    assert response.status_code == 200
    assert b"loopback" in response.content
    assert not Mailbox.objects.exists()
