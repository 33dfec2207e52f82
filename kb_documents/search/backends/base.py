from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kb_documents.search.analysis import Token, tokenize
from kb_documents.search.query import ParsedQuery

# Bump when the analysis or the stored fields change: every backend then sees an
# index of another version and rebuilds (see docs/architecture.md).
SCHEMA_VERSION = 1
# Only the first part of a very long text is indexed (PostgreSQL caps a tsvector at
# 1 MB and positions at 16383).
INDEX_TEXT_CHARS = 300_000


@dataclass
class IndexItem:
    key: str  # "note:5", "document:3", "message:981"
    kind: str
    object_id: int
    title: str
    text: str
    acl: list[str]
    account_id: int | None
    author_id: int | None
    channel: str
    created_at: datetime

    def title_tokens(self) -> list[Token]:
        return tokenize(self.title)

    def text_tokens(self) -> list[Token]:
        return tokenize(self.text[:INDEX_TEXT_CHARS])


@dataclass
class Filters:
    kinds: list[str] = field(default_factory=list)
    account_ids: list[int] = field(default_factory=list)
    author_ids: list[int] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Hit:
    kind: str
    object_id: int
    score: float


@dataclass
class HitPage:
    total: int
    hits: list[Hit]


Progress = Callable[[int], None]


class SearchBackend(ABC):
    name: str

    @abstractmethod
    def index(self, items: Sequence[IndexItem]) -> None: ...

    @abstractmethod
    def delete(self, keys: Sequence[str]) -> None: ...

    @abstractmethod
    def search(
        self, query: ParsedQuery, *, terms: list[str], filters: Filters, offset: int, limit: int
    ) -> HitPage:
        """One page of hits in rank order, only among items carrying one of ``terms``."""

    @abstractmethod
    def rebuild(self, items: Iterable[IndexItem], progress: Progress | None = None) -> int:
        """Replace the whole index with these items, at the current schema version."""

    @abstractmethod
    def is_current(self) -> bool:
        """Whether an index of the current schema version exists."""

    @abstractmethod
    def upgrade_lock(self) -> AbstractContextManager[None]:
        """Held while checking for and building a new schema version, so that of
        several processes starting on an old index only one rebuilds it."""

    @abstractmethod
    def health(self) -> dict[str, Any]: ...
