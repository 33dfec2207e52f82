"""Demo notes and documents (in the demo's languages), added after the core demo data.
Idempotent: a demo item is recognised by its text and made once."""

from __future__ import annotations

from typing import Any

from hub.demo import DemoCore
from kb_documents.actions import Sharing, do_add_note, do_upload_document
from kb_documents.models import Document, Note

NOTES = [
    ("internal", "**Renewal** due in March. They asked for 30-day payment terms."),
    ("partner", "Delivery of the replacement housings is planned for week 12."),
    ("internal", "Kunden ønsker tilbud på emballasje og paller før fredag."),
    ("internal", "Klient prosi o potwierdzenie terminu dostawy części zamiennych."),
    ("team", "Arve saadeti uuesti: eelmine arve oli vale summaga."),
    ("internal", "客户想了解产品的价格和交货时间。"),
]
DOCUMENTS = [
    (
        "Service level agreement",
        "sla.md",
        "# Service level agreement\n\nFirst response within **4 hours**, resolution within 2 business days.",
    ),
    (
        "Returns policy",
        "returns.txt",
        "Damaged goods can be returned within 30 days. Photos of the damage help.",
    ),
]


def seed_kb_demo(sender: Any, core: DemoCore, stdout: Any, **kwargs: Any) -> None:
    accounts = core.accounts or [None]
    for index, (visibility, body) in enumerate(NOTES):
        if Note.objects.filter(body=body).exists():
            continue
        sharing = Sharing(visibility=visibility, account=accounts[index % len(accounts)])
        if visibility == "partner":
            sharing.partners = [core.partner_org]
        do_add_note(body, by=core.salesperson if index % 2 else core.agent, sharing=sharing)
    for title, filename, text in DOCUMENTS:
        if not Document.objects.filter(title=title).exists():
            do_upload_document(text.encode(), filename, by=core.supervisor, title=title)
    stdout.write("seed_demo: notes and documents ready")
