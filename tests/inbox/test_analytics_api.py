"""Analytics over the REST API: survey answers and their aggregate, one endpoint per
report metric with the reports page's filters, and attachment downloads with the
conversation's visibility."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from hub.models import Account, Deal
from inbox import actions, reports
from inbox.attachments import AttachmentInput, do_add_attachments
from inbox.models import Channel, Survey
from tests.conftest import login_client
from tests.factories import Personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db


def _survey(people: Personas, thread: str, **answers: Any) -> Survey:
    inbox = make_inbox(people.support, key=f"chat-{thread}")
    conversation = inbound(inbox, "Help", thread_key=thread).conversation
    now = timezone.now()
    return Survey.objects.create(
        conversation=conversation,
        token=f"token-{thread}",
        channel=Channel.CHAT,
        team=people.support,
        agent=people.agent,
        sent_at=now,
        answered_at=now if answers else None,
        **answers,
    )


def test_surveys_are_listed_without_their_token_and_aggregated_exactly(
    people: Personas,
) -> None:
    _survey(people, "a", csat=5, ces=2, nps=10)
    _survey(people, "b", csat=4, ces=4, nps=9)
    _survey(people, "c", csat=1, ces=6, nps=3)
    _survey(people, "d", csat=3, ces=3, nps=8)
    _survey(people, "e")  # not answered
    client = login_client(people.agent)
    listed = client.get("/api/v1/surveys/")
    assert listed.status_code == 200
    assert listed.json()["count"] == 5
    assert b"token-" not in listed.content
    assert client.get("/api/v1/surveys/", {"answered": "0"}).json()["count"] == 1

    scores = client.get("/api/v1/surveys/aggregate/", {"team": people.support.pk}).json()
    # CSAT: 2 of 4 answers are 4-5; NPS: 2 promoters - 1 detractor of 4 answers.
    assert scores == {"answered": 4, "csat_percent": 50.0, "ces_average": 3.75, "nps": 25.0}
    other_team = client.get("/api/v1/surveys/aggregate/", {"team": people.billing.pk}).json()
    assert other_team["answered"] == 0 and other_team["nps"] is None


def test_every_report_metric_has_an_endpoint_with_the_reports_figures(people: Personas) -> None:
    account = Account.objects.create(name="Acme")
    for title, stage in (("Won", "won"), ("Lost", "lost")):
        Deal.objects.create(
            title=title, account=account, value=Decimal("10"), stage=stage,
            closed_at=timezone.now(),
        )  # fmt: skip
    client = login_client(people.salesperson)
    index = client.get("/api/v1/metrics/").json()
    assert [row["metric"] for row in index] == list(reports.METRICS)
    for row in index:
        for grouping in row["groupings"]:
            response = client.get(row["url"], {"grouping": grouping})
            assert response.status_code == 200, (row["url"], grouping, response.content)
            body = response.json()
            assert body["metric"] == row["metric"] and body["grouping"] == grouping
            assert all(len(cells) == len(body["headers"]) for cells in body["rows"])
    close_rate = client.get("/api/v1/metrics/close_rate/").json()
    assert close_rate["rows"] == [["All", 1, 1, 50.0]]


def test_metric_filters_are_validated(people: Personas) -> None:
    client = login_client(people.agent)
    url = "/api/v1/metrics/conversations/"
    assert client.get(url, {"grouping": "stage"}).status_code == 400
    assert client.get(url, {"channel": "pigeon"}).status_code == 400
    assert client.get(url, {"from": "2026-02-30"}).status_code == 400
    assert client.get(url, {"from": "2026-03-02", "to": "2026-03-01"}).status_code == 400
    assert client.get(url, {"team": "x"}).status_code == 400
    response = client.get(url, {"from": "2026-03-01", "to": "2026-03-01", "grouping": "channel"})
    assert response.status_code == 200
    assert (response.json()["from"], response.json()["to"]) == ("2026-03-01", "2026-03-01")


def test_conversation_metrics_over_the_api_count_by_channel(people: Personas) -> None:
    chat = make_inbox(people.support)
    received = inbound(chat, "Help", thread_key="v1")
    actions.do_reply(received.conversation, "Sure", by=people.agent)
    actions.do_change_status(received.conversation, "resolved", by=people.agent)
    inbound(chat, "Other", thread_key="v2")
    today = timezone.localdate().isoformat()
    body = (
        login_client(people.supervisor)
        .get("/api/v1/metrics/conversations/", {"grouping": "channel", "from": today, "to": today})
        .json()
    )
    (row,) = body["rows"]
    # label, conversations, first response, resolved, resolution, FCR count, FCR %
    assert (row[1], row[3], row[5], row[6]) == (2, 1, 1, 100.0)


def test_an_attachment_downloads_with_its_conversations_visibility(
    people: Personas, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    chat = make_inbox(people.support)
    shared = inbound(chat, "See file", thread_key="s")
    private = inbound(chat, "Mine", thread_key="p")
    (page,) = do_add_attachments(
        shared.message, [AttachmentInput("page.html", "text/html", b"<script>x</script>")]
    )
    (pdf,) = do_add_attachments(
        private.message, [AttachmentInput("offer.pdf", "application/pdf", b"%PDF-1.4")]
    )
    actions.do_share(shared.conversation, people.org_a, by=people.agent)

    staff = login_client(people.agent)
    response = staff.get(f"/api/v1/attachments/{pdf.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    # A type a browser would run is served as bytes, in a sandbox.
    response = staff.get(f"/api/v1/attachments/{page.pk}/download/")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    # The link the message serializer gives is this endpoint.
    messages = staff.get(f"/api/v1/conversations/{shared.conversation.pk}/messages/").json()
    (link,) = [a["url"] for m in messages["results"] for a in m["attachments"]]
    assert link == f"/api/v1/attachments/{page.pk}/download/"

    partner_a = login_client(people.partner_a)
    assert partner_a.get(f"/api/v1/attachments/{page.pk}/download/").status_code == 200
    assert partner_a.get(f"/api/v1/attachments/{pdf.pk}/download/").status_code == 404
    assert login_client(people.partner_b).get(link).status_code == 404
    assert Client().get(link).status_code in (401, 403)
    # A row whose file is gone is a 404, not a crash.
    page.file.delete(save=False)
    assert staff.get(link).status_code == 404
    assert staff.post(link, json.dumps({}), content_type="application/json").status_code == 405


def test_the_survey_list_takes_the_sending_range(people: Personas) -> None:
    old = _survey(people, "old", csat=5)
    Survey.objects.filter(pk=old.pk).update(sent_at=timezone.now() - timedelta(days=90))
    _survey(people, "new", csat=4)
    client = login_client(people.agent)
    assert client.get("/api/v1/surveys/").json()["count"] == 1
    since = (timezone.localdate() - timedelta(days=100)).isoformat()
    assert client.get("/api/v1/surveys/", {"from": since}).json()["count"] == 2
