from __future__ import annotations

from django.db import models


class ConfigurationVersion(models.Model):
    """One row whose token changes in the same transaction as every write to the
    configuration that inbound messages read (hub.config_cache): a process that
    cached that configuration compares tokens to know whether it is still current.
    A random token rather than a counter, so that a rolled-back or flushed database
    can never bring back a value a process has already cached other data under."""

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "configuration version"

    def __str__(self) -> str:
        return f"configuration {self.token}"
