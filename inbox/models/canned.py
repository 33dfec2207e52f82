from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

SHORTCUT_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


class CannedResponse(models.Model):
    """A reply an agent inserts in the composer by typing `/` and its shortcut.

    The body may hold placeholders such as {{contact.first_name}}; the console fills
    them in the browser from the open conversation's contact."""

    shortcut = models.CharField(
        _("shortcut"),
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(
                SHORTCUT_PATTERN,
                _("Lower-case letters, digits, - and _ only, starting with a letter or digit."),
            )
        ],
        help_text=_("Typed after / in the composer, e.g. thanks"),
    )
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(
        _("text"),
        max_length=10_000,
        help_text=_(
            "Placeholders: {{contact.name}}, {{contact.first_name}}, {{account.name}}, "
            "{{agent.name}}, {{agent.first_name}}"
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["shortcut"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")

    def __str__(self) -> str:
        return f"/{self.shortcut}"
