#!/usr/bin/env python
"""The benchmark harness of issue 10: runs the rows and prints one table.

Rows so far:
  fanout  console fan-out: one inbound message -> `message.created` at N consoles on
          one Daphne process (p50, p99, time until the last console has it), against
          a minimal Channels consumer (the framework's floor) and a bare `websockets`
          broadcast server holding the same N clients.
  fanout2 the same with two Daphne processes behind nginx (N/2 consoles each, the
          shared channel layer between them): the deployment of docs/deployment.md,
          nginx reaching each process on a Unix socket (--upstream tcp: on a port).
  screenpop  a signed Twilio voice webhook -> `call.incoming` at an agent's console
          (of the call's team), with --contacts contacts (default 1,000,000; PostgreSQL only),
          p50/p99 over --calls calls, against the indexed E.164 lookup in raw SQL.
  search  --documents notes in five languages (default 100,000) indexed by Whoosh and
          by PostgreSQL (items/s), then top-20 queries with snippets and the
          permission filter (p50, p95); each backend the other's baseline
          (PostgreSQL only, since it measures both).
  ingest  --mails messages (default 10,000) in a real Dovecot mailbox read by the hub's
          IMAP sync, against fetching them with imapclient alone.
  memory  memory per idle console socket: RSS of the server before and after
          opening N idle sockets, divided by N, against the same two baselines.
  capacity  sockets one server process holds before the p99 of fan-out passes
          100 ms: the consoles grow in --steps (default 250,500,1000,1500,2000),
          --step-messages messages at each; same two baselines.

Uses PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set (a throw-away
database `bench_<pid>` is created and dropped), else the embedded default (SQLite
in a temp dir, in-memory layer, the event log polled every --poll seconds).
Everything runs on loopback. Example:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/run.py --sockets 500
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import ClientConnection

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402
    hubdb,
    ingest,
    machine,
    pop_timeline,
    procs,
    screen_pop,
    search_bench,
)
from bench.clients import Fleet, collector, progress, progress_done  # noqa: E402

ROWS = ("fanout", "fanout2", "memory", "capacity", "screenpop", "search", "ingest")
FANOUT_ROWS = {"fanout", "fanout2"}
# The rows that need console sockets at all.
SOCKET_ROWS = {"fanout", "fanout2", "memory", "capacity"}
WARMUP_MESSAGES = 2
CAPACITY_P99_MS = 100.0


@dataclass
class ServerResult:
    name: str
    sockets: int = 0
    connect_seconds: float = 0.0
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    # Per message: the delay of each delivery, in ms, from the trigger.
    deliveries: list[list[float]] = field(default_factory=list)
    missing: int = 0
    frame_bytes: int = 0
    # CPU time of the server process(es) per message of the fan-out rows, in ms: in
    # all, and by part of the server (one Daphne process, nginx) where it has several.
    cpu_ms_per_message: float = 0.0
    cpu_ms_by_part: dict[str, float] = field(default_factory=dict)
    write_ms: list[float] = field(default_factory=list)
    # The capacity row: (sockets, p99 in ms) at each step measured, and (sockets, ms
    # until the last console had it) of each step's unmeasured first message.
    steps: list[tuple[int, float]] = field(default_factory=list)
    settling: list[tuple[int, float]] = field(default_factory=list)

    @property
    def capacity(self) -> tuple[int, bool]:
        """The most sockets measured with p99 within the limit, and whether the limit
        was passed at a later step (False: it held at every step tried)."""
        held = [n for n, p99 in self.steps if p99 <= CAPACITY_P99_MS]
        passed = any(p99 > CAPACITY_P99_MS for _, p99 in self.steps)
        return (max(held) if held else 0), passed

    @property
    def kib_per_socket(self) -> float:
        # The first socket warms the server up and is not counted.
        return (self.rss_after_kib - self.rss_before_kib) / max(1, self.sockets - 1)

    def pooled(self) -> list[float]:
        return sorted(d for message in self.deliveries for d in message)

    def percentile(self, q: float) -> float:
        values = self.pooled()
        return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")

    def lasts(self) -> list[float]:
        return [max(message) for message in self.deliveries if message]


Trigger = Callable[[int], Awaitable[None]]


@dataclass
class Target:
    """One server under test: its clients, its process and how to make it broadcast."""

    result: ServerResult
    fleet: Fleet
    pids: list[int]
    trigger: Trigger
    # The processes whose CPU time counts, by part of the server; by default its
    # `pids` (whose memory counts) as one part.
    cpu_parts: dict[str, list[int]] = field(default_factory=dict)

    def rss_kib(self) -> int:
        return sum(procs.rss_kib(pid) for pid in self.pids)

    def cpu_seconds_by_part(self) -> dict[str, float]:
        parts = self.cpu_parts or {self.result.name: self.pids}
        return {part: sum(procs.cpu_seconds(pid) for pid in pids) for part, pids in parts.items()}


async def connect_fleet(target: Target, sockets: int) -> None:
    """Opens the sockets and measures the server's memory before and after."""
    result, fleet = target.result, target.fleet
    started = time.monotonic()
    await fleet.connect(1, result.name)
    await asyncio.sleep(1)
    result.rss_before_kib = target.rss_kib()
    await fleet.connect(sockets - 1, result.name)
    result.connect_seconds = time.monotonic() - started
    await asyncio.sleep(1)
    result.rss_after_kib = target.rss_kib()
    result.sockets = fleet.size
    progress_done()


