"""Schemathesis over the project's own OpenAPI schema, in-process (issue 11 item 6).

Every GET operation of /api/schema/ gets a few generated requests (path ids, query
parameters) as a staff admin with an API token; none may answer 5xx. Bounded: a
handful of examples per operation, derandomized, so CI stays fast and repeatable."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from hub.actions import do_issue_api_token
from inbox.reports import METRICS
from tests.factories import Personas
from tests.inbox_fixtures import inbound, make_inbox

EXAMPLES_PER_OPERATION = 5


@pytest.fixture
def wsgi_app() -> Any:
    # Like Django's test client: a request's end must not close the test's connection
    # (it is inside the test's transaction).
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@pytest.mark.django_db
def test_no_get_operation_of_the_schema_answers_5xx(
    people: Personas, wsgi_app: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SEARCH_INDEX_DIR = tmp_path / "index"
    settings.SEARCH_INDEX_IN_BACKGROUND = False
    inbound(make_inbox(people.support), "Something to list")
    key = do_issue_api_token(people.admin)
    headers = {"Authorization": f"Token {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    failures: list[str] = []
    seen: list[int] = []
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET":
            continue
        checked += 1

        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def probe(case: Any) -> None:
            response = case.call(headers=headers)
            seen.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query} → {response.status_code}"
                )

        probe()
    assert checked >= 15
    assert any(200 <= status < 300 for status in seen), "the token was not accepted"
    assert not failures, "\n".join(sorted(set(failures)))


RESOURCES = [
    "/api/v1/contacts/",
    "/api/v1/contacts/lookup/",
    "/api/v1/accounts/",
    "/api/v1/deals/",
    "/api/v1/tasks/",
    "/api/v1/conversations/",
    "/api/v1/conversations/{id}/messages/",
    "/api/v1/conversations/{id}/notes/",
    "/api/v1/notes/",
    "/api/v1/documents/",
    "/api/v1/search/",
    "/api/v1/routing-rules/",
    "/api/v1/webhooks/",
    "/api/v1/webhook-deliveries/",
    "/api/v1/imports/{kind}/",
    "/api/v1/exports/{kind}/",
    "/api/v1/users/",
    "/api/v1/teams/",
    "/api/v1/team-memberships/",
    "/api/v1/tags/",
    "/api/v1/partner-organizations/",
    "/api/v1/lead-scoring/",
    "/api/v1/sla-policies/",
    "/api/v1/business-hours/",
    "/api/v1/surveys/",
    "/api/v1/surveys/aggregate/",
    "/api/v1/calls/",
    "/api/v1/calls/{id}/",
    "/api/v1/mailboxes/",
    "/api/v1/slack-workspaces/",
    "/api/v1/slack-channels/",
    "/api/v1/attachments/{id}/download/",
    "/api/v1/metrics/",
    *(f"/api/v1/metrics/{metric}/" for metric in METRICS),
]


@pytest.mark.django_db
def test_every_resource_is_in_the_openapi_schema(client: Any) -> None:
    paths = client.get("/api/schema/?format=json").json()["paths"]
    missing = [path for path in RESOURCES if path not in paths]
    assert not missing, f"not in the schema: {missing}; schema has {sorted(paths)}"
