"""Canned responses: the domain functions behind the admin and the REST endpoint."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from hub.actions import record_audit
from hub.models import User
from inbox.models import CannedResponse


def active_canned_responses() -> list[CannedResponse]:
    return list(CannedResponse.objects.filter(is_active=True).order_by("shortcut"))


def check_canned_response(response: CannedResponse) -> None:
    response.shortcut = (response.shortcut or "").strip().lower().lstrip("/")
    response.full_clean()
    if not response.body.strip():
        raise ValidationError({"body": _("The text may not be blank.")})


def do_save_canned_response(response: CannedResponse, *, by: User) -> CannedResponse:
    check_canned_response(response)
    created = response.pk is None
    with transaction.atomic():
        if created:
            response.created_by = by
        response.save()
        record_audit(
            by,
            "cannedresponse.created" if created else "cannedresponse.updated",
            response,
            {"shortcut": response.shortcut},
        )
    return response


def do_delete_canned_response(response: CannedResponse, *, by: User) -> None:
    with transaction.atomic():
        record_audit(by, "cannedresponse.deleted", response, {"shortcut": response.shortcut})
        response.delete()
