"""Domain actions for notes and documents: check_* validate, do_* write, audit, emit
events and schedule indexing, all in one transaction (CONVENTIONS)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from hub.actions import record_audit
from hub.models import Account, Contact, Deal, PartnerOrganization, Team, User
from inbox.events import record_event
from inbox.models import Conversation, ConversationShare
from kb_documents.extraction import Extracted, extract, stored_filename
from kb_documents.models import Document, DocumentVersion, Note, NoteRevision, Visibility
from kb_documents.rendering import mentioned_addresses, render_markdown
from kb_documents.search.indexing import index_on_commit
from kb_documents.visibility import visible_documents, visible_notes

MAX_NOTE_LENGTH = 50_000
MAX_TITLE_LENGTH = 255


@dataclass
class Sharing:
    """Who may see an item, and what it is linked to, as a request asked for it."""

    visibility: str = Visibility.INTERNAL
    team: Team | None = None
    partners: list[PartnerOrganization] = field(default_factory=list)
    account: Account | None = None
    contact: Contact | None = None
    deal: Deal | None = None
    conversation: Conversation | None = None


def check_sharing(sharing: Sharing, *, by: User) -> Sharing:
    """Validate visibility and links; a partner's items are always shared with (only)
    their organization, and may link only to conversations shared with it."""
    if by.is_partner:
        if sharing.account or sharing.contact or sharing.deal:
            raise ValidationError({"account": "Partners can link only to shared conversations."})
        if (
            sharing.conversation
            and not ConversationShare.objects.filter(
                conversation=sharing.conversation, organization_id=by.partner_organization_id
            ).exists()
        ):
            raise ValidationError({"conversation": "No such conversation."})
        return Sharing(
            visibility=Visibility.PARTNER,
            partners=[by.partner_organization],
            conversation=sharing.conversation,
        )
    if not by.is_internal:
        raise PermissionDenied("You cannot share notes or documents.")
    if sharing.visibility not in Visibility.values:
        raise ValidationError({"visibility": f"Use one of {', '.join(Visibility.values)}."})
    if sharing.visibility == Visibility.TEAM:
        if sharing.team is None:
            sharing.team = by.teams.order_by("pk").first()
            if sharing.team is None:
                raise ValidationError({"team": "You are in no team: name one."})
        elif not by.is_supervisor and not by.teams.filter(pk=sharing.team.pk).exists():
            raise ValidationError({"team": "You can share only with a team you are in."})
    else:
        sharing.team = None
    if sharing.visibility == Visibility.PARTNER:
        if not sharing.partners:
            raise ValidationError({"partners": "Name the partner organizations to share with."})
        for org in sharing.partners:
            if not org.is_active:
                raise ValidationError({"partners": f"{org} is not active."})
            if (
                sharing.conversation
                and not ConversationShare.objects.filter(
                    conversation=sharing.conversation, organization=org
                ).exists()
            ):
                raise ValidationError(
                    {"partners": f"The conversation is not shared with {org}: share it first."}
                )
    elif sharing.partners:
        raise ValidationError({"partners": "Partners are named only with visibility 'partner'."})
    return sharing


def _apply_sharing(item: Note | Document, sharing: Sharing) -> None:
    item.visibility = sharing.visibility
    item.team = sharing.team
    item.account = sharing.account
    item.contact = sharing.contact
    item.deal = sharing.deal
    item.conversation = sharing.conversation


def partner_audience(item: Note | Document) -> set[int]:
    """The partner organizations that may read the item."""
    if item.visibility != Visibility.PARTNER:
        return set()
    return set(item.partners.values_list("pk", flat=True))


def _record_partner_sharing(
    kind: str, item: Note | Document, before: set[int], *, by: User
) -> None:
    """Sharing with partners and taking it back: audited, and pushed to those partners'
    portals (issue 7). A partner that lost access learns only the id."""
    after = partner_audience(item)
    added, removed = sorted(after - before), sorted(before - after)
    if not added and not removed:
        return
    record_audit(by, f"{kind}.partners", item, {"added": added, "removed": removed})
    title = item.title if isinstance(item, Document) else item.body[:80]
    if added:
        record_event(
            f"{kind}.shared",
            {"item": {"type": kind, "id": item.pk, "title": title}},
            {f"partner.{pk}" for pk in added},
        )
    if removed:
        record_event(
            f"{kind}.unshared",
            {"item": {"type": kind, "id": item.pk}},
            {f"partner.{pk}" for pk in removed},
        )


def check_note_body(body: str) -> str:
    text = (body or "").strip()
    if not text:
        raise ValidationError({"body": "The note is empty."})
    if len(text) > MAX_NOTE_LENGTH:
        raise ValidationError({"body": f"The note is longer than {MAX_NOTE_LENGTH} characters."})
    return text


def check_mentions(note: Note, body: str) -> list[User]:
    """The people a note mentions; each must be able to read it."""
    users = []
    for address in mentioned_addresses(body):
        user = User.objects.filter(email__iexact=address, is_active=True).first()
        if user is None:
            continue  # an e-mail address in the text, not one of our users
        if not visible_notes(user).filter(pk=note.pk).exists():
            raise ValidationError({"body": f"{user} cannot see this note, so cannot be mentioned."})
        users.append(user)
    return users


def _notify_mentions(note: Note, users: list[User], *, by: User) -> None:
    for user in users:
        if user.pk == by.pk:
            continue
        record_event(
            "note.mentioned",
            {
                "note": {"id": note.pk, "title": note.title, "body_html": note.body_html},
                "by": {"id": by.pk, "name": by.full_name},
                "conversation": note.conversation_id,
            },
            {f"user.{user.pk}"},
            conversation_id=note.conversation_id,
        )


@transaction.atomic
def do_add_note(body: str, *, by: User, sharing: Sharing | None = None) -> Note:
    text = check_note_body(body)
    sharing = check_sharing(sharing or Sharing(), by=by)
    note = Note(author=by, body=text, body_html=render_markdown(text))
    _apply_sharing(note, sharing)
    note.save()
    note.partners.set(sharing.partners)
    mentioned = check_mentions(note, text)
    note.mentions.set(mentioned)
    record_audit(by, "note.created", note, {"visibility": note.visibility})
    _record_partner_sharing("note", note, set(), by=by)
    _notify_mentions(note, mentioned, by=by)
    index_on_commit("note", note.pk)
    return note


def check_can_change(item: Note | Document, author_id: int, *, by: User) -> None:
    if by.pk == author_id or (by.is_internal and by.is_supervisor):
        return
    raise PermissionDenied("Only the author or a supervisor can change this.")


@transaction.atomic
def do_edit_note(
    note: Note, *, by: User, body: str | None = None, sharing: Sharing | None = None
) -> Note:
    note = Note.objects.select_for_update().get(pk=note.pk)
    check_can_change(note, note.author_id, by=by)
    changes: dict[str, Any] = {}
    previous = set(note.mentions.values_list("pk", flat=True))
    partners_before = partner_audience(note)
    if sharing is not None:
        sharing = check_sharing(sharing, by=by)
        _apply_sharing(note, sharing)
        note.partners.set(sharing.partners)
        changes["visibility"] = note.visibility
    if body is not None:
        text = check_note_body(body)
        if text != note.body:
            NoteRevision.objects.create(note=note, body=note.body, edited_by=by)
            note.body = text
            note.body_html = render_markdown(text)
            changes["body"] = "edited"
    note.save()
    mentioned = check_mentions(note, note.body)
    note.mentions.set(mentioned)
    if changes:
        record_audit(by, "note.updated", note, changes)
    _record_partner_sharing("note", note, partners_before, by=by)
    _notify_mentions(note, [u for u in mentioned if u.pk not in previous], by=by)
    index_on_commit("note", note.pk)
    return note


@transaction.atomic
def do_pin_note(note: Note, pinned: bool, *, by: User) -> Note:
    if not by.is_internal:
        raise PermissionDenied("Only staff pin notes.")
    note = Note.objects.select_for_update().get(pk=note.pk)
    if note.pinned != pinned:
        note.pinned = pinned
        note.pinned_at = timezone.now() if pinned else None
        note.save(update_fields=["pinned", "pinned_at", "updated_at"])
        record_audit(by, "note.pinned" if pinned else "note.unpinned", note)
    return note


@transaction.atomic
def do_delete_note(note: Note, *, by: User) -> None:
    check_can_change(note, note.author_id, by=by)
    record_audit(by, "note.deleted", note)
    note_id = note.pk
    note.delete()
    index_on_commit("note", note_id)


# -- documents ------------------------------------------------------------------


def check_upload(data: bytes, filename: str) -> Extracted:
    """Size first, then the content's kind and text; raises ValidationError (size),
    UnsupportedFile or UnreadableFile."""
    limit = settings.DOCUMENT_MAX_BYTES
    if len(data) > limit:
        raise ValidationError(
            {"file": f"The file is larger than the limit of {limit // (1024 * 1024)} MB."}
        )
    return extract(data, filename)


def _store_version(
    document: Document, extracted: Extracted, data: bytes, filename: str, *, by: User
) -> DocumentVersion:
    number = (document.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    name = stored_filename(filename, extracted.kind)
    version = DocumentVersion(
        document=document,
        number=number,
        filename=name,
        content_type=extracted.content_type,
        kind=extracted.kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        text=extracted.text,
        uploaded_by=by,
    )
    version.file.save(name, ContentFile(data), save=False)
    version.save()
    document.current_version = version
    document.save(update_fields=["current_version", "updated_at"])
    return version


@contextmanager
def _files_removed_on_failure() -> Iterator[list[str]]:
    """Django has no on-rollback hook: the file written in a transaction that then
    fails is removed here, so a failed upload leaves nothing behind."""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise


def do_upload_document(
    data: bytes,
    filename: str,
    *,
    by: User,
    title: str = "",
    sharing: Sharing | None = None,
) -> Document:
    # Everything is checked before anything is written.
    extracted = check_upload(data, filename)
    sharing = check_sharing(sharing or Sharing(), by=by)
    title = (title or "").strip()[:MAX_TITLE_LENGTH] or stored_filename(filename, extracted.kind)
    with _files_removed_on_failure() as written, transaction.atomic():
        document = Document(title=title, uploaded_by=by)
        _apply_sharing(document, sharing)
        document.save()
        document.partners.set(sharing.partners)
        version = _store_version(document, extracted, data, filename, by=by)
        written.append(version.file.name)
        record_audit(by, "document.uploaded", document, {"version": 1, "kind": extracted.kind})
        _record_partner_sharing("document", document, set(), by=by)
        index_on_commit("document", document.pk)
    return document


def do_add_document_version(
    document: Document, data: bytes, filename: str, *, by: User
) -> Document:
    extracted = check_upload(data, filename)
    with _files_removed_on_failure() as written, transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        check_can_add_version(document, by=by)
        version = _store_version(document, extracted, data, filename, by=by)
        written.append(version.file.name)
        record_audit(by, "document.version_added", document, {"version": version.number})
        index_on_commit("document", document.pk)
    return document


def check_can_add_version(document: Document, *, by: User) -> None:
    """Whoever may see a document may add a version, except partners, who may only
    version their own organization's uploads."""
    if not visible_documents(by).filter(pk=document.pk).exists():
        raise PermissionDenied("No such document.")
    if by.is_partner and document.uploaded_by.partner_organization_id != by.partner_organization_id:
        raise PermissionDenied("Only staff can add versions to this document.")


