"""The search row: notes and documents (a fifth of the corpus, with longer text, as
if extracted from uploaded files) from a seeded generator in five languages, indexed
by Whoosh and by PostgreSQL (items per second), then the same top-20 queries against each, with
snippets and the permission filter on, through the search service the API uses.
Each backend is the other's baseline."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from bench.clients import progress, progress_done

SEED_BATCH = 5_000
WORDS = {
    "en": "invoice delivery shipment refund warranty contract renewal pricing discount "
    "license upgrade outage password account billing order return replacement quote "
    "meeting supplier inventory forecast budget payment complaint escalation onboarding "
    "training integration migration firewall printer laptop router subscription trial",
    "nb": "faktura levering forsendelse refusjon garanti kontrakt fornyelse pris rabatt "
    "lisens oppgradering driftsavbrudd passord konto fakturering bestilling retur "
    "erstatning tilbud møte leverandør lager prognose budsjett betaling klage "
    "opplæring integrasjon migrering skriver bærbar ruter abonnement prøveperiode",
    "de": "Rechnung Lieferung Sendung Erstattung Garantie Vertrag Verlängerung Preis "
    "Rabatt Lizenz Aktualisierung Störung Passwort Konto Abrechnung Bestellung "
    "Rücksendung Ersatz Angebot Besprechung Lieferant Lagerbestand Prognose Haushalt "
    "Zahlung Beschwerde Schulung Integration Migration Drucker Router Abonnement",
    "fr": "facture livraison expédition remboursement garantie contrat renouvellement "
    "tarif remise licence mise panne motdepasse compte facturation commande retour "
    "remplacement devis réunion fournisseur inventaire prévision budget paiement "
    "réclamation formation intégration migration imprimante routeur abonnement essai",
    "es": "factura entrega envío reembolso garantía contrato renovación precio descuento "
    "licencia actualización avería contraseña cuenta facturación pedido devolución "
    "reemplazo presupuesto reunión proveedor inventario previsión pago queja "
    "formación integración migración impresora portátil enrutador suscripción prueba",
}
FILLER = {
    "en": "the customer asked about our and we will follow up next week with details",
    "nb": "kunden spurte om vår og vi følger opp neste uke med detaljer",
    "de": "der Kunde fragte nach unserer und wir melden uns nächste Woche mit Details",
    "fr": "le client a demandé notre et nous reviendrons la semaine prochaine avec détails",
    "es": "el cliente preguntó por nuestra y haremos seguimiento la próxima semana",
}


@dataclass
class BackendResult:
    name: str
    items: int = 0
    index_seconds: float = 0.0
    query_ms: list[float] = field(default_factory=list)
    hits: int = 0

    @property
    def items_per_second(self) -> float:
        return self.items / self.index_seconds if self.index_seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.query_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _text(rng: random.Random, language: str, words: int) -> str:
    vocabulary = WORDS[language].split()
    filler = FILLER[language].split()
    return " ".join(
        rng.choice(vocabulary) if rng.random() < 0.3 else rng.choice(filler) for _ in range(words)
    )


DOCUMENT_SHARE = 5  # every fifth item is a document


def _visibility(rng: random.Random) -> str:
    """Most items visible to all staff, some to the author's team, some private to
    their author (the permission filter must drop those for other users)."""
    from kb_documents.models import Visibility

    roll = rng.random()
    if roll < 0.7:
        return Visibility.INTERNAL
    return Visibility.TEAM if roll < 0.9 else Visibility.PRIVATE


def seed_corpus(count: int, author: object, team: object) -> None:
    """`count` items in five languages (a fifth in each): four notes to one document,
    whose extracted text is longer."""
    import hashlib

    from kb_documents.models import Document, DocumentVersion, Note, Visibility

    rng = random.Random(2026)
    languages = list(WORDS)
    done = 0
    while done < count:
        size = min(SEED_BATCH, count - done)
        notes, documents, texts = [], [], []
        for n in range(done, done + size):
            language = languages[n % len(languages)]
            visibility = _visibility(rng)
            team_or_none = team if visibility == Visibility.TEAM else None
            # A note's or document's title is its first line.
            title = _text(rng, language, rng.randint(3, 6)).capitalize()
            if n % DOCUMENT_SHARE == DOCUMENT_SHARE - 1:
                documents.append(
                    Document(
                        title=title,
                        uploaded_by=author,
                        visibility=visibility,
                        team=team_or_none,
                    )
                )
                texts.append(_text(rng, language, rng.randint(150, 400)))
                continue
            body = f"# {title}\n\n{_text(rng, language, rng.randint(40, 120))}"
            notes.append(
                Note(
                    body=body,
                    body_html=f"<p>{body}</p>",
                    author=author,
                    visibility=visibility,
                    team=team_or_none,
                )
            )
        Note.objects.bulk_create(notes)
        Document.objects.bulk_create(documents)
        versions = DocumentVersion.objects.bulk_create(
            DocumentVersion(
                document=document,
                number=1,
                # The file itself is not needed: search reads the extracted text.
                file=f"bench/{document.pk}.txt",
                filename=f"{document.pk}.txt",
                content_type="text/plain",
                kind="txt",
                size=len(text.encode()),
                sha256=hashlib.sha256(text.encode()).hexdigest(),
                text=text,
                uploaded_by=author,
            )
            for document, text in zip(documents, texts, strict=True)
        )
        for document, version in zip(documents, versions, strict=True):
            document.current_version = version
        Document.objects.bulk_update(documents, ["current_version"])
        done += size
        progress(f"seeding notes and documents: {done:,}/{count:,}")
    progress_done()
    # A hub's tables have statistics (autovacuum); a table filled a second ago does
    # not, and the planner would read back the 20 hits through a plan made for 1%.
    with connection.cursor() as cursor:
        for model in (Note, Document, DocumentVersion):
            cursor.execute(f"ANALYZE {model._meta.db_table}")


def queries(count: int) -> list[str]:
    rng = random.Random(99)
    result = []
    for n in range(count):
        vocabulary = WORDS[list(WORDS)[n % len(WORDS)]].split()
        result.append(" ".join(rng.sample(vocabulary, rng.choice((1, 1, 2)))))
    return result


def measure_backend(name: str, user: object, query_texts: list[str]) -> BackendResult:
    from kb_documents.search import indexing, service

    settings.SEARCH_BACKEND = name
    result = BackendResult(name)
    started = time.monotonic()

    def shown(count: int) -> None:
        if count % 1000 == 0:
            rate = count / max(time.monotonic() - started, 1e-6)
            progress(f"indexing with {name}: {count:,} items ({rate:,.0f}/s)")

    result.items = indexing.rebuild(shown)
    result.index_seconds = time.monotonic() - started
    progress_done()
    if name == "postgres":
        # A live table has been vacuumed: rows written a second ago are not yet
        # marked visible to all, and the first queries would pay for writing
        # those marks (the rebuild itself is timed above, without this).
        from kb_documents.models import SearchEntry

        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {SearchEntry._meta.db_table}")
    service.search(user, query_texts[0])  # the first search opens the index
    for i, text in enumerate(query_texts):
        t0 = time.perf_counter()
        found = service.search(user, text, limit=20)
        result.query_ms.append((time.perf_counter() - t0) * 1000)
        result.hits += len(found.results)
        if (i + 1) % 50 == 0:
            progress(f"searching with {name}: {i + 1}/{len(query_texts)}")
    progress_done()
    return result


def run(documents: int, query_count: int, user: object, team: object) -> list[BackendResult]:
    seed_corpus(documents, user, team)
    texts = queries(query_count)
    return [measure_backend(name, user, texts) for name in ("whoosh", "postgres")]


def rows(results: list[BackendResult]) -> list[list[str]]:
    whoosh, postgres = results
    lines = []
    for ours, base, label in ((whoosh, postgres, "Whoosh"), (postgres, whoosh, "PostgreSQL")):
        other = "PostgreSQL backend" if label == "Whoosh" else "Whoosh backend"
        lines.append(
            [
                f"search: index {ours.items:,} items ({label})",
                f"{ours.items_per_second:,.0f}/s",
                other,
                f"{base.items_per_second:,.0f}/s",
                f"{ours.items_per_second / base.items_per_second:.2f}x"
                if base.items_per_second
                else "n/a",
            ]
        )
        for q, name in ((0.50, "p50"), (0.95, "p95")):
            a, b = ours.percentile(q), base.percentile(q)
            lines.append(
                [
                    f"search: top-20 with snippets, {name} ({label})",
                    f"{a:.1f} ms",
                    other,
                    f"{b:.1f} ms",
                    f"{a / b:.2f}x" if b else "n/a",
                ]
            )
    return lines


def notes(results: list[BackendResult]) -> list[str]:
    whoosh, postgres = results
    return [
        f"search: {len(whoosh.query_ms)} queries in five languages, results per backend "
        f"{whoosh.hits} (Whoosh) / {postgres.hits} (PostgreSQL); targets p95 < 20 ms "
        f"(Whoosh): {'met' if whoosh.percentile(0.95) < 20 else 'NOT met'}, < 30 ms "
        f"(PostgreSQL): {'met' if postgres.percentile(0.95) < 30 else 'NOT met'}"
    ]
