"""The SMTP side (aiosmtplib): build the reply and hand it to the mailbox's server.
Every failure becomes one SendError that says whether retrying can help."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import formataddr, formatdate

import aiosmtplib

from mail.models import Mailbox, OutboxItem, Security
from mail.secrets import resolve_password


class SendError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def build_email(item: OutboxItem) -> EmailMessage:
    message = item.message
    mailbox = item.mailbox
    email = EmailMessage()
    sender_name = message.sender_name or mailbox.inbox.name
    email["From"] = formataddr((sender_name, mailbox.from_address))
    email["To"] = item.to_address
    email["Subject"] = item.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = item.mail_message_id
    if item.in_reply_to:
        email["In-Reply-To"] = item.in_reply_to
    if item.references:
        email["References"] = item.references
    # Other robots should not answer us either (RFC 3834).
    email["Auto-Submitted"] = "no"
    email.set_content(message.body_text)
    return email


async def _send(mailbox: Mailbox, email: EmailMessage, timeout: float) -> str:
    password = resolve_password(mailbox.smtp_password_env, mailbox.smtp_password_encrypted)
    errors, response = await aiosmtplib.send(
        email,
        hostname=mailbox.smtp_host,
        port=mailbox.smtp_port,
        username=mailbox.smtp_user or None,
        password=password or None if mailbox.smtp_user else None,
        use_tls=mailbox.smtp_security == Security.TLS,
        start_tls=mailbox.smtp_security == Security.STARTTLS,
        timeout=timeout,
    )
    if errors:
        codes = {code for code, _text in errors.values()}
        detail = "; ".join(f"{rcpt}: {code} {text}" for rcpt, (code, text) in errors.items())
        raise SendError(detail, permanent=all(code >= 500 for code in codes))
    return response


def send_reply(item: OutboxItem, *, timeout: float = 30) -> str:
    """Send one outbox row; returns the server's final response."""
    email = build_email(item)
    try:
        return asyncio.run(_send(item.mailbox, email, timeout))
    except SendError:
        raise
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [error.code for error in exc.recipients]
        raise SendError(str(exc), permanent=all(code >= 500 for code in codes)) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise SendError(f"{exc.code} {exc.message}", permanent=exc.code >= 500) from exc
    except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
        raise SendError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
