"""A throw-away hub database for the benchmark: created, migrated and seeded by the
benchmark process, served by the Daphne process it starts, dropped at the end.

PostgreSQL (DATABASE_URL=postgres://...): a fresh database `bench_<pid>` on the same
server. Otherwise: a SQLite file in a temporary HUB_DATA_DIR.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _admin_connection(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=5)


@contextmanager
def throwaway_database(data_dir: Path) -> Iterator[str]:
    """Yields the DATABASE_URL of a new, empty database."""
    base = os.environ.get("DATABASE_URL", "").strip()
    if not base.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{data_dir / 'bench.sqlite3'}"
        return
    name = f"bench_{os.getpid()}"
    with _admin_connection(base) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(base)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with _admin_connection(base) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def seed(users: int, name: str = "bench") -> tuple[object, list[str]]:
    """One team with `users` agents, all online and signed in, and a chat inbox of
    that team. Returns the inbox and one session cookie per agent. Teams seeded under
    different names see none of each other's conversations."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore

    from hub.models import Role, Team, TeamKind, TeamMembership, User
    from inbox.models import AgentPresence, Channel, Inbox, PresenceStatus

    team = Team.objects.create(name=name.title(), slug=name, kind=TeamKind.SUPPORT)
    unusable = make_password(None)
    agents = User.objects.bulk_create(
        User(
            email=f"agent{i}@{name}.test",
            full_name=f"Agent {i}",
            role=Role.AGENT,
            password=unusable,
        )
        for i in range(users)
    )
    TeamMembership.objects.bulk_create(TeamMembership(team=team, user=u) for u in agents)
    # Already online: otherwise each agent's first console announces presence to the
    # whole team, N^2 frames while connecting (a real morning log-in; not this row).
    AgentPresence.objects.bulk_create(
        AgentPresence(user=u, chosen=PresenceStatus.ONLINE, effective=PresenceStatus.ONLINE)
        for u in agents
    )
    cookies = []
    for user in agents:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    inbox = Inbox.objects.create(
        key=name, name=f"{name.title()} inbox", channel=Channel.CHAT, default_team=team
    )
    return inbox, cookies
