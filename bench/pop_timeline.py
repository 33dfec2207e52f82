"""Where a screen pop's time goes: `bench/run.py --row screenpop --timeline`.

The row's Daphne then serves `bench.pop_timeline:application`, the hub's application
with a mark (a monotonic clock reading, in a trace file) at each step of a call's
way from the webhook to the console: the request reaching the application, its
thread, the signature check, the configuration token, then the pop's transaction
(caller ID, team, ring plan, call and event INSERTs), its commit, the event handed
to the event loop and written to the socket. The benchmark client's clock is the
same (CLOCK_MONOTONIC is one clock for all processes of a machine), so the client's
send and receive times close the timeline. `segments` prints each step's p50, p90
and p99, and its mean over the slowest 1% of calls: what a slow pop spent longer on.

Diagnostic only: the marks wrap the hub's functions by name (a renamed one stops the
timeline's server at its start, and tests/hub/test_pop_timeline.py fails) and cost a
little themselves, so a timeline run's figures are not the row's figures.
"""

from __future__ import annotations

import importlib
import itertools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TRACE_ENV = "HUB_BENCH_TIMELINE"

# In the order of a call: (module, class or None, function, mark, whether the mark
# comes before or after the function).
MARKED = (
    ("hub.asgi_handler", "OneHopASGIHandler", "_answer", "request thread", "before"),
    ("telephony.providers.twilio", None, "signature_is_valid", "signature checked", "after"),
    ("hub.config_cache", None, "current_token", "configuration token read", "after"),
    ("telephony.actions", None, "do_receive_call", "view", "before"),
    ("telephony.actions.calls", None, "identify_caller", "caller identified", "after"),
    ("telephony.actions.calls", None, "team_for_new_conversation", "team routed", "after"),
    ("telephony.actions.calls", None, "agents_to_ring", "ring plan", "after"),
    ("telephony.actions.calls", None, "record_event", "call and pop written", "before"),
    ("telephony.actions.calls", None, "record_event", "event recorded", "after"),
    ("inbox.events", "_Handover", "__call__", "committed", "before"),
    ("channels_app.fanout", "EventFanout", "_start_handover", "handed to the loop", "before"),
    ("channels_app.consumers.base", None, "send_prepared", "frame written", "before"),
)
# A call's marks in the order they come: the ASGI application's, then MARKED's. The
# pop's frame is the first write after the hand-over (call.updated is written later).
STEPS = ("application", *(name for _module, _owner, _function, name, _when in MARKED))


def marked_owner(module: str, owner: str | None) -> Any:
    """Where a marked function is looked up (and replaced): the module, or its class."""
    found = importlib.import_module(module)
    return getattr(found, owner) if owner else found


def _install(trace_path: str) -> Callable[[str], None]:
    """Wraps the MARKED functions; returns `mark`."""
    trace = Path(trace_path).open("a", buffering=1)  # noqa: SIM115 (open for the process's life)
    lock = threading.Lock()

    def mark(name: str) -> None:
        now = time.perf_counter()
        with lock:
            trace.write(f"{now:.6f} {name}\n")

    def marking(original: Callable[..., Any], name: str, when: str) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if when == "before":
                mark(name)
                return original(*args, **kwargs)
            result = original(*args, **kwargs)
            mark(name)
            return result

        return wrapped

    for module, owner, function, name, when in MARKED:
        target = marked_owner(module, owner)
        setattr(target, function, marking(getattr(target, function), name, when))
    return mark


def _application() -> Any:
    from hub.asgi import application as hub_application

    trace_path = os.environ.get(TRACE_ENV)
    if not trace_path:
        return hub_application
    mark = _install(trace_path)

    async def timed(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/telephony/twilio/voice"):
            mark("application")
        await hub_application(scope, receive, send)

    return timed


def __getattr__(name: str) -> Any:
    # Built when Daphne asks for it: the benchmark process imports this module for
    # `segments` and must not load the hub's ASGI application.
    if name == "application":
        globals()["application"] = built = _application()
        return built
    raise AttributeError(name)


def read_calls(trace_path: Path) -> list[dict[str, float]]:
    """Each call's marks (the first of each name), calls split at "application"."""
    calls: list[dict[str, float]] = []
    for line in trace_path.read_text().splitlines():
        at, _, name = line.partition(" ")
        if name == "application":
            calls.append({})
        if calls:
            calls[-1].setdefault(name, float(at))
    return calls


def segments(calls: list[dict[str, float]], sent: list[float], arrived: list[float]) -> list[str]:
    """The table of steps: from the client's send through every mark to its receipt."""
    if len(calls) != len(sent):
        return [f"timeline: {len(calls)} calls traced, {len(sent)} popped; not comparable"]
    names = ["sent", *STEPS, "received"]
    durations: list[list[float]] = []
    for marks, start, end in zip(calls, sent, arrived, strict=True):
        marks = {**marks, "sent": start, "received": end}
        missing = [name for name in names if name not in marks]
        if missing:
            return [f"timeline: no mark {missing[0]!r} (a renamed function?)"]
        durations.append([(marks[b] - marks[a]) * 1000 for a, b in itertools.pairwise(names)])
    slowest = sorted(range(len(durations)), key=lambda i: sum(durations[i]))
    slowest = slowest[-max(1, len(slowest) // 100) :]

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    lines = [f"{'step (ms, until)':28} {'p50':>6} {'p90':>6} {'p99':>6} {'slowest 1%':>11}"]
    for column, name in enumerate(names[1:]):
        values = [row[column] for row in durations]
        slow = sum(durations[i][column] for i in slowest) / len(slowest)
        lines.append(
            f"{name:28} {pct(values, 0.5):6.2f} {pct(values, 0.9):6.2f} "
            f"{pct(values, 0.99):6.2f} {slow:11.2f}"
        )
    totals = [sum(row) for row in durations]
    lines.append(
        f"{'pop (sum)':28} {pct(totals, 0.5):6.2f} {pct(totals, 0.9):6.2f} {pct(totals, 0.99):6.2f}"
    )
    return lines
