"""Read queries on a hot path, compiled to SQL once per process.

Building a queryset and compiling it costs the ORM more CPU than a small indexed
statement costs PostgreSQL: about half a millisecond for each of the screen pop's
reads, paid on every call in the process that also sends the consoles' frames
(docs/performance.md). `CompiledValues` builds its `values()` queryset once per
database and shape with stand-in values, keeps the SQL and the compiler, and runs the
SQL with the real values in their places; rows come back through the compiler's own
converters, as `values()` gives them.

Only what a query's parameters hold can change between runs. A value the SQL itself
holds (a LIMIT, the length of an IN list) is a `shape`: each shape is compiled once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: dict[str, int]  # stand-in name -> its index among the parameters
    names: list[str]
    compiler: SQLCompiler


def stand_in_places(params: Sequence[Any], stand_ins: dict[str, Any]) -> dict[str, int]:
    """Where each stand-in value stands among a compiled statement's parameters; each
    must be exactly one of them, or its place could not be told."""
    places: dict[str, int] = {}
    for name, stand_in in stand_ins.items():
        found = [i for i, param in enumerate(params) if param == stand_in]
        if len(found) != 1:
            raise ValueError(f"stand-in {name}={stand_in!r} is {len(found)} parameters")
        places[name] = found[0]
    return places


class CompiledValues:
    """`build(**stand_ins)` (plus `shape=` when a shape is given) returns the values()
    queryset; every stand-in value must reach the parameters exactly once, so that
    its place can be found. `rows(**values)` runs it with the real values."""

    def __init__(
        self,
        model: type[Model],
        build: Callable[..., QuerySet[Any, dict[str, Any]]],
        **stand_ins: Any,
    ) -> None:
        self.model = model
        self.build = build
        self.stand_ins = stand_ins
        self._compiled: dict[tuple[str, Hashable], _Compiled] = {}
        self._lock = threading.Lock()

    def rows(self, *, shape: Hashable = None, **values: Any) -> list[dict[str, Any]]:
        alias = router.db_for_read(self.model)
        compiled = self._compiled.get((alias, shape)) or self._compile(alias, shape)
        params = list(compiled.params)
        for name, value in values.items():
            params[compiled.slots[name]] = value
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        names = compiled.names
        rows = compiled.compiler.results_iter(results=[fetched])
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _compile(self, alias: str, shape: Hashable) -> _Compiled:
        extra = {} if shape is None else {"shape": shape}
        queryset = self.build(**self.stand_ins, **extra).using(alias)
        query = queryset.query
        compiler = query.get_compiler(alias)
        sql, params = compiler.as_sql()
        slots = stand_in_places(params, self.stand_ins)
        names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        compiled = _Compiled(sql, tuple(params), slots, names, compiler)
        with self._lock:
            self._compiled[(alias, shape)] = compiled
        return compiled