async def one_message(
    target: Target, seq: int, args: argparse.Namespace, into: list[list[float]] | None = None
) -> None:
    result, fleet = target.result, target.fleet
    t0 = time.perf_counter()
    await target.trigger(seq)
    arrivals = await fleet.wait_for(seq, timeout=args.timeout)
    if seq >= WARMUP_MESSAGES:
        delays = sorted((t - t0) * 1000 for t in arrivals)
        (result.deliveries if into is None else into).append(delays)
        result.missing += fleet.size - len(arrivals)
    await asyncio.sleep(args.pause)


async def send_messages(targets: list[Target], args: argparse.Namespace) -> None:
    """Message by message, each server in turn (the order rotating), so that a busy
    moment of the machine falls on all of them alike."""
    collector.settle()
    cpu_before = [target.cpu_seconds_by_part() for target in targets]
    for seq in range(WARMUP_MESSAGES + args.messages):
        shift = seq % len(targets)
        for target in targets[shift:] + targets[:shift]:
            await one_message(target, seq, args)
        if seq >= WARMUP_MESSAGES:
            progress(
                f"message {seq - WARMUP_MESSAGES + 1}/{args.messages}: last console after "
                + ", ".join(
                    f"{t.result.name} {t.result.deliveries[-1][-1]:.1f} ms" for t in targets
                )
            )
    progress_done()
    collector.measured("fan-out rows")
    # Each server is idle while the others broadcast, so its CPU time over the whole
    # run is its cost of the messages it sent.
    total = WARMUP_MESSAGES + args.messages
    for target, before in zip(targets, cpu_before, strict=True):
        after = target.cpu_seconds_by_part()
        by_part = {part: (after[part] - before[part]) * 1000 / total for part in after}
        target.result.cpu_ms_by_part = by_part
        target.result.cpu_ms_per_message = sum(by_part.values())


def p99_of(messages: list[list[float]]) -> float:
    values = sorted(d for message in messages for d in message)
    return values[min(len(values) - 1, int(0.99 * len(values)))] if values else float("nan")


