"""The screen pop's timeline (bench/pop_timeline.py, `bench/run.py --timeline`): it
marks the hub's functions by name, so a renamed one must fail here, not in a
benchmark run an hour later; and its table must add up to the pop the client saw."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import pop_timeline


@pytest.mark.parametrize(
    ("module", "owner", "function"),
    [(module, owner, function) for module, owner, function, _name, _when in pop_timeline.MARKED],
)
def test_every_marked_function_is_where_the_timeline_looks_for_it(
    module: str, owner: str | None, function: str
) -> None:
    assert callable(getattr(pop_timeline.marked_owner(module, owner), function))


def _trace(path: Path, starts: list[float], step_ms: float) -> None:
    lines = []
    for start in starts:
        for index, name in enumerate(pop_timeline.STEPS):
            lines.append(f"{start + (index + 1) * step_ms / 1000:.6f} {name}")
        # A later frame of the same call (call.updated) does not move the pop's step.
        lines.append(f"{start + 1:.6f} frame written")
    path.write_text("\n".join(lines) + "\n")


def test_the_steps_add_up_to_the_pop_the_client_saw(tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    starts = [10.0 + n for n in range(100)]
    _trace(trace, starts, step_ms=1.0)
    steps = len(pop_timeline.STEPS)
    received = [start + (steps + 1) / 1000 for start in starts]

    table = pop_timeline.segments(pop_timeline.read_calls(trace), starts, received)

    by_step = {line.split()[0]: line.split()[1:] for line in table[1:-1]}
    assert float(by_step["application"][0]) == pytest.approx(1.0)
    assert float(by_step["frame"][-1]) == pytest.approx(1.0)  # "frame written"
    assert table[-1].split()[2] == f"{steps + 1:.2f}"  # pop (sum), p50


def test_a_missing_pop_or_mark_says_so_instead_of_a_wrong_table(tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    _trace(trace, [10.0, 11.0], step_ms=1.0)
    calls = pop_timeline.read_calls(trace)

    assert "not comparable" in pop_timeline.segments(calls, [10.0], [10.1])[0]
    del calls[1]["ring plan"]
    assert "'ring plan'" in pop_timeline.segments(calls, [10.0, 11.0], [10.1, 11.1])[0]
