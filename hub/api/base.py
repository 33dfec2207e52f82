from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request

from hub.permissions import IsInternalUser


class InternalOnlyMixin:
    """For staff-only resources: a signed-in partner gets 404, as if nothing were there."""

    permission_classes = [IsInternalUser]

    def permission_denied(self, request: Request, message: Any = None, code: Any = None) -> None:
        if request.user and request.user.is_authenticated:
            raise exceptions.NotFound()
        super().permission_denied(request, message=message, code=code)  # type: ignore[misc]
