"""REST endpoints for notes, documents and search: thin adapters over
kb_documents.actions, reading through kb_documents.visibility."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from hub.api.pagination import HubPagination
from hub.models import Account, Contact, Deal, PartnerOrganization, Team
from inbox.visibility import visible_conversations
from kb_documents import actions
from kb_documents.api.serializers import (
    DocumentInputSerializer,
    DocumentSerializer,
    DocumentUpdateSerializer,
    SearchResultSerializer,
    SharedNoteInputSerializer,
    SharedNoteRevisionSerializer,
    SharedNoteSerializer,
    SharedNoteUpdateSerializer,
    VersionInputSerializer,
    VersionSerializer,
)
from kb_documents.extraction import UnreadableFile, UnsupportedFile
from kb_documents.models import Document, Note
from kb_documents.search.service import search
from kb_documents.visibility import visible_documents, visible_notes

LINKS = ("account", "contact", "deal", "conversation")
SHARING_KEYS = ("visibility", "team", "partners", *LINKS)
# Multipart overhead allowed on top of the file itself before the size check refuses
# a request unread.
MULTIPART_SLACK = 64 * 1024


class Problem(Exception):
    def __init__(self, status_code: int, detail: Any) -> None:
        self.status_code = status_code
        self.detail = detail


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _lookup(model: Any, pk: int | None, name: str, queryset: QuerySet | None = None) -> Any:
    if pk is None:
        return None
    found = (queryset if queryset is not None else model.objects.all()).filter(pk=pk).first()
    if found is None:
        raise serializers.ValidationError({name: f"No {name} {pk}."})
    return found


def sharing_from(
    data: dict[str, Any], request: Request, current: Note | Document | None = None
) -> actions.Sharing | None:
    """The Sharing a request asks for, with every id resolved as this user may see it;
    None when the request names none of the sharing fields. On an update, fields the
    request leaves out keep the item's current values."""
    if not any(key in data for key in SHARING_KEYS):
        return None
    if current is not None:
        kept = {
            "visibility": current.visibility,
            "team": current.team_id,
            "partners": [org.pk for org in current.partners.all()],
            **{name: getattr(current, f"{name}_id") for name in LINKS},
        }
        data = {**kept, **data}
    user = request.user
    internal = user.is_internal
    partner_ids = data.get("partners") or []
    partners = list(PartnerOrganization.objects.filter(pk__in=partner_ids))
    if len(partners) != len(set(partner_ids)):
        raise serializers.ValidationError({"partners": "Unknown partner organization."})
    # Staff read every account, contact and deal; partners none (check_sharing refuses
    # them anyway, this only keeps their ids from being probed).
    return actions.Sharing(
        visibility=data.get("visibility") or "internal",
        team=_lookup(Team, data.get("team"), "team"),
        partners=partners,
        account=_lookup(
            Account, data.get("account"), "account", None if internal else Account.objects.none()
        ),
        contact=_lookup(
            Contact, data.get("contact"), "contact", None if internal else Contact.objects.none()
        ),
        deal=_lookup(Deal, data.get("deal"), "deal", None if internal else Deal.objects.none()),
        conversation=_lookup(
            None, data.get("conversation"), "conversation", visible_conversations(user)
        ),
    )


def domain_call(call: Any) -> Any:
    try:
        return call()
    except DjangoValidationError as error:
        detail = error.message_dict if hasattr(error, "error_dict") else error.messages
        raise serializers.ValidationError(detail) from error
    except DjangoPermissionDenied as error:
        raise Problem(status.HTTP_403_FORBIDDEN, {"detail": str(error)}) from error
    except UnsupportedFile as error:
        raise Problem(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, {"file": [str(error)]}) from error
    except UnreadableFile as error:
        raise Problem(status.HTTP_400_BAD_REQUEST, {"file": [str(error)]}) from error


class ProblemMixin:
    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Problem):
            return Response(exc.detail, status=exc.status_code)
        return super().handle_exception(exc)  # type: ignore[misc]


def _filter_links(queryset: QuerySet, request: Request) -> QuerySet:
    for name in ("account", "contact", "deal", "conversation"):
        value = request.query_params.get(name, "")
        if value.isdigit():
            queryset = queryset.filter(**{f"{name}_id": int(value)})
    return queryset


