"""The per-process configuration cache (hub.config_cache): every write to a watched
model changes the token in its transaction, and a snapshot serves cached values only
while the token it read is unchanged."""

from __future__ import annotations

import pytest
from django.db import connection

from hub import config_cache
from hub.models import LeadScoring
from hub.scoring import scoring_settings
from inbox.models import Priority, SlaPolicy, TeamAssignment
from tests.factories import Personas

pytestmark = pytest.mark.django_db


def another_process_changed_the_configuration() -> None:
    """What another process's commit looks like from here: a new token, and no
    signal in this process."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE hub_configurationversion SET token = %s WHERE id = %s",
            ["from-another-process", config_cache.VERSION_ROW],
        )


def test_every_write_to_a_watched_model_changes_the_token(people: Personas) -> None:
    tokens = [config_cache.current_token()]
    policy = SlaPolicy.objects.create(priority=Priority.HIGH, first_response_minutes=30)
    tokens.append(config_cache.current_token())
    policy.first_response_minutes = 20
    policy.save()
    tokens.append(config_cache.current_token())
    SlaPolicy.objects.filter(pk=policy.pk).delete()  # a queryset delete sends signals too
    tokens.append(config_cache.current_token())
    assert len(set(tokens)) == 4

    assignment = TeamAssignment.objects.create(team=people.support, auto_assign=True)
    before = config_cache.current_token()
    assignment.last_assigned = people.agent
    assignment.save(update_fields=["last_assigned"])  # the round-robin pointer: not cached
    assert config_cache.current_token() == before
    people.support.delete()  # the cascade deletes the assignment policy
    assert config_cache.current_token() != before


def test_a_snapshot_serves_cached_values_until_the_token_changes() -> None:
    LeadScoring.objects.create(name="first", size_weight=10)
    with config_cache.snapshot():
        assert scoring_settings().name == "first"
    # Written without a signal in this process (as another process's commit would
    # look): the cache still serves the old row ...
    LeadScoring.objects.update(name="second")
    with config_cache.snapshot():
        assert scoring_settings().name == "first"
    assert scoring_settings().name == "second"  # outside a snapshot: always the database
    # ... until the token changes.
    another_process_changed_the_configuration()
    with config_cache.snapshot():
        assert scoring_settings().name == "second"


def test_clearing_the_cache_reads_everything_again() -> None:
    LeadScoring.objects.create(name="first")
    with config_cache.snapshot():
        assert scoring_settings().name == "first"
    LeadScoring.objects.update(name="second")
    config_cache.clear()
    with config_cache.snapshot():
        assert scoring_settings().name == "second"
