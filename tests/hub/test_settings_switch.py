from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from hub import config

ROOT = Path(__file__).resolve().parents[2]

SHOW_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'db_name': str(s.DATABASES['default']['NAME']), "
    "'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'search': s.SEARCH_BACKEND, "
    "'secure_cookie': getattr(s, 'SESSION_COOKIE_SECURE', False), 'redirect': getattr(s, 'SECURE_SSL_REDIRECT', False)}))"
)


def run_python(code: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SEARCH_BACKEND"}
    }
    clean.update({"DJANGO_SETTINGS_MODULE": "hub.settings", "HUB_DATA_DIR": str(tmp_path)}, **env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_under(env: dict[str, str], tmp_path: Path) -> dict[str, object]:
    result = run_python(SHOW_SETTINGS, env, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_nothing_set_means_sqlite_in_memory_layer_and_whoosh_under_the_data_dir(
    tmp_path: Path,
) -> None:
    shown = settings_under({}, tmp_path)
    assert shown["db"] == "django.db.backends.sqlite3"
    assert shown["db_name"] == str(tmp_path / "hub.sqlite3")
    assert shown["layer"] == "channels.layers.InMemoryChannelLayer"
    assert shown["search"] == "whoosh"


def test_urls_switch_to_postgresql_and_redis(tmp_path: Path) -> None:
    shown = settings_under(
        {
            "DATABASE_URL": "postgres://hub@db.internal:5432/hub",
            "REDIS_URL": "redis://cache.internal:6379/1",
            "SEARCH_BACKEND": "postgres",
        },
        tmp_path,
    )
    assert shown["db"] == "django.db.backends.postgresql"
    assert shown["db_name"] == "hub"
    assert shown["layer"] == "channels_redis.core.RedisChannelLayer"
    assert shown["search"] == "postgres"


def test_an_unknown_search_backend_is_refused_at_start(tmp_path: Path) -> None:
    result = run_python(SHOW_SETTINGS, {"SEARCH_BACKEND": "elastic"}, tmp_path)
    assert result.returncode != 0
    assert "SEARCH_BACKEND" in result.stderr


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("this run uses PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


def test_the_database_settings_come_from_the_url() -> None:
    pg = config.database_settings("postgres://u:p@h:6543/name", Path("/data"))
    assert (pg["HOST"], pg["PORT"], pg["NAME"], pg["USER"]) == ("h", 6543, "name", "u")
    lite = config.database_settings("", Path("/data"))
    assert lite["NAME"] == "/data/hub.sqlite3"
    assert "journal_mode=WAL" in lite["OPTIONS"]["init_command"]


def test_a_generated_secret_key_is_kept_private_in_the_data_dir(tmp_path: Path) -> None:
    key = config.secret_key("", tmp_path)
    assert len(key) >= 50
    assert config.secret_key("", tmp_path) == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert config.secret_key("configured", tmp_path) == "configured"


def test_https_only_passes_the_deployment_checklist(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update(HUB_DATA_DIR=str(tmp_path), DEBUG="0", HTTPS_ONLY="1")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert settings_under({"DEBUG": "0", "HTTPS_ONLY": "1"}, tmp_path)["secure_cookie"] is True


def test_plain_http_debug_off_does_not_force_https(tmp_path: Path) -> None:
    shown = settings_under({"DEBUG": "0"}, tmp_path)
    assert shown["redirect"] is False
    assert shown["secure_cookie"] is False


@pytest.mark.postgres
@pytest.mark.django_db
def test_this_run_really_uses_postgresql() -> None:
    assert connection.vendor == "postgresql"


@pytest.mark.redis
def test_this_run_really_uses_redis_for_the_channel_layer() -> None:
    layer = get_channel_layer()
    assert type(layer).__module__.startswith("channels_redis")

    async def round_trip() -> dict[str, str]:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "ping", "text": "through redis"})
        return await layer.receive(channel)

    assert async_to_sync(round_trip)()["text"] == "through redis"
