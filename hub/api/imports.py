"""CSV import (with a dry-run preview) and export over the API; thin over hub.imports.
Supervisors and admins only: a partner gets 404, other staff 403."""

from __future__ import annotations

import io
import json
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.imports import KINDS, CsvImportError, export_csv, run_import
from hub.permissions import IsSupervisor

MAX_IMPORT_BYTES = 20 * 1024 * 1024


class SupervisorOnlyMixin:
    permission_classes = [IsSupervisor]

    def permission_denied(self, request: Request, message: Any = None, code: Any = None) -> None:
        user = request.user
        if user and user.is_authenticated and not user.is_internal:
            raise exceptions.NotFound()
        super().permission_denied(request, message=message, code=code)  # type: ignore[misc]


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise exceptions.NotFound()
    return kind


class ImportInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    dry_run = serializers.BooleanField(default=False)
    mode = serializers.ChoiceField(choices=["atomic", "partial"], default="atomic")
    mapping = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text='JSON object field → column, e.g. {"name": "Kunde"}',
    )

    def validate_mapping(self, value: str) -> dict[str, str]:
        if not value:
            return {}
        try:
            mapping = json.loads(value)
        except ValueError as exc:
            raise serializers.ValidationError("not valid JSON") from exc
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise serializers.ValidationError("expected an object of field → column header")
        return mapping

    def validate_file(self, value: Any) -> Any:
        if value.size > MAX_IMPORT_BYTES:
            raise serializers.ValidationError(f"the file is larger than {MAX_IMPORT_BYTES} bytes")
        return value


class ImportView(SupervisorOnlyMixin, APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ImportInputSerializer},
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="dry-run preview"),
            201: OpenApiResponse(OpenApiTypes.OBJECT, description="imported"),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="bad file or bad rows"),
        },
    )
    def post(self, request: Request, kind: str) -> Response:
        kind = _kind(kind)
        data = ImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        options = data.validated_data
        try:
            report = run_import(
                kind,
                options["file"].read(),
                mapping=options.get("mapping") or {},
                dry_run=options["dry_run"],
                atomic=options["mode"] == "atomic",
                by=request.user,
            )
        except CsvImportError as exc:
            return Response({"file": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        if report.committed:
            code = status.HTTP_201_CREATED
        elif report.dry_run:
            code = status.HTTP_200_OK
        else:
            code = status.HTTP_400_BAD_REQUEST  # atomic with bad rows: nothing imported
        return Response(report.as_dict(), status=code)


class ExportView(SupervisorOnlyMixin, APIView):
    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request, kind: str) -> HttpResponse:
        kind = _kind(kind)
        out = io.StringIO()
        export_csv(kind, out)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{kind}.csv"'
        return response
