"""What the figures were measured on."""

from __future__ import annotations

import os
import platform
from importlib.metadata import version
from pathlib import Path


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_total() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _redis() -> str:
    url = os.environ.get("REDIS_URL", "").strip()
    if not url:
        return "none (in-memory channel layer)"
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        return f"Redis {client.info('server')['redis_version']} at {url}"
    finally:
        client.close()


def _database() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url.startswith(("postgres://", "postgresql://")):
        return "SQLite (embedded default)"
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as connection:
        return "PostgreSQL " + connection.execute("SHOW server_version").fetchone()[0]


def describe() -> str:
    packages = ", ".join(
        f"{name} {version(name)}"
        for name in ("django", "channels", "channels-redis", "daphne", "twisted", "websockets")
    )
    return (
        f"machine: {os.cpu_count()} CPUs ({_cpu_model()}), {_mem_total()} RAM, "
        f"{platform.system()} {platform.release()}\n"
        f"python {platform.python_version()}; {packages}\n"
        f"channel layer: {_redis()}; database: {_database()}"
    )
