"""Recompute every contact's lead score, e.g. after an admin changed the weights
(scores otherwise follow the next message or deal of each contact)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from hub.models import Contact
from hub.scoring import compute_lead_score, scoring_settings


class Command(BaseCommand):
    help = "Recompute the lead score of every contact with the current weights."

    def handle(self, *args: Any, **options: Any) -> None:
        settings = scoring_settings()
        changed = 0
        for contact in Contact.objects.select_related("account").iterator(chunk_size=500):
            score = compute_lead_score(contact, settings)
            if score != contact.lead_score:
                Contact.objects.filter(pk=contact.pk).update(lead_score=score)
                changed += 1
        self.stdout.write(f"rescore_leads: {changed} contact(s) changed")
