"""Schemathesis over the project's own OpenAPI schema, in-process (issue 11 item 6).

Every GET operation of /api/schema/ gets a few generated requests (path ids, query
parameters), and every POST/PUT/PATCH/DELETE a few generated bodies that follow the
schema and a few that break it, as an administrator with an API token; none may
answer 5xx (schemathesis' `not_a_server_error`). Bounded: a handful of examples per
operation, derandomized, so CI stays fast and repeatable."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, strategies
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from hub.actions import do_create_contact, do_issue_api_token
from hub.models import Account, Deal, Tag, Task
from inbox.reports import METRICS
from kb_documents.models import Note
from tests.conftest import login_client
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


WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
WRITE_EXAMPLES_PER_OPERATION = 6


@pytest.mark.django_db
def test_no_write_operation_of_the_schema_answers_5xx(
    people: Personas, wsgi_app: Any, settings: Any, tmp_path: Any
) -> None:
    """Every POST/PUT/PATCH/DELETE as an administrator (who may do everything), with
    generated bodies against real objects: a bad body must be a 4xx, never a crash."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SEARCH_INDEX_DIR = tmp_path / "index"
    settings.SEARCH_INDEX_IN_BACKGROUND = False
    world = _fuzz_world(people)
    key = do_issue_api_token(people.admin)
    headers = {"Authorization": f"Token {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    failures: list[str] = []
    statuses: list[int] = []
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() not in WRITE_METHODS:
            continue
        checked += 1

        @hypothesis_settings(
            max_examples=WRITE_EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=_both_modes(operation))
        def probe(case: Any) -> None:
            for name, value in list((case.path_parameters or {}).items()):
                # Aim most cases at objects that exist, so writes get past 404.
                if isinstance(value, int) and value % 3 != 0 and name in ("id", "pk"):
                    case.path_parameters[name] = world.get(case.operation.path, value)
            response = case.call(headers=headers)
            statuses.append(response.status_code)
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except FailureGroup as failure:  # collected and reported together
                failures.append(
                    f"{case.method} {case.formatted_path} {case.body!r:.300} → "
                    f"{response.status_code}: {type(failure).__name__}"
                )

        probe()
    assert checked >= 30
    assert any(200 <= status < 300 for status in statuses), "no write was accepted"
    assert not failures, "\n".join(sorted(set(failures)))


def _both_modes(operation: Any) -> Any:
    """Bodies that follow the schema (they reach the domain functions) and bodies that
    break it (wrong types, missing fields: they must be refused cleanly)."""
    return strategies.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )


class _World(dict):
    """Path template → the id of a real object of that resource."""

    def get(self, path: str, default: Any) -> Any:  # type: ignore[override]
        for prefix, pk in self.items():
            if path.startswith(prefix):
                return pk
        return default


def _fuzz_world(people: Personas) -> _World:
    chat = inbound(make_inbox(people.support), "Something to reply to", thread_key="fuzz")
    account = Account.objects.create(name="Fuzz account")
    contact = do_create_contact("Fuzz contact", account=account, by=people.agent)
    deal = Deal.objects.create(title="Fuzz deal", account=account)
    task = Task.objects.create(title="Fuzz task")
    tag = Tag.objects.create(name="fuzz")
    return _World(
        {
            "/api/v1/conversations/": chat.conversation.pk,
            "/api/v1/contacts/": contact.pk,
            "/api/v1/accounts/": account.pk,
            "/api/v1/deals/": deal.pk,
            "/api/v1/tasks/": task.pk,
            "/api/v1/tags/": tag.pk,
            "/api/v1/teams/": people.billing.pk,
            "/api/v1/users/": people.other_agent.pk,
            "/api/v1/partner-organizations/": people.org_b.pk,
        }
    )


@pytest.mark.django_db
def test_an_id_beyond_what_a_database_holds_is_a_400_not_a_crash(people: Personas) -> None:
    # Found by the write fuzzing: `partners: [2**64]` overflowed the driver in `pk__in`.
    client = login_client(people.agent)
    for body in (
        {"body": "x", "visibility": "partner", "partners": [2**64]},
        {"body": "x", "account": -(2**70)},
    ):
        response = client.post("/api/v1/notes/", json.dumps(body), content_type="application/json")
        assert response.status_code == 400, response.content
    assert not Note.objects.exists()


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