async def measure_step(racing: list[Target], step: int, args: argparse.Namespace, seq: int) -> int:
    """Resize every racing fleet to `step` consoles, send --step-messages messages (in
    turn, as in send_messages) and record each server's p99; returns the next seq."""
    for target in racing:
        await target.fleet.resize(step, f"{target.result.name} to {step}")
    progress_done()
    # One unmeasured message per server first, as the fan-out rows have their warm-up
    # messages: the sockets just opened get their first frame (the agents are seeded
    # online, so connecting announces nothing). Its last console is a notes line.
    for target in racing:
        settling: list[list[float]] = []
        await one_message(target, seq, args, into=settling)
        if settling and settling[0]:
            target.result.settling.append((step, settling[0][-1]))
    seq += 1
    collector.settle()
    measured: dict[str, list[list[float]]] = {t.result.name: [] for t in racing}
    for n in range(args.step_messages):
        shift = n % len(racing)
        for target in racing[shift:] + racing[:shift]:
            await one_message(target, seq, args, into=measured[target.result.name])
        seq += 1
        progress(f"capacity step {step}: message {n + 1}/{args.step_messages}")
    progress_done()
    collector.measured("capacity steps")
    for target in racing:
        p99 = p99_of(measured[target.result.name])
        target.result.steps.append((step, p99))
        progress(f"capacity step {step}: {target.result.name} p99 {p99:.1f} ms")
        progress_done()
    return seq


async def grow_until_p99(targets: list[Target], args: argparse.Namespace, first_seq: int) -> None:
    """The capacity row. From the fleets' current size up through the larger steps, a
    server leaving the race at the first step whose p99 passes the limit; a server
    that passed it at every step it was measured at (the fan-out rows may have left
    it with more consoles than it can serve) then goes down through the smaller
    steps, closing consoles, until its p99 holds."""
    seq = first_seq
    start = max(t.fleet.size for t in targets)
    racing = list(targets)
    for step in [s for s in args.steps if s >= start]:
        if not racing:
            break
        seq = await measure_step(racing, step, args, seq)
        racing = [t for t in racing if t.result.steps[-1][1] <= CAPACITY_P99_MS]
    falling = [t for t in targets if all(p99 > CAPACITY_P99_MS for _, p99 in t.result.steps)]
    for step in [s for s in reversed(args.steps) if s < start]:
        if not falling:
            break
        seq = await measure_step(falling, step, args, seq)
        falling = [t for t in falling if t.result.steps[-1][1] > CAPACITY_P99_MS]


def hub_trigger(inbox: object, write_ms: list[float]) -> Trigger:
    from channels.db import database_sync_to_async

    from bench.frames import body_for
    from inbox.actions import receive_message

    @database_sync_to_async
    def receive(seq: int) -> None:
        started = time.perf_counter()
        receive_message(
            inbox,  # type: ignore[arg-type]
            body_text=body_for(seq),
            external_id=f"bench-{seq}",
            sender_name="Bench Customer",
            thread_key="bench-thread",
        )
        if seq >= WARMUP_MESSAGES:
            write_ms.append((time.perf_counter() - started) * 1000)

    return receive


def hub_env(args: argparse.Namespace) -> dict[str, str]:
    env = {
        # A benchmark run is longer than one heartbeat period and its clients stay
        # quiet so that pongs don't mix with the measurement.
        "CONSOLE_HEARTBEAT_TIMEOUT": "3600",
        "LOG_LEVEL": "WARNING",
    }
    if not os.environ.get("REDIS_URL"):
        env["EVENT_LOG_POLL_SECONDS"] = str(args.poll)
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        # The deployment's web processes only queue their index jobs; the index worker
        # (started by main) writes them, on the same machine.
        env["SEARCH_INDEX_WORKER"] = "1"
    return env


def start_two_process_hub(
    servers: contextlib.ExitStack, args: argparse.Namespace
) -> tuple[int, list[int], dict[str, list[int]]]:
    """Two Daphne processes and nginx in front of them; returns nginx's port, the
    pids whose memory counts (the two Daphne processes) and those whose CPU time
    counts, by part (each Daphne process; nginx's master and workers)."""
    work = args.work_dir
    upstreams: list[int | Path] = []
    pids = []
    for n in (1, 2):
        log = work / f"hub2-{n}.log"
        if args.upstream == "unix":
            path = work / f"hub2-{n}.sock"
            process = servers.enter_context(
                procs.daphne_behind_nginx("hub.asgi:application", path, log, hub_env(args))
            )
            upstreams.append(path)
        else:
            port, process = servers.enter_context(
                procs.server(procs.daphne("hub.asgi:application"), log, hub_env(args))
            )
            upstreams.append(port)
        pids.append(process.pid)
    nginx_port, nginx = servers.enter_context(procs.nginx(upstreams, work))
    cpu_parts = {f"daphne {n}": [pid] for n, pid in enumerate(pids, 1)}
    cpu_parts["nginx"] = [nginx.pid, *procs.child_pids(nginx.pid)]
    return nginx_port, pids, cpu_parts


