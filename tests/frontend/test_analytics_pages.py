"""Dashboards per role, the reports page and its CSV/XLSX exports."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from frontend.charts import bar_chart
from hub.actions import do_save_deal
from hub.models import Account, Deal, DealStage
from inbox import actions
from inbox.events import check_event
from inbox.metrics import publish_team_figures
from inbox.models import Event
from inbox.reports import METRICS, Table, table_csv, table_xlsx
from tests.conftest import login_client
from tests.factories import Personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(people: Personas) -> None:
    inbox = make_inbox(people.support)
    for thread, replies in (("a", 1), ("b", 2)):
        conversation = inbound(inbox, "Help", thread_key=thread).conversation
        actions.do_assign(conversation, people.agent, by=people.agent)
        for _ in range(replies):
            actions.do_reply(conversation, "Answer", by=people.agent)
        actions.do_change_status(conversation, "resolved", by=people.agent)
    waiting = inbound(inbox, "Still waiting", thread_key="c", subject="Refund").conversation
    actions.do_assign(waiting, people.agent, by=people.agent)
    account = Account.objects.create(name="=HYPERLINK(1)")
    do_save_deal(Deal(title="A", account=account, stage=DealStage.PROPOSAL, value=Decimal(900)))
    do_save_deal(
        Deal(
            title="B",
            account=account,
            stage=DealStage.WON,
            value=Decimal(100),
            owner=people.salesperson,
        )
    )


def test_the_agent_sees_their_own_queue_and_no_team_or_pipeline(
    people: Personas, activity: None
) -> None:
    page = login_client(people.agent).get("/dashboard/").content.decode()
    assert "Refund" in page
    assert "data-team-figures" not in page
    assert "data-pipeline-chart" not in page


def test_the_supervisor_sees_live_team_figures_and_the_salesperson_the_pipeline_svg(
    people: Personas, activity: None
) -> None:
    page = login_client(people.supervisor).get("/dashboard/").content.decode()
    assert f'data-team="{people.support.pk}"' in page
    assert "dashboard.js" in page
    sales_page = login_client(people.salesperson).get("/dashboard/").content.decode()
    assert "<svg" in sales_page and "Proposal" in sales_page
    assert "data-team-figures" not in sales_page


def test_figures_updated_events_go_to_each_team(people: Personas, activity: None) -> None:
    published = publish_team_figures()
    assert published == 3
    event = Event.objects.filter(type="figures.updated", data__team=people.support.pk).get()
    assert event.data["figures"]["open"] == 1
    assert event.data["figures"]["resolved_today"] == 2
    assert event.audience == f" team.{people.support.pk} "


def test_partners_get_404_on_every_analytics_page(people: Personas) -> None:
    client = login_client(people.partner_a)
    for path in ("/dashboard/", "/reports/", "/reports/export.csv", "/reports/export.xlsx"):
        assert client.get(path).status_code == 404


def test_the_report_page_groups_and_refuses_bad_input(people: Personas, activity: None) -> None:
    client = login_client(people.supervisor)
    page = client.get("/reports/", {"metric": "conversations", "grouping": "agent"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Alice Agent" in body and "<svg" in body
    assert client.get("/reports/", {"metric": "nope"}).status_code == 400
    assert client.get("/reports/", {"metric": "churn", "grouping": "agent"}).status_code == 400
    assert client.get("/reports/", {"team": "x"}).status_code == 400
    assert client.get("/reports/", {"from": "2026-05-02", "to": "2026-05-01"}).status_code == 400
    assert client.get("/reports/export.csv", {"metric": "nope"}).status_code == 400
    assert client.get("/reports/", {"from": "2026-02-30"}).status_code == 400
    assert client.get("/reports/export.xlsx", {"to": "2026-99-01"}).status_code == 400
    assert client.get("/dashboard/", {"from": "2026-02-30"}).status_code == 400


def test_every_metric_and_grouping_renders(people: Personas, activity: None) -> None:
    client = login_client(people.supervisor)
    for metric, (_label, groupings, _build) in METRICS.items():
        for grouping in groupings:
            response = client.get("/reports/", {"metric": metric, "grouping": grouping})
            assert response.status_code == 200, (metric, grouping)


def test_the_xlsx_export_opens_in_openpyxl_with_the_rows(people: Personas, activity: None) -> None:
    client = login_client(people.supervisor)
    response = client.get("/reports/export.xlsx", {"metric": "conversations", "grouping": "agent"})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:2] == ["Group", "Conversations"]
    assert rows[1][0] == "Alice Agent"
    assert rows[1][1] == 3  # conversations
    assert rows[1][3] == 2  # resolved
    assert rows[1][5] == 1  # resolved at first contact
    assert rows[1][6] == 50.0
    assert len(rows) == 2


def test_the_csv_export_has_the_same_rows(people: Personas, activity: None) -> None:
    client = login_client(people.supervisor)
    response = client.get("/reports/export.csv", {"metric": "pipeline"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["Stage", "Deals", "Value"],
        ["Prospecting", "0", "0.0"],
        ["Proposal", "1", "900.0"],
    ]
    assert client.get("/reports/export.pdf").status_code == 404


def test_exports_never_carry_a_live_formula() -> None:
    table = Table("t", ["Group", "n"], [["=HYPERLINK(1)", 1], ["@SUM(A1)", 2], ["Plain", 3]])
    rows = list(csv.reader(io.StringIO(table_csv(table))))
    assert [row[0] for row in rows[1:]] == ["'=HYPERLINK(1)", "'@SUM(A1)", "Plain"]
    sheet = load_workbook(io.BytesIO(table_xlsx(table))).active
    assert sheet["A2"].value == "'=HYPERLINK(1)" and sheet["A2"].data_type == "s"


def test_chart_labels_are_escaped() -> None:
    svg = bar_chart([("<script>", 3), ("b", 0)], title="t & u")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.startswith("<svg") and "t &amp; u" in svg


def test_the_dashboard_and_reports_speak_norwegian(people: Personas, activity: None) -> None:
    people.supervisor.language = "nb"
    people.supervisor.save()
    client = login_client(people.supervisor)
    assert "Teamene akkurat nå" in client.get("/dashboard/").content.decode()
    page = client.get("/reports/", {"metric": "close_rate"}).content.decode()
    assert "Vinnrate %" in page and "Eksporter XLSX" in page


def test_the_figures_worker_publishes_a_snapshot_per_team(people: Personas, activity: None) -> None:
    out = io.StringIO()
    call_command("analytics_figures", "--once", stdout=out)
    assert "3 teams published" in out.getvalue()
    for event in Event.objects.filter(type="figures.updated"):
        check_event(event.type, event.data)
