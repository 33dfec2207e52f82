"""A query compiled once gives, for any values, the rows its queryset would give."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db.models import QuerySet

from hub.compiled_query import CompiledValues
from hub.models import Account, Contact

pytestmark = pytest.mark.django_db

STAND_IN = -1_000_001


def contacts_of(account: int, shape: int = 10) -> QuerySet[Contact, dict[str, Any]]:
    return (
        Contact.objects.filter(account_id=account)
        .order_by("-last_interaction_at", "id")
        .values("id", "name", "last_interaction_at", "lead_score")[:shape]
    )


def test_rows_are_what_the_queryset_gives_for_each_value() -> None:
    accounts = [Account.objects.create(name=name) for name in ("Acme", "Globex", "Empty")]
    for index in range(6):
        Contact.objects.create(
            name=f"Contact {index}",
            account=accounts[index % 2],
            lead_score=index * 7,
            last_interaction_at=datetime(2026, 11, 1 + index, 9, 30, tzinfo=UTC),
        )
    compiled = CompiledValues(Contact, contacts_of, account=STAND_IN)
    for account in accounts:
        rows = compiled.rows(account=account.pk)
        assert rows == list(contacts_of(account.pk))
    # Dates come back as dates on every database (SQLite stores text).
    assert isinstance(compiled.rows(account=accounts[0].pk)[0]["last_interaction_at"], datetime)
    assert compiled.rows(account=accounts[2].pk) == []


def test_each_shape_is_its_own_statement() -> None:
    acme = Account.objects.create(name="Acme")
    for index in range(5):
        Contact.objects.create(name=f"Contact {index}", account=acme)
    compiled = CompiledValues(Contact, contacts_of, account=STAND_IN)
    assert len(compiled.rows(shape=2, account=acme.pk)) == 2
    assert len(compiled.rows(shape=4, account=acme.pk)) == 4
    assert len(compiled.rows(shape=2, account=acme.pk)) == 2


def test_a_stand_in_that_is_not_exactly_one_parameter_is_refused() -> None:
    def twice(account: int) -> QuerySet[Contact, dict[str, Any]]:
        return Contact.objects.filter(account_id=account, owner_id=account).values("id")

    with pytest.raises(ValueError, match="2 parameters"):
        CompiledValues(Contact, twice, account=STAND_IN).rows(account=1)

    def unused(account: int, owner: int) -> QuerySet[Contact, dict[str, Any]]:
        return Contact.objects.filter(account_id=account).values("id")

    with pytest.raises(ValueError, match="0 parameters"):
        CompiledValues(Contact, unused, account=STAND_IN, owner=-5).rows(account=1)