class NoteViewSet(
    ProblemMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Shared notes on accounts, contacts, deals and conversations, in Markdown.

    Mention someone with an @ before their sign-in address (`@kari@example.com`):
    they get a live `note.mentioned` event. Only the author or a supervisor edits;
    earlier texts are kept (`history/`)."""

    serializer_class = SharedNoteSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Note]:
        queryset = _filter_links(
            visible_notes(self.request.user).prefetch_related("mentions"), self.request
        )
        if self.request.query_params.get("pinned") in ("1", "true"):
            queryset = queryset.filter(pinned=True)
        return queryset.order_by("-pinned", "-pinned_at", "-created_at", "-id")

    @extend_schema(request=SharedNoteInputSerializer, responses={201: SharedNoteSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(SharedNoteInputSerializer, request)
        sharing = sharing_from(data, request)
        note = domain_call(
            lambda: actions.do_add_note(data["body"], by=request.user, sharing=sharing)
        )
        return Response(self._shown(note), status=status.HTTP_201_CREATED)

    @extend_schema(request=SharedNoteUpdateSerializer, responses=SharedNoteSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        note = self.get_object()
        data = _valid(SharedNoteUpdateSerializer, request)
        sharing = sharing_from(data, request, current=note)
        if "body" in data or sharing is not None:
            note = domain_call(
                lambda: actions.do_edit_note(
                    note, by=request.user, body=data.get("body"), sharing=sharing
                )
            )
        if "pinned" in data:
            note = domain_call(lambda: actions.do_pin_note(note, data["pinned"], by=request.user))
        return Response(self._shown(note))

    def perform_destroy(self, instance: Note) -> None:
        domain_call(lambda: actions.do_delete_note(instance, by=self.request.user))

    @extend_schema(responses=SharedNoteRevisionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        """Earlier texts of the note, newest first."""
        note = self.get_object()
        page = self.paginate_queryset(note.revisions.all())
        return self.get_paginated_response(SharedNoteRevisionSerializer(page, many=True).data)

    def _shown(self, note: Note) -> dict[str, Any]:
        fresh = self.get_queryset().filter(pk=note.pk).first()
        if fresh is None:  # e.g. a note made private by someone else, or deleted
            raise NotFound()
        return SharedNoteSerializer(fresh, context={"request": self.request}).data


class DocumentViewSet(
    ProblemMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Documents with versions; the file type is judged by content."""

    serializer_class = DocumentSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Document]:
        return _filter_links(visible_documents(self.request.user), self.request).order_by(
            "-updated_at", "-id"
        )

    def _refuse_oversized(self, request: Request) -> None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DOCUMENT_MAX_BYTES
        if length > limit + MULTIPART_SLACK:
            raise Problem(
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                {"file": [f"The file is larger than the limit of {limit // (1024 * 1024)} MB."]},
            )

    @extend_schema(
        request={"multipart/form-data": DocumentInputSerializer},
        responses={201: DocumentSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._refuse_oversized(request)
        data = _valid(DocumentInputSerializer, request)
        sharing = sharing_from(data, request)
        upload = data["file"]
        if upload.size > settings.DOCUMENT_MAX_BYTES:
            self._too_large()
        content = upload.read()
        document = domain_call(
            lambda: actions.do_upload_document(
                content, upload.name, by=request.user, title=data.get("title", ""), sharing=sharing
            )
        )
        return Response(self._shown(document), status=status.HTTP_201_CREATED)

    def _too_large(self) -> None:
        limit = settings.DOCUMENT_MAX_BYTES
        raise Problem(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            {"file": [f"The file is larger than the limit of {limit // (1024 * 1024)} MB."]},
        )

    @extend_schema(request=DocumentUpdateSerializer, responses=DocumentSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        document = self.get_object()
        data = _valid(DocumentUpdateSerializer, request)
        sharing = sharing_from(data, request, current=document)
        document = domain_call(
            lambda: actions.do_update_document(
                document, by=request.user, title=data.get("title"), sharing=sharing
            )
        )
        return Response(self._shown(document))

    def perform_destroy(self, instance: Document) -> None:
        domain_call(lambda: actions.do_delete_document(instance, by=self.request.user))

    @extend_schema(
        request={"multipart/form-data": VersionInputSerializer},
        responses={200: VersionSerializer(many=True), 201: DocumentSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def versions(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        document = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(document.versions.all())
            return self.get_paginated_response(VersionSerializer(page, many=True).data)
        self._refuse_oversized(request)
        data = _valid(VersionInputSerializer, request)
        upload = data["file"]
        if upload.size > settings.DOCUMENT_MAX_BYTES:
            self._too_large()
        content = upload.read()
        document = domain_call(
            lambda: actions.do_add_document_version(document, content, upload.name, by=request.user)
        )
        return Response(self._shown(document), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "version", int, description="a version number; the current one if left out"
            )
        ],
        responses={(200, "application/octet-stream"): bytes},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None, **kwargs: Any) -> FileResponse:
        """The file, always as an attachment with the type found on upload."""
        document = self.get_object()
        number = request.query_params.get("version", "")
        version = (
            document.versions.filter(number=int(number)).first()
            if number.isdigit()
            else document.current_version
        )
        if version is None:
            raise Http404
        response = FileResponse(
            version.file.open("rb"),
            as_attachment=True,
            filename=version.filename,
            content_type=version.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response

    def _shown(self, document: Document) -> dict[str, Any]:
        fresh = self.get_queryset().filter(pk=document.pk).first()
        if fresh is None:
            raise NotFound()
        return DocumentSerializer(fresh, context={"request": self.request}).data


class SearchView(APIView):
    """Full-text search over the notes, documents and messages the user may see."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                str,
                required=True,
                description='words, "phrases", prefix*, type:, account:, author:, channel:',
            ),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="up to 500"),
        ],
        responses=inline_serializer(
            "SearchResults",
            {
                "count": serializers.IntegerField(),
                "next": serializers.CharField(allow_null=True),
                "previous": serializers.CharField(allow_null=True),
                "results": SearchResultSerializer(many=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        paging = HubPagination()
        page_size = paging.get_page_size(request) or paging.page_size
        page_number = request.query_params.get("page", "1")
        page = int(page_number) if page_number.isdigit() and int(page_number) > 0 else 1
        query = request.query_params.get("q", "")[:500]
        found = search(request.user, query, offset=(page - 1) * page_size, limit=page_size)
        base = request.build_absolute_uri()

        def link(number: int) -> str:
            return replace_query_param(base, "page", number)

        has_next = page * page_size < found.count
        return Response(
            {
                "count": found.count,
                "next": link(page + 1) if has_next else None,
                "previous": link(page - 1) if page > 1 else None,
                "results": found.results,
            }
        )
