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
# Function words: the most frequent words of each language, real ones, most
# frequent first. They take the top ranks of the Zipf distribution and are never
# queried (a search box user types content words).
FUNCTION_WORDS = {
    "en": "the of and to a in is it you that he was for on are with as I his they be at "
    "one have this from or had by not but what some we can out other were all there when "
    "up use your how said an each she which do their if will way about many then them "
    "would so these her has more no could my than been who its now did get may our",
    "nb": "og i det på som er en til å han av for med at var de ikke den har jeg om et "
    "men så seg hun vi kan man da skal sin hadde nå ble være eller fra ved under når "
    "også vil etter bare ut dem kunne mot deg meg der noe inn denne disse oss alle "
    "hva hvor hvis over sitt sine blir mange mer enn selv",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine "
    "als auch es an werden aus er hat dass sie nach wird bei einer um am sind noch wie "
    "einem über einen so zum war haben nur oder aber vor zur bis mehr durch man sein "
    "wurde sei hier wir ich uns ihr ihre kann schon wenn",
    "fr": "de la le et les des en un du une que est pour qui dans par plus pas au sur ne "
    "se ce il sont avec son ou mais comme on tout nous sa elle ses leur aux bien été "
    "fait cette ont deux peut sans même aussi entre vous dont où je très encore avoir "
    "être après moins ces sous donc tous",
    "es": "de la que el en y a los se del las un por con no una su para es al lo como "
    "más o pero sus le ha me si sin sobre este ya entre cuando todo esta ser son dos "
    "también fue había era muy años hasta desde está mi porque qué sólo han yo hay "
    "vez puede todos así nos ni parte tiene él uno",
}
# Common content words of a support desk beyond the topical ones (real words).
COMMON_WORDS = {
    "en": "customer problem question answer issue ticket request error message email "
    "phone call week day month year time number system service product team user "
    "report update version file document note data server network access support "
    "price change date status help manager office company client project plan test "
    "problem information process team week time system result work group case point",
    "nb": "kunde problem spørsmål svar sak henvendelse feil melding epost telefon "
    "samtale uke dag måned år tid nummer system tjeneste produkt team bruker rapport "
    "versjon fil dokument notat data server nettverk tilgang støtte endring dato "
    "status hjelp leder kontor selskap klient prosjekt plan test informasjon prosess "
    "resultat arbeid gruppe",
    "de": "Kunde Problem Frage Antwort Fall Anfrage Fehler Nachricht Telefon Anruf "
    "Woche Tag Monat Jahr Zeit Nummer System Dienst Produkt Team Benutzer Bericht "
    "Version Datei Dokument Notiz Daten Server Netzwerk Zugang Unterstützung "
    "Änderung Datum Status Hilfe Leiter Büro Firma Projekt Plan Test Information "
    "Prozess Ergebnis Arbeit Gruppe",
    "fr": "client problème question réponse dossier demande erreur message courriel "
    "téléphone appel semaine jour mois année temps numéro système service produit "
    "équipe utilisateur rapport version fichier document note données serveur "
    "réseau accès support changement date statut aide responsable bureau société "
    "projet plan test information processus résultat travail groupe",
    "es": "cliente problema pregunta respuesta caso solicitud error mensaje correo "
    "teléfono llamada semana día mes año tiempo número sistema servicio producto "
    "equipo usuario informe versión archivo documento nota datos servidor red "
    "acceso soporte cambio fecha estado ayuda gerente oficina empresa proyecto plan "
    "prueba información proceso resultado trabajo grupo",
}
# Inflections, to give real words their other forms (plural, definite, ...).
ENDINGS = {
    "en": ("s", "ed", "ing"),
    "nb": ("en", "et", "er", "ene"),
    "de": ("en", "e", "s", "n"),
    "fr": ("s", "e", "es"),
    "es": ("s", "es", "a"),
}
# Syllables of language-plausible pseudo-words, which fill the vocabulary up to
# VOCABULARY_SIZE (the rare words: names, product codes, jargon of a real desk).
SYLLABLES = {
    "en": (
        "ba be bi bo con de dis for ga in la le li lo ma me mi mo na ne no pa pe "
        "pro re ri ro sa se si so ta te ti to un ver wa win"
    ),
    "nb": (
        "ba be bi bo da de di fa fe fo ga ge gi ha he hi ka ke ki la le li ma me "
        "mi na ne ni ra re ri sa se si sk st ta te ti va ve vi ø å"
    ),
    "de": (
        "ab an be da de di ein fa ge hei ka ke ko la le li ma me mi na ne ni ra "
        "re ri sa sch se si ta te ti ver wa we zu"
    ),
    "fr": (
        "ba be bi bo ca ce ci co da de di fa fe la le li lo ma me mi mo na ne ni "
        "pa pe ra re ri sa se si ta te ti va ve vi"
    ),
    "es": (
        "ba be bi bo ca ce ci co da de di fa fe ga la le li lo ma me mi mo na ne "
        "ni pa pe ra re ri sa se si ta te ti va ve vi"
    ),
}
WORD_ENDINGS = {
    "en": ("", "er", "tion", "ment", "ly", "ness", "ing"),
    "nb": ("", "ing", "het", "else", "er", "lig"),
    "de": ("", "ung", "keit", "er", "lich", "heit"),
    "fr": ("", "tion", "ment", "eur", "ique", "age"),
    "es": ("", "ción", "miento", "dor", "mente", "ado"),
}
VOCABULARY_SIZE = 6_000  # word forms per language
ZIPF_EXPONENT = 1.0


