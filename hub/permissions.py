"""Role checks shared by the API, the sockets and the portal."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


def is_internal(user: Any) -> bool:
    """Company staff of any role; partners and anonymous visitors are external."""
    return bool(getattr(user, "is_authenticated", False) and user.is_internal)


def is_supervisor(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_supervisor)


class IsActiveUser(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_active)


class IsInternalUser(BasePermission):
    """Staff only. Partners get 404 rather than 403, so an endpoint's existence leaks nothing."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_internal(request.user)


class IsSupervisor(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return is_supervisor(request.user)


def is_admin(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)
