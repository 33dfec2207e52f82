from __future__ import annotations

from django.db import models


class Event(models.Model):
    """The event log: the source of truth for everything pushed to sockets.

    Ids are handed out in commit order (see inbox.events.record_event), so a reader
    that has seen id N has seen every event that will ever exist below N: resume and
    cross-process pick-up are a plain `id > N` query.
    """

    type = models.CharField(max_length=50)
    data = models.JSONField(default=dict)
    # Space-delimited routing keys (" team.4 user.17 partner.2 "): who may receive it,
    # decided when it was written. A text column so that the same LIKE filter works on
    # SQLite and PostgreSQL.
    audience = models.TextField()
    conversation_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.pk} {self.type}"

    @property
    def audience_keys(self) -> frozenset[str]:
        return frozenset(self.audience.split())