async def run_all(
    args: argparse.Namespace, seeded: dict[str, tuple[object, list[str]]]
) -> dict[str, ServerResult]:
    from websockets.asyncio.client import connect

    work = args.work_dir
    with contextlib.ExitStack() as servers:
        hub_port, hub = servers.enter_context(
            procs.server(procs.daphne("hub.asgi:application"), work / "hub.log", hub_env(args))
        )
        floor_port, floor = servers.enter_context(
            procs.server(procs.daphne("bench.floor_asgi:application"), work / "floor.log")
        )
        bare_port, bare = servers.enter_context(
            procs.server(["-m", "bench.bare_server", "--port", "{port}"], work / "bare.log")
        )
        inbox, cookies = seeded["hub"]
        hub_result = ServerResult("hub")
        hub_fleet = Fleet(
            f"ws://127.0.0.1:{hub_port}/ws/console/", f"http://127.0.0.1:{hub_port}", cookies
        )
        targets = [
            Target(hub_result, hub_fleet, [hub.pid], hub_trigger(inbox, hub_result.write_ms))
        ]
        if "hub2" in seeded:
            # Its own team and inbox: its consoles see none of the one-process row's
            # messages, and the other way round.
            nginx_port, pids, cpu_parts = start_two_process_hub(servers, args)
            inbox2, cookies2 = seeded["hub2"]
            result2 = ServerResult("hub2")
            fleet2 = Fleet(
                f"ws://127.0.0.1:{nginx_port}/ws/console/",
                f"http://127.0.0.1:{nginx_port}",
                cookies2,
            )
            trigger2 = hub_trigger(inbox2, result2.write_ms)
            targets.append(Target(result2, fleet2, pids, trigger2, cpu_parts))
        async with contextlib.AsyncExitStack() as controls:
            for name, port, process, path, control in (
                ("floor", floor_port, floor, "/ws/floor/", "/ws/control/"),
                ("bare", bare_port, bare, "/", "/control"),
            ):
                base = f"ws://127.0.0.1:{port}"
                ctrl = await controls.enter_async_context(
                    connect(base + control, compression=None, ping_interval=None)
                )

                async def trigger(seq: int, ctrl: ClientConnection = ctrl) -> None:
                    # The same frame size as the hub's (known after its first message).
                    size = hub_fleet.frame_bytes or args.frame_bytes
                    await ctrl.send(json.dumps({"seq": seq, "size": size}))

                fleet = Fleet(base + path, f"http://127.0.0.1:{port}", [None] * args.agents)
                targets.append(Target(ServerResult(name), fleet, [process.pid], trigger))
            try:
                for target in targets:
                    await connect_fleet(target, args.initial_sockets)
                if FANOUT_ROWS & set(args.rows):
                    for target in targets:
                        target.fleet.start_reading()
                    with contextlib.ExitStack() as profilers:
                        for target in targets:
                            if target.result.name in args.profile:
                                output = work / f"profile-{target.result.name}.txt"
                                profilers.enter_context(procs.profiled(target.pids[0], output))
                        await send_messages(targets, args)
                if "capacity" in args.rows:
                    # Only the one-process hub races the baselines: hub2 is two processes.
                    racers = [t for t in targets if t.result.name != "hub2"]
                    for target in racers:
                        target.fleet.start_reading()
                    first_seq = (
                        WARMUP_MESSAGES + args.messages if FANOUT_ROWS & set(args.rows) else 0
                    )
                    # `sockets` stays the count the memory row was measured with.
                    await grow_until_p99(racers, args, max(first_seq, WARMUP_MESSAGES))
                hub_result.frame_bytes = hub_fleet.frame_bytes
            finally:
                for target in targets:
                    await target.fleet.abandon()
    return {t.result.name: t.result for t in targets}


