"""The supervisor's dashboard in Chromium: team figures update live over the socket."""

from __future__ import annotations

from inbox.metrics import publish_team_figures
from tests.e2e.test_console import sign_in
from tests.factories import make_personas
from tests.inbox_fixtures import inbound, make_inbox


def test_the_supervisors_team_figures_update_live_when_new_figures_are_published(
    hub_server: str, page: object
) -> None:
    people = make_personas()
    inbox = make_inbox(people.support, key="shop")
    inbound(inbox, "Where is my parcel?", thread_key="1")
    sign_in(page, hub_server, people.supervisor.email)
    page.wait_for_selector("#connection[data-state=live]")  # type: ignore[attr-defined]
    page.goto(f"{hub_server}/dashboard/")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-live-status].is-live")  # type: ignore[attr-defined]
    support_row = f"[data-team-figures] tr[data-team='{people.support.pk}']"
    open_cell = page.locator(f"{support_row} [data-figure=open]")  # type: ignore[attr-defined]
    unassigned_cell = page.locator(f"{support_row} [data-figure=unassigned]")  # type: ignore[attr-defined]
    assert open_cell.inner_text() == "1"

    # Two more customers write in; the figures worker publishes what changed, and the
    # page (not reloaded) shows it.
    inbound(inbox, "Do you ship to Tromsø?", thread_key="2")
    inbound(inbox, "Invoice copy please", thread_key="3")
    publish_team_figures()
    page.wait_for_function(  # type: ignore[attr-defined]
        "sel => document.querySelector(sel)?.textContent === '3'",
        arg=f"{support_row} [data-figure=open]",
    )
    assert unassigned_cell.inner_text() == "3"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # type: ignore[attr-defined]
