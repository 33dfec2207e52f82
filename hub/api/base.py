from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from hub import actions
from hub.permissions import IsInternalUser, is_admin, is_internal, is_supervisor


class InternalOnlyMixin:
    """For staff-only resources: a signed-in partner gets 404, as if nothing were there."""

    permission_classes = [IsInternalUser]

    def permission_denied(self, request: Request, message: Any = None, code: Any = None) -> None:
        if request.user and request.user.is_authenticated:
            raise exceptions.NotFound()
        super().permission_denied(request, message=message, code=code)  # type: ignore[misc]


class RoleGatedMixin(InternalOnlyMixin):
    """Staff-only (partners 404), then one role check for reading and one for writing:
    a member of staff without the role gets 403."""

    may_read: Callable[[Any], bool] = staticmethod(is_internal)
    may_write: Callable[[Any], bool] = staticmethod(is_admin)

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)  # type: ignore[misc]
        allowed = self.may_read if request.method in SAFE_METHODS else self.may_write
        if not allowed(request.user):
            raise exceptions.PermissionDenied()


class SupervisorReadOnlyViewSet(
    RoleGatedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Configuration that is written elsewhere (a command, the admin, where its secrets
    are handled) and read here by supervisors and admins."""

    may_read = staticmethod(is_supervisor)


class RecordViewSetMixin:
    """Writes of configuration records through hub.actions.do_save_record and
    do_delete_record: validated by the model, audited, model errors as 400s."""

    request: Request

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        record = serializer.Meta.model(**serializer.validated_data)  # type: ignore[attr-defined]
        serializer.instance = validation_as_400(
            lambda: actions.do_save_record(
                record, by=self.request.user, changes=serializer.validated_data
            )
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        record = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(record, name, value)
        validation_as_400(
            lambda: actions.do_save_record(
                record, by=self.request.user, changes=serializer.validated_data
            )
        )

    def perform_destroy(self, instance: Any) -> None:
        validation_as_400(lambda: actions.do_delete_record(instance, by=self.request.user))


def validation_as_400(call: Callable[[], Any]) -> Any:
    """Run a domain action; its validation errors become 400s with field messages."""
    try:
        return call()
    except ValidationError as error:
        detail = error.message_dict if hasattr(error, "error_dict") else error.messages
        raise serializers.ValidationError(detail) from error


# The largest id a database id column holds (a signed 64-bit integer). Larger numbers
# in `id__in` lookups overflow the database driver instead of matching nothing.
MAX_OBJECT_ID = 2**63 - 1


def object_id_field(**kwargs: Any) -> serializers.IntegerField:
    """An id given in a request body: a whole number a database id can be."""
    return serializers.IntegerField(min_value=1, max_value=MAX_OBJECT_ID, **kwargs)
