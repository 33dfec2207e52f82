from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hub.demo import seed_core
from hub.signals import demo_core_seeded


class Command(BaseCommand):
    help = "Load the demo company (idempotent): teams, logins, accounts, contacts, inboxes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contacts-per-account", type=int, default=10)

    def handle(self, *args: Any, contacts_per_account: int, **options: Any) -> None:
        core = seed_core(
            contacts_per_account=contacts_per_account,
            progress=lambda line: self.stdout.write(f"seed_demo: {line}"),
        )
        # Each app above the core adds its own demo data (inboxes, conversations ...).
        demo_core_seeded.send(sender=self.__class__, core=core, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("seed_demo: done"))
