"""search(user, "…"): the one entry point of the API and the console."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from hub.models import Account, User
from inbox.visibility import visible_messages
from inbox.visibility import visible_notes as visible_conversation_notes
from kb_documents.search.backends.base import Filters, Hit
from kb_documents.search.indexing import current_backend, message_title
from kb_documents.search.query import ParsedQuery, parse_query
from kb_documents.search.snippets import make_snippets
from kb_documents.visibility import team_ids_of, user_terms, visible_documents, visible_notes

TYPE_NAMES = {
    "note": "note",
    "notes": "note",
    "document": "document",
    "documents": "document",
    "doc": "document",
    "file": "document",
    "message": "message",
    "messages": "message",
    "msg": "message",
}


@dataclass
class SearchResults:
    count: int
    results: list[dict[str, Any]]


def resolve_filters(parsed: ParsedQuery, user: Any) -> Filters | None:
    """The filters as ids; None when a filter names nothing (so nothing can match)."""
    filters = Filters()
    for value in parsed.filters.get("type", []):
        kind = TYPE_NAMES.get(value.lower())
        if kind is None:
            return None
        filters.kinds.append(kind)
        if kind == "note":  # notes on conversations, written in the inbox, are notes too
            filters.kinds.append("conversation_note")
    for value in parsed.filters.get("account", []):
        if value.isdigit():
            filters.account_ids.append(int(value))
        elif user.is_internal:
            filters.account_ids.extend(
                Account.objects.filter(name__icontains=value).values_list("pk", flat=True)[:50]
            )
    for value in parsed.filters.get("author", []):
        if value.lower() == "me":
            filters.author_ids.append(user.pk)
        elif value.isdigit():
            filters.author_ids.append(int(value))
        else:
            filters.author_ids.extend(
                User.objects.filter(
                    Q(email__iexact=value) | Q(full_name__icontains=value)
                ).values_list("pk", flat=True)[:50]
            )
    filters.channels.extend(value.lower() for value in parsed.filters.get("channel", []))
    for name, resolved in (("account", filters.account_ids), ("author", filters.author_ids)):
        if parsed.filters.get(name) and not resolved:
            return None
    return filters


def search(user: Any, raw_query: str, *, offset: int = 0, limit: int = 20) -> SearchResults:
    parsed = parse_query(raw_query)
    # The user's teams, read once for the permission terms and for reading back.
    staff = getattr(user, "is_authenticated", False) and user.is_active and user.is_internal
    team_ids = team_ids_of(user) if staff else None
    terms = user_terms(user, team_ids=team_ids)
    if parsed.is_empty or not terms:
        return SearchResults(0, [])
    filters = resolve_filters(parsed, user)
    if filters is None:
        return SearchResults(0, [])
    page = current_backend().search(
        parsed, terms=terms, filters=filters, offset=offset, limit=limit
    )
    return SearchResults(page.total, _results(user, page.hits, parsed, team_ids))


def _results(
    user: Any, hits: list[Hit], parsed: ParsedQuery, team_ids: list[int] | None = None
) -> list[dict[str, Any]]:
    """The hits as the API shows them, read through the scoping functions: an index
    entry that is stale (or, by a bug, too wide) shows nothing the database would not.
    One query per kind, reading only the columns shown (not the scoping functions'
    joins and prefetches, which a page of hits does not need)."""
    wanted: dict[str, list[int]] = {}
    for hit in hits:
        wanted.setdefault(hit.kind, []).append(hit.object_id)
    found: dict[tuple[str, int], dict[str, Any]] = {}
    if wanted.get("note"):
        notes = visible_notes(user, team_ids=team_ids).select_related(None)
        for note in notes.prefetch_related(None).only("pk", "body").filter(pk__in=wanted["note"]):
            found["note", note.pk] = {
                "title": note.title,
                "text": note.body,
                "url": f"/api/v1/notes/{note.pk}/",
            }
    if wanted.get("document"):
        documents = (
            visible_documents(user, team_ids=team_ids)
            .select_related(None)
            .prefetch_related(None)
            .select_related("current_version")
            .only("pk", "title", "current_version__text")
        )
        for document in documents.filter(pk__in=wanted["document"]):
            version = document.current_version
            found["document", document.pk] = {
                "title": document.title,
                "text": version.text if version else "",
                "url": f"/api/v1/documents/{document.pk}/",
            }
    if wanted.get("message"):
        messages = visible_messages(user).select_related("conversation")
        for message in messages.filter(pk__in=wanted["message"]):
            found["message", message.pk] = {
                "title": message_title(message),
                "text": message.body_text,
                "url": f"/api/v1/conversations/{message.conversation_id}/messages/",
                "conversation": message.conversation_id,
            }
    if wanted.get("conversation_note"):
        conversation_notes = visible_conversation_notes(user).select_related("conversation")
        for found_note in conversation_notes.filter(pk__in=wanted["conversation_note"]):
            conversation = found_note.conversation
            found["conversation_note", found_note.pk] = {
                "title": conversation.subject
                or f"{conversation.get_channel_display()} #{conversation.pk}",
                "text": found_note.body,
                "url": f"/api/v1/conversations/{conversation.pk}/notes/",
                "conversation": conversation.pk,
            }
    shown_hits = [
        (hit, found[hit.kind, hit.object_id]) for hit in hits if (hit.kind, hit.object_id) in found
    ]
    snippets = make_snippets([shown.pop("text") for _hit, shown in shown_hits], parsed)
    return [
        {
            "type": hit.kind,
            "id": hit.object_id,
            **shown,
            "snippet": snippet,
            "score": round(hit.score, 4),
        }
        for (hit, shown), snippet in zip(shown_hits, snippets, strict=True)
    ]
