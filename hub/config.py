"""Pure functions that turn environment values into Django settings blocks.

Kept apart from settings.py so that tests can check the switch between the
embedded default and the multi-process configuration without reloading Django.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import dj_database_url


def database_settings(database_url: str, data_dir: Path) -> dict[str, Any]:
    """SQLite in WAL mode under the data dir unless DATABASE_URL names another database.

    `sqlite:////abs/path.sqlite3` picks another SQLite file with the same settings.
    """
    if not database_url or database_url.startswith("sqlite:"):
        path = database_url.removeprefix("sqlite:///") if database_url else ""
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path or str(data_dir / "hub.sqlite3"),
            # Keep connections: each new one reruns the PRAGMAs below.
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead
                # of failing with "database is locked" when a reader upgrades.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
            },
            # Tests share the database between threads and processes, so it lives on disk.
            "TEST": {"NAME": str(data_dir / "test-hub.sqlite3")},
        }
    config = dj_database_url.parse(database_url, conn_max_age=60, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.postgresql":
        options = config.setdefault("OPTIONS", {})
        options["connect_timeout"] = 5
        # A connection pool per process instead of persistent connections: under ASGI
        # Django runs each request's sync code in a thread of its own, so a persistent
        # connection is never reused and every webhook opened a new one (a PostgreSQL
        # backend to fork and warm: most of a call's screen pop). Django's docs say
        # the same ("When using ASGI, persistent connections should be disabled").
        # CONN_HEALTH_CHECKS makes the pool check a connection on checkout, so a
        # restarted database server costs no failed request.
        options["pool"] = {"min_size": 2, "max_size": 20, "timeout": 10}
        config["CONN_MAX_AGE"] = 0
    return config


def channel_layer_settings(redis_url: str) -> dict[str, Any]:
    """channels_redis when REDIS_URL is set, else the in-memory layer of this process."""
    if not redis_url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": redis_url,
                        # redis-py 8 times reads out after 5 s by default, exactly
                        # channels_redis' 5 s blocking pop: every idle receive would
                        # fail. Reads may block longer than the pop; connects may not.
                        "socket_timeout": 15,
                        "socket_connect_timeout": 5,
                    }
                ],
                "capacity": 5000,
                "expiry": 60,
            },
        }
    }


def search_backend_name(value: str) -> str:
    name = (value or "whoosh").strip().lower()
    if name not in {"whoosh", "postgres"}:
        raise ValueError(f"SEARCH_BACKEND={value!r}: use 'whoosh' or 'postgres'")
    return name


def secret_key(configured: str, data_dir: Path) -> str:
    """The configured key, or one generated once and kept (mode 0600) in the data dir.

    A fresh install therefore never runs on a key that is published in the code.
    """
    if configured:
        return configured
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(64)
    key_file.touch(mode=0o600)
    key_file.write_text(key, encoding="utf-8")
    return key