@dataclass
class Language:
    """One language's vocabulary, most frequent word first, and the cumulative Zipf
    weights to draw from it."""

    words: list[str]
    function_words: int  # the first ones, never queried
    cumulative: list[float]

    def draw(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=count)

    def weight(self, rank: int) -> float:
        return 1.0 / (rank + 1) ** ZIPF_EXPONENT


def _pseudo_words(rng: random.Random, language: str, taken: set[str], count: int) -> list[str]:
    syllables = SYLLABLES[language].split()
    endings = WORD_ENDINGS[language]
    made: list[str] = []
    while len(made) < count:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))
        word += rng.choice(endings)
        if word not in taken:
            taken.add(word)
            made.append(word)
    return made


def _language(language: str) -> Language:
    """Function words first (the top ranks: about half of all tokens, as in real
    text), then the real content words with their inflected forms, shuffled, then
    pseudo-words up to VOCABULARY_SIZE, the long tail."""
    rng = random.Random(f"vocabulary-{language}")
    function_words = list(dict.fromkeys(FUNCTION_WORDS[language].split()))
    taken = set(function_words)
    real: list[str] = []
    for word in (*WORDS[language].split(), *COMMON_WORDS[language].split()):
        for form in (word, *(word + ending for ending in ENDINGS[language])):
            if form not in taken:
                taken.add(form)
                real.append(form)
    rng.shuffle(real)
    # The bare topical words first (a support desk's most frequent content words),
    # then their inflections and the common words in a shuffled order.
    topical = set(WORDS[language].split())
    real.sort(key=lambda form: form not in topical)
    words = function_words + real
    words += _pseudo_words(rng, language, taken, VOCABULARY_SIZE - len(words))
    cumulative, total = [], 0.0
    for rank in range(len(words)):
        total += 1.0 / (rank + 1) ** ZIPF_EXPONENT
        cumulative.append(total)
    return Language(words, len(function_words), cumulative)


LANGUAGES = {language: _language(language) for language in WORDS}


