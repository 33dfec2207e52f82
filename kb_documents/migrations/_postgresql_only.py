"""Shared by this app's migrations (Django does not load a module starting with "_" as
a migration): the search table's PostgreSQL-only SQL (tsvector columns, GIN indexes),
which SQLite, where the table is unused, skips."""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import migrations


def _statements(statements: Sequence[str]) -> Callable[[Any, Any], None]:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


def run_on_postgresql(forward: Sequence[str], backward: Sequence[str]) -> migrations.RunPython:
    """The statements in order on PostgreSQL, nothing elsewhere; reversible."""
    return migrations.RunPython(_statements(forward), _statements(backward))
