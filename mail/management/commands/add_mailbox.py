from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mail.actions import MailboxInput, do_add_mailbox

SECURITY = ["none", "tls", "starttls"]


class Command(BaseCommand):
    help = "Add (or update) the IMAP/SMTP mailbox of an email inbox; creates the inbox if missing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--inbox", required=True, help="inbox key")
        parser.add_argument("--imap-host", required=True)
        parser.add_argument("--imap-port", type=int, required=True)
        parser.add_argument("--imap-user", required=True)
        parser.add_argument("--imap-password", default="", help="stored encrypted")
        parser.add_argument("--imap-password-env", default="", help="read from this variable")
        parser.add_argument("--imap-security", choices=SECURITY, required=True)
        parser.add_argument("--folder", action="append", dest="folders", help="repeatable; INBOX")
        parser.add_argument("--smtp-host", default="")
        parser.add_argument("--smtp-port", type=int, default=587)
        parser.add_argument("--smtp-security", choices=SECURITY, default="starttls")
        parser.add_argument("--smtp-user", default="")
        parser.add_argument("--smtp-password", default="")
        parser.add_argument("--smtp-password-env", default="")
        parser.add_argument("--from-address", required=True)
        parser.add_argument("--team", default="", help="default team of a new inbox (slug)")

    def handle(self, *args: Any, **options: Any) -> None:
        data = MailboxInput(
            inbox_key=options["inbox"],
            imap_host=options["imap_host"],
            imap_port=options["imap_port"],
            imap_user=options["imap_user"],
            imap_security=options["imap_security"],
            imap_password=options["imap_password"],
            imap_password_env=options["imap_password_env"],
            folders=tuple(options["folders"] or ["INBOX"]),
            smtp_host=options["smtp_host"],
            smtp_port=options["smtp_port"],
            smtp_security=options["smtp_security"],
            smtp_user=options["smtp_user"],
            smtp_password=options["smtp_password"],
            smtp_password_env=options["smtp_password_env"],
            from_address=options["from_address"],
            team_slug=options["team"],
        )
        try:
            mailbox, created = do_add_mailbox(data)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        verb = "added" if created else "updated"
        self.stdout.write(f"mailbox {mailbox.imap_user} {verb} for inbox {mailbox.inbox.key}")
