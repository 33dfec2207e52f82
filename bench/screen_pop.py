"""The screen-pop row: a signed Twilio voice webhook until `call.incoming` reaches
an agent's console, with a large contact base, against the indexed phone lookup
alone in raw SQL on the same database. The pop goes to the call's team and to the
rung agents; the measuring console is the team's first agent, rung or not (a call
rings ten of the 500), and gets the same frame by the same path either way.

Every call comes from a different known customer (a random one of the seeded
contacts), so the lookup cannot be served from a warm row.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from bench.clients import collector, progress, progress_done

OUR_NUMBER = "+15005550006"
PUBLIC_BASE_URL = "https://bench.invalid"
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"  # noqa: S105 (a throw-away server's)
ACCOUNT_SID = "AC" + "0" * 32
VOICE_PATH = "/telephony/twilio/voice/"
SEED_BATCH = 20_000
# The call's team: online agents, of whom a call rings ten (Twilio's <Dial> limit).
TEAM_AGENTS = 500


def server_env() -> dict[str, str]:
    """What the hub's Daphne process needs to accept the benchmark's webhooks."""
    return {
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "DEFAULT_PHONE_REGION": "US",
    }


def customer_number(n: int) -> str:
    # +1 415 2xx xxxx: a million valid, distinct US numbers.
    return f"+1415{2_000_000 + n:07d}"


def seed_contacts(count: int) -> None:
    """`count` contacts with one phone each, in batches, showing progress."""
    from hub.models import Contact, ContactPhone

    done = 0
    started = time.monotonic()
    while done < count:
        size = min(SEED_BATCH, count - done)
        contacts = Contact.objects.bulk_create(
            Contact(name=f"Customer {n}", country="US") for n in range(done, done + size)
        )
        ContactPhone.objects.bulk_create(
            ContactPhone(contact=contact, raw=customer_number(n), e164=customer_number(n))
            for n, contact in enumerate(contacts, start=done)
        )
        done += size
        rate = done / max(time.monotonic() - started, 1e-6)
        progress(f"seeding contacts: {done:,}/{count:,} ({rate:,.0f}/s)")
    progress_done()


def analyze() -> None:
    """Statistics for everything seeded, as autovacuum keeps them in a running hub:
    planned with none, the ring plan's statement read the call team's 500 agents
    through nested loops estimated at one row each (up to twice its time)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def seed_phone_line(agent_cookie_user: object) -> object:
    """A phone inbox whose team is the benchmark agent's."""
    from hub.models import TeamMembership
    from inbox.models import Channel, Inbox

    team = TeamMembership.objects.filter(user=agent_cookie_user).first().team  # type: ignore[union-attr]
    return Inbox.objects.create(
        key="bench-phone",
        name="Bench phone",
        channel=Channel.PHONE,
        address=OUR_NUMBER,
        default_team=team,
    )


@dataclass
class ScreenPopResult:
    contacts: int
    calls: int = 0
    pop_ms: list[float] = field(default_factory=list)
    http_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    missing: int = 0
    # Each answered call's send and receipt on the monotonic clock (bench.pop_timeline).
    sent_at: list[float] = field(default_factory=list)
    arrived_at: list[float] = field(default_factory=list)
    server_cpu_s: float = 0.0  # the Daphne process's CPU time over all calls
    indexer_cpu_s: float = 0.0  # the index worker's, over the same calls
    timeline: list[str] = field(default_factory=list)  # bench.pop_timeline's table


def _post_call(port: int, sid: str, caller: str) -> float:
    from twilio.request_validator import RequestValidator

    params = {
        "AccountSid": ACCOUNT_SID,
        "CallSid": sid,
        "From": caller,
        "To": OUR_NUMBER,
        "Direction": "inbound",
        "CallStatus": "ringing",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + VOICE_PATH, params)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{VOICE_PATH}",
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature},
        method="POST",
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback http)
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"voice webhook answered {answer.status}")
    return (time.perf_counter() - started) * 1000


async def measure_pops(port: int, cookie: str, result: ScreenPopResult, calls: int) -> None:
    from websockets.asyncio.client import connect

    numbers = random.Random(7).sample(range(result.contacts), calls)
    async with connect(
        f"ws://127.0.0.1:{port}/ws/console/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": cookie},
        compression=None,
        ping_interval=None,
    ) as ws:
        await ws.send('{"action": "ping"}')
        async with asyncio.timeout(30):
            while json.loads(await ws.recv()).get("type") != "pong":
                pass

        async def popped(sid: str) -> float | None:
            try:
                async with asyncio.timeout(10):
                    while True:
                        frame = json.loads(await ws.recv())
                        if frame.get("type") == "call.incoming" and (
                            frame["data"]["call"].get("sid") == sid
                        ):
                            return time.perf_counter()
            except TimeoutError:
                return None

        collector.settle()
        for i, n in enumerate(numbers):
            sid = f"CA{i:032d}"
            waiter = asyncio.ensure_future(popped(sid))
            await asyncio.sleep(0)  # the waiter is reading before the call goes out
            t0 = time.perf_counter()
            http_ms = await asyncio.to_thread(_post_call, port, sid, customer_number(n))
            arrived = await waiter
            result.calls += 1
            result.http_ms.append(http_ms)
            if arrived is None:
                result.missing += 1
            else:
                result.pop_ms.append((arrived - t0) * 1000)
                result.sent_at.append(t0)
                result.arrived_at.append(arrived)
            if (i + 1) % 25 == 0 or i + 1 == calls:
                recent = sorted(result.pop_ms[-25:])
                progress(
                    f"screen pop: call {i + 1}/{calls}, median of the last 25 "
                    f"{recent[len(recent) // 2]:.1f} ms"
                )
        collector.measured("screen pop")
        progress_done()


def measure_sql(result: ScreenPopResult, lookups: int) -> None:
    """The baseline: the indexed E.164 lookup alone, in raw SQL, on the same data."""
    from django.db import connection

    from hub.models import ContactPhone

    table = ContactPhone._meta.db_table
    numbers = random.Random(11).sample(range(result.contacts), lookups)
    with connection.cursor() as cursor:
        for n in numbers:
            started = time.perf_counter()
            cursor.execute(
                f"SELECT contact_id FROM {table} WHERE e164 = %s",  # noqa: S608 (the model's table)
                [customer_number(n)],
            )
            cursor.fetchall()
            result.sql_ms.append((time.perf_counter() - started) * 1000)