BASELINES = {"floor": "minimal Channels consumer", "bare": "bare websockets broadcast"}


def table(results: dict[str, ServerResult], args: argparse.Namespace) -> list[list[str]]:
    rows: list[list[str]] = []

    def add(
        label: str,
        unit: str,
        figure: Callable[[ServerResult], float],
        fmt: str,
        ours_key: str = "hub",
    ) -> None:
        ours = figure(results[ours_key])
        for i, key in enumerate(BASELINES):
            base = figure(results[key])
            ratio = ours / base if base else float("nan")
            rows.append(
                [
                    label if i == 0 else "",
                    f"{ours:{fmt}} {unit}" if i == 0 else "",
                    BASELINES[key],
                    f"{base:{fmt}} {unit}",
                    f"{ratio:.2f}x",
                ]
            )

    n = args.sockets
    for row, key, where in (
        ("fanout", "hub", "one process"),
        ("fanout2", "hub2", f"2 processes x {n // 2} behind nginx"),
    ):
        if row not in args.rows:
            continue
        add(
            f"fan-out to {n} consoles, p50 ({where})",
            "ms",
            lambda r: r.percentile(0.50),
            ".1f",
            key,
        )
        add(
            f"fan-out to {n} consoles, p99 ({where})",
            "ms",
            lambda r: r.percentile(0.99),
            ".1f",
            key,
        )
        add(
            f"fan-out, last of {n}, median of {args.messages} ({where})",
            "ms",
            lambda r: statistics.median(r.lasts()),
            ".1f",
            key,
        )
        add(
            f"fan-out, last of {n}, worst of {args.messages} ({where})",
            "ms",
            lambda r: max(r.lasts()),
            ".1f",
            key,
        )
    if "memory" in args.rows:
        add(f"memory per idle socket ({n})", "KiB", lambda r: r.kib_per_socket, ".1f")
    if "capacity" in args.rows:
        ours, ours_passed = results["hub"].capacity
        for i, key in enumerate(BASELINES):
            base, base_passed = results[key].capacity
            rows.append(
                [
                    f"sockets per process before p99 > {CAPACITY_P99_MS:.0f} ms" if i == 0 else "",
                    capacity_text(ours, ours_passed, args.steps[0]) if i == 0 else "",
                    BASELINES[key],
                    capacity_text(base, base_passed, args.steps[0]),
                    capacity_ratio(ours, ours_passed, base, base_passed),
                ]
            )
    return rows


def capacity_text(sockets: int, passed: bool, first_step: int) -> str:
    if not sockets:
        return f"< {first_step}"  # the limit was passed at the first step
    return f"{sockets}" if passed else f">= {sockets}"


def capacity_ratio(ours: int, ours_passed: bool, base: int, base_passed: bool) -> str:
    """A capacity that held at every step tried is only a lower bound, and so is
    the ratio it enters on top (an upper bound below)."""
    if not base:
        return "n/a"
    ratio = f"{ours / base:.2f}x"
    if not ours_passed and base_passed:
        return f">= {ratio}"
    if ours_passed and not base_passed:
        return f"<= {ratio}"
    return ratio if ours_passed else "n/a (neither passed)"


def close_left_sessions() -> None:
    """The console sessions the socket rows' servers left behind, closed now. Those
    servers are stopped and their consoles gone; left open, the sessions would go
    stale during the next row and its server would sweep them (each an agent going
    offline, announced, and the team queues checked) in the middle of its
    measurement: 2,000 after the capacity row. The same sweep, with no heartbeat
    left to wait for."""
    from datetime import timedelta

    from inbox.presence import sweep_stale_sessions

    progress("closing the console sessions the socket rows left")
    closed = sweep_stale_sessions(timeout=timedelta(0))
    progress(f"closing the console sessions the socket rows left: {closed:,} closed")
    progress_done()