@dataclass
class BackendResult:
    name: str
    items: int = 0
    index_seconds: float = 0.0
    query_ms: list[float] = field(default_factory=list)
    hits: int = 0
    matched: list[int] = field(default_factory=list)  # the count of each query
    # Page one of each query, as (type, id), in rank order.
    pages: list[list[tuple[str, int]]] = field(default_factory=list)
    # PostgreSQL: how many pages one are those of ranking every match (see
    # pages_as_ranking_every_match), and of how many queries.
    same_as_every_match_ranked: int | None = None

    @property
    def items_per_second(self) -> float:
        return self.items / self.index_seconds if self.index_seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.query_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _text(rng: random.Random, language: str, words: int) -> str:
    return " ".join(LANGUAGES[language].draw(rng, words))


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
    """One- and two-word queries (two to one), the words drawn from each language's
    content words with their corpus frequency: common words are searched for often,
    as users do, and match the most."""
    rng = random.Random(99)
    result = []
    for n in range(count):
        language = LANGUAGES[list(LANGUAGES)[n % len(LANGUAGES)]]
        content = language.words[language.function_words :]
        weights = [
            language.weight(rank) for rank in range(language.function_words, len(language.words))
        ]
        chosen: list[str] = []
        size = rng.choice((1, 1, 2))
        while len(chosen) < size:
            word = rng.choices(content, weights=weights)[0]
            if word not in chosen:
                chosen.append(word)
        result.append(" ".join(chosen))
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
        result.matched.append(found.count)
        result.pages.append([(hit["type"], hit["id"]) for hit in found.results])
        if (i + 1) % 50 == 0:
            progress(f"searching with {name}: {i + 1}/{len(query_texts)}")
    progress_done()
    return result


def pages_as_ranking_every_match(
    user: object, query_texts: list[str], result: BackendResult
) -> int:
    """How many of the measured pages one PostgreSQL would also show if it ranked every
    match, not only the RANKED_MATCHES it picks (the price in relevance of the pick,
    docs/architecture.md, "Ranking a very common word"): the backend's own statement
    with the bound lifted, untimed."""
    from kb_documents.search.backends import postgres
    from kb_documents.search.backends.base import Filters
    from kb_documents.search.query import parse_query
    from kb_documents.visibility import user_terms

    terms = user_terms(user)
    backend = postgres.PostgresBackend()
    bound = postgres.RANKED_MATCHES
    postgres.RANKED_MATCHES = 10**9
    same = 0
    try:
        for i, (text, measured) in enumerate(zip(query_texts, result.pages, strict=True)):
            page = backend.search(
                parse_query(text), terms=terms, filters=Filters(), offset=0, limit=20
            )
            same += [(hit.kind, hit.object_id) for hit in page.hits] == measured
            if (i + 1) % 50 == 0:
                progress(f"ranking every match with postgres: {i + 1}/{len(query_texts)}")
    finally:
        postgres.RANKED_MATCHES = bound
    progress_done()
    return same


def run(documents: int, query_count: int, user: object, team: object) -> list[BackendResult]:
    seed_corpus(documents, user, team)
    texts = queries(query_count)
    results = [measure_backend(name, user, texts) for name in ("whoosh", "postgres")]
    results[1].same_as_every_match_ranked = pages_as_ranking_every_match(user, texts, results[1])
    return results


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
    from kb_documents.search.backends.postgres import RANKED_MATCHES

    whoosh, postgres = results
    matched = sorted(whoosh.matched)

    def share(q: float) -> str:
        count = matched[min(len(matched) - 1, int(q * len(matched)))] if matched else 0
        return f"{count:,} ({100 * count / max(whoosh.items, 1):.1f}%)"

    return [
        f"search: {len(whoosh.query_ms)} queries in five languages, results per backend "
        f"{whoosh.hits} (Whoosh) / {postgres.hits} (PostgreSQL); items matched by the "
        f"median query {share(0.5)}, p95 {share(0.95)}; targets p95 < 20 ms "
        f"(Whoosh): {'met' if whoosh.percentile(0.95) < 20 else 'NOT met'}, < 30 ms "
        f"(PostgreSQL): {'met' if postgres.percentile(0.95) < 30 else 'NOT met'}",
        f"search: PostgreSQL ranks at most {RANKED_MATCHES:,} matches of a query (those with "
        f"its words in their title, then the newest); page one is what ranking every match "
        f"would show for {postgres.same_as_every_match_ranked} of {len(postgres.pages)} queries",
    ]
