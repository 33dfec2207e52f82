"""Download of a message's attachment, with the visibility of its conversation: staff
see every attachment, a partner only those of conversations shared with them (any
other id is 404, as if it did not exist)."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from inbox.models import Attachment
from inbox.visibility import visible_messages

# Inbound mail names any type it likes; only inert ones are passed on, the rest go
# out as bytes. The file is always an attachment in a sandbox either way.
INERT_CONTENT_TYPES = frozenset(
    {
        "application/pdf",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/csv",
        "text/plain",
    }
)


def served_content_type(declared: str) -> str:
    declared = declared.split(";")[0].strip().lower()
    return declared if declared in INERT_CONTENT_TYPES else "application/octet-stream"


class AttachmentDownloadView(APIView):
    @extend_schema(
        responses={(200, "application/octet-stream"): bytes},
        summary="An attachment of a message, as a download",
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        attachment = get_object_or_404(
            Attachment.objects.filter(message__in=visible_messages(request.user).values("pk")),
            pk=pk,
        )
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, ValueError) as error:  # the row outlived its file
            raise Http404 from error
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.filename or "attachment",
            content_type=served_content_type(attachment.content_type),
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response