def run_screen_pop(args: argparse.Namespace, indexer_pid: int) -> screen_pop.ScreenPopResult:
    from hub.models import User

    result = screen_pop.ScreenPopResult(contacts=args.contacts)
    screen_pop.seed_contacts(args.contacts)
    # A team of its own, the same size whichever rows run: the fan-out rows' team
    # grows to the capacity row's largest step (2,000 agents) when that row runs too.
    progress(f"creating the call team's {screen_pop.TEAM_AGENTS} signed-in agents")
    _inbox, cookies = hubdb.seed(screen_pop.TEAM_AGENTS, name="bench-pop")
    progress_done()
    agent_cookie = cookies[0]
    agent = User.objects.get(email="agent0@bench-pop.test")
    screen_pop.seed_phone_line(agent)
    screen_pop.analyze()
    env = {**hub_env(args), **screen_pop.server_env()}
    application = "hub.asgi:application"
    trace = args.work_dir / "screenpop-timeline.txt"
    if args.timeline:
        application = "bench.pop_timeline:application"
        env[pop_timeline.TRACE_ENV] = str(trace)
    with procs.server(procs.daphne(application), args.work_dir / "screenpop.log", env) as (
        port,
        process,
    ):
        output = args.work_dir / "profile-screenpop.txt" if "screenpop" in args.profile else None
        with procs.profiled(process.pid, output):
            cpu_before = procs.cpu_seconds(process.pid)
            indexer_before = procs.cpu_seconds(indexer_pid)
            asyncio.run(screen_pop.measure_pops(port, agent_cookie, result, args.calls))
            result.server_cpu_s = procs.cpu_seconds(process.pid) - cpu_before
            result.indexer_cpu_s = procs.cpu_seconds(indexer_pid) - indexer_before
    screen_pop.measure_sql(result, args.calls)
    if args.timeline:
        result.timeline = pop_timeline.segments(
            pop_timeline.read_calls(trace), result.sent_at, result.arrived_at
        )
    return result


def run_search(args: argparse.Namespace) -> list[search_bench.BackendResult]:
    from hub.models import TeamMembership, User

    agent = User.objects.get(email="agent0@bench-hub.test")
    team = TeamMembership.objects.filter(user=agent).first().team  # type: ignore[union-attr]
    return search_bench.run(args.documents, args.queries, agent, team)


def screen_pop_rows(result: screen_pop.ScreenPopResult) -> list[list[str]]:
    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    rows = []
    for q, name in ((0.50, "p50"), (0.99, "p99")):
        ours, base = pct(result.pop_ms, q), pct(result.sql_ms, q)
        rows.append(
            [
                f"screen pop, {result.contacts:,} contacts, {name} of {result.calls} calls",
                f"{ours:.1f} ms",
                "indexed E.164 lookup, raw SQL",
                f"{base:.2f} ms",
                f"{ours / base:.0f}x" if base else "n/a",
            ]
        )
    return rows


def render(rows: list[list[str]], markdown: bool) -> str:
    header = ["row", "hub", "baseline", "baseline figure", "ratio"]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in rows]
    return "\n".join(lines)


