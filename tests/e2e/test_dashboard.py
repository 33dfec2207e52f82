"""The supervisor's dashboard in Chromium: the team figures change live when a
figures.updated event arrives on the console socket (issue 11)."""

from __future__ import annotations

from inbox import actions
from inbox.metrics import publish_team_figures
from tests.e2e.test_console import sign_in
from tests.factories import make_personas
from tests.inbox_fixtures import inbound, make_inbox


def test_a_supervisors_dashboard_updates_live_on_figures_updated(
    hub_server: str, page: object
) -> None:
    people = make_personas()
    inbox = make_inbox(people.support, key="shop")
    inbound(inbox, "First question", thread_key="a")
    sign_in(page, hub_server, people.supervisor.email)
    page.wait_for_selector("#connection[data-state=live]")  # type: ignore[attr-defined]
    page.goto(f"{hub_server}/dashboard/")  # type: ignore[attr-defined]
    row = f"tr[data-team='{people.support.pk}']"
    page.wait_for_selector("[data-live-status].is-live")  # type: ignore[attr-defined]
    assert page.text_content(f"{row} [data-figure=open]") == "1"  # type: ignore[attr-defined]
    assert page.text_content(f"{row} [data-figure=unassigned]") == "1"  # type: ignore[attr-defined]

    # Two more arrive, one gets assigned; the figures worker publishes.
    inbound(inbox, "Second question", thread_key="b")
    third = inbound(inbox, "Third question", thread_key="c").conversation
    actions.do_assign(third, people.agent, by=people.supervisor)
    publish_team_figures()

    page.wait_for_selector(f"{row} [data-figure=open] >> text=3")  # type: ignore[attr-defined]
    assert page.text_content(f"{row} [data-figure=unassigned]") == "2"  # type: ignore[attr-defined]
    # Other teams' rows are untouched by Support's figures.
    sales = f"tr[data-team='{people.sales.pk}'] [data-figure=open]"
    assert page.text_content(sales) == "0"  # type: ignore[attr-defined]
    # Live, not reloaded: the page was loaded once.
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # type: ignore[attr-defined]