@transaction.atomic
def do_update_document(
    document: Document, *, by: User, title: str | None = None, sharing: Sharing | None = None
) -> Document:
    document = Document.objects.select_for_update().get(pk=document.pk)
    check_can_change(document, document.uploaded_by_id, by=by)
    changes: dict[str, Any] = {}
    partners_before = partner_audience(document)
    if title is not None and title.strip():
        changes["title"] = [document.title, title.strip()[:MAX_TITLE_LENGTH]]
        document.title = changes["title"][1]
    if sharing is not None:
        sharing = check_sharing(sharing, by=by)
        _apply_sharing(document, sharing)
        document.partners.set(sharing.partners)
        changes["visibility"] = document.visibility
    document.save()
    record_audit(by, "document.updated", document, changes)
    _record_partner_sharing("document", document, partners_before, by=by)
    index_on_commit("document", document.pk)
    return document


def do_delete_document(document: Document, *, by: User) -> None:
    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        check_can_change(document, document.uploaded_by_id, by=by)
        names = list(document.versions.values_list("file", flat=True))
        record_audit(by, "document.deleted", document)
        document_id = document.pk
        document.current_version = None
        document.save(update_fields=["current_version"])
        document.delete()
        index_on_commit("document", document_id)
        # The files go only once the rows are gone for good.
        transaction.on_commit(lambda: [default_storage.delete(name) for name in names])