def notes(results: dict[str, ServerResult], args: argparse.Namespace) -> list[str]:
    hub = results["hub"]
    lines = [
        "sockets connected: "
        + ", ".join(f"{k} {r.sockets} in {r.connect_seconds:.1f} s" for k, r in results.items()),
        "RSS before/after (MiB): "
        + ", ".join(
            f"{k} {r.rss_before_kib / 1024:.1f}/{r.rss_after_kib / 1024:.1f}"
            for k, r in results.items()
        ),
    ]
    if FANOUT_ROWS & set(args.rows):
        lines.append(
            f"hub frame: {hub.frame_bytes} bytes; receive_message in its thread (write, commit, "
            f"doorbell; included in the hub's figures): median "
            f"{statistics.median(hub.write_ms):.1f} ms"
        )
        lines.append(
            "server CPU per message (user + system, all its processes, nginx's too; robust "
            "to a busy machine): "
            + ", ".join(f"{k} {r.cpu_ms_per_message:.1f} ms" for k, r in results.items())
        )
        for key, result in results.items():
            if len(result.cpu_ms_by_part) > 1:
                lines.append(
                    f"server CPU per message of {key} (nginx to Daphne over "
                    f"{'Unix sockets' if args.upstream == 'unix' else 'TCP'}), by process: "
                    + ", ".join(f"{p} {ms:.1f} ms" for p, ms in result.cpu_ms_by_part.items())
                )
        missing = {k: r.missing for k, r in results.items() if r.missing}
        lines.append(f"missing deliveries: {missing or 'none'}")
        for key in ("hub", "hub2"):
            if key not in results:
                continue
            ours = statistics.median(results[key].lasts())
            floor_ratio = ours / statistics.median(results["floor"].lasts())
            bare_ratio = ours / statistics.median(results["bare"].lasts())
            lines.append(
                f"targets for {key} (last console, median): <= 1.2x the Channels floor: "
                f"{floor_ratio:.2f}x ({'met' if floor_ratio <= 1.2 else 'NOT met'}); "
                f"<= 3x bare broadcast: {bare_ratio:.2f}x "
                f"({'met' if bare_ratio <= 3 else 'NOT met'})"
            )
    if "capacity" in args.rows:
        for key, result in results.items():
            if result.steps:
                lines.append(
                    f"capacity steps, {key} (sockets: p99): "
                    + ", ".join(f"{n}: {p99:.1f} ms" for n, p99 in sorted(result.steps))
                )
            if result.settling:
                lines.append(
                    f"capacity steps, {key}, the unmeasured first message after the consoles "
                    "connected (sockets: last console): "
                    + ", ".join(f"{n}: {ms:.1f} ms" for n, ms in sorted(result.settling))
                )
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--row", choices=[*ROWS, "all"], default="all", help="row(s) to run")
    parser.add_argument("--sockets", type=int, default=500, help="consoles per server")
    parser.add_argument("--messages", type=int, default=30, help="measured messages per server")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between messages")
    parser.add_argument("--timeout", type=float, default=10, help="seconds to wait per message")
    parser.add_argument(
        "--poll",
        type=float,
        default=0.01,
        help="EVENT_LOG_POLL_SECONDS of the hub without Redis (the only way events arrive)",
    )
    parser.add_argument(
        "--frame-bytes", type=int, default=700, help="baseline frame size if the hub sends none"
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        choices=["hub", "hub2", "floor", "bare", "screenpop"],
        help="sample this server with py-spy while the messages (or calls) go out (collapsed stacks)",
    )
    parser.add_argument(
        "--contacts", type=int, default=1_000_000, help="contacts seeded for the screen-pop row"
    )
    parser.add_argument("--calls", type=int, default=1000, help="calls of the screen-pop row")
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="print where the screen pop's time goes, step by step (bench/pop_timeline.py; "
        "its marks cost a little, so the row's figures are then not comparable)",
    )
    parser.add_argument(
        "--documents", type=int, default=100_000, help="notes seeded for the search row"
    )
    parser.add_argument("--queries", type=int, default=500, help="queries of the search row")
    parser.add_argument("--mails", type=int, default=10_000, help="messages of the ingest row")
    parser.add_argument(
        "--steps",
        default="250,500,1000,1500,2000",
        help="console counts of the capacity row, ascending",
    )
    parser.add_argument(
        "--step-messages", type=int, default=10, help="measured messages per capacity step"
    )
    parser.add_argument(
        "--upstream",
        choices=["unix", "tcp"],
        default="unix",
        help="how nginx reaches the Daphne processes of the fanout2 row: Unix sockets "
        "(docs/deployment.md) or loopback TCP ports",
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    args.rows = ROWS if args.row == "all" else (args.row,)
    if args.sockets < 2 or args.messages < 1:
        parser.error("--sockets must be at least 2 and --messages at least 1")
    try:
        args.steps = sorted({int(step) for step in args.steps.split(",")})
    except ValueError:
        parser.error("--steps takes comma-separated console counts, e.g. 250,500,1000")
    if args.steps[0] < 2 or args.step_messages < 1:
        parser.error("--steps must be at least 2 and --step-messages at least 1")
    capacity_only = "capacity" in args.rows and not (SOCKET_ROWS - {"capacity"}) & set(args.rows)
    # Sockets opened before any row runs, and agents (one per console) to seed.
    args.initial_sockets = args.steps[0] if capacity_only else args.sockets
    args.agents = max(args.sockets, args.steps[-1]) if "capacity" in args.rows else args.sockets
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work_dir = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    args.work_dir = work_dir
    os.environ.update(
        HUB_DATA_DIR=str(work_dir),
        SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_SETTINGS_MODULE="hub.settings",
        LOG_LEVEL="WARNING",
    )
    print(machine.describe(), flush=True)
    with hubdb.throwaway_database(work_dir) as database_url:
        # The Daphne processes inherit this environment: same database, same key.
        os.environ["DATABASE_URL"] = database_url
        if database_url.startswith("postgres"):
            # The multi-process deployment of docs/deployment.md searches in PostgreSQL
            # (a Whoosh directory is not shared across hosts); the search row still
            # measures both backends.
            os.environ.setdefault("SEARCH_BACKEND", "postgres")
        import django

        django.setup()
        progress("migrating the throw-away database")
        hubdb.migrate()
        seeded = {}
        for key in ("hub", "hub2") if "fanout2" in args.rows else ("hub",):
            progress(f"creating signed-in agents for {key}")
            agents = args.agents if key == "hub" else args.sockets
            seeded[key] = hubdb.seed(agents, name=f"bench-{key}")
        progress_done()
        with contextlib.ExitStack() as deployment:
            indexer = None
            if database_url.startswith("postgres"):
                indexer = deployment.enter_context(
                    procs.index_worker(work_dir / "index-worker.log", hub_env(args))
                )
            # The socket servers only for the rows that use them.
            results = asyncio.run(run_all(args, seeded)) if SOCKET_ROWS & set(args.rows) else {}
            if results:
                close_left_sessions()
            pop = None
            if "screenpop" in args.rows:
                if indexer is None:
                    print("screenpop: skipped, it needs PostgreSQL (DATABASE_URL=postgres://...)")
                else:
                    pop = run_screen_pop(args, indexer.pid)
        found = None
        if "search" in args.rows:
            if not database_url.startswith("postgres"):
                print("search: skipped, it needs PostgreSQL (DATABASE_URL=postgres://...)")
            else:
                found = run_search(args)
        mail = ingest.run(args.mails) if "ingest" in args.rows else None
        from django.db import connections

        connections.close_all()
    rows = (table(results, args) if results else []) + (screen_pop_rows(pop) if pop else [])
    rows += search_bench.rows(found) if found else []
    rows += ingest.rows(mail) if mail else []
    print()
    print(render(rows, args.markdown))
    print()
    for line in notes(results, args) if results else []:
        print(f"- {line}")
    for line in (search_bench.notes(found) if found else []) + (ingest.notes(mail) if mail else []):
        print(f"- {line}")
    if pop:
        http = sorted(pop.http_ms)
        print(
            f"- screen pop: webhook answered (TwiML) after a median {http[len(http) // 2]:.1f} ms; "
            f"Daphne's CPU per call (user + system; robust to a busy machine) "
            f"{pop.server_cpu_s * 1000 / max(pop.calls, 1):.1f} ms (the index worker's, "
            f"writing the calls' messages to the index alongside: "
            f"{pop.indexer_cpu_s * 1000 / max(pop.calls, 1):.1f} ms); "
            f"missing pops: {pop.missing}; target p99 < 20 ms: "
            f"{'met' if pop.pop_ms and sorted(pop.pop_ms)[int(0.99 * len(pop.pop_ms))] < 20 else 'NOT met'}"
        )
    if pop and pop.timeline:
        print("- screen pop timeline (--timeline; the marks' own cost is in these figures):")
        print("\n".join(f"      {line}" for line in pop.timeline))
    if collector.longest_by_window:
        print(
            "- the benchmark client's own longest garbage-collector pause while measuring "
            "(its heap collected and frozen before; a pause delays the frames it reads): "
            + ", ".join(f"{w} {ms:.1f} ms" for w, ms in collector.longest_by_window.items())
        )
    print(f"- server logs: {work_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
