"""The search box's little language, parsed once and handed to either backend.

    invoice "late payment" refund*  type:note author:me account:"Acme AS" channel:email

Words must all match (each in any inflected form the stemmers know); "quoted
phrases" match in order; ``word*`` matches as a prefix; ``field:value`` filters
(``type``, ``account``, ``author``, ``channel``). A ``field:`` we do not know is
searched as ordinary text, so "re:order" still finds something.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb_documents.search.analysis import DEFAULT_LANGUAGES, stems_of, tokenize

FILTER_FIELDS = ("type", "account", "author", "channel")
MAX_CLAUSES = 20
PREFIX_MIN_LENGTH = 4

_CHUNK = re.compile(
    r'(?P<field>\w+):(?:"(?P<fquoted>[^"]*)"|(?P<fvalue>\S+))|"(?P<phrase>[^"]*)"?|(?P<word>\S+)'
)


@dataclass(frozen=True)
class Clause:
    """One thing a hit must match.

    kind "word": any of ``forms`` (the folded word first, then its stems) in the text
    or the stems; "phrase": ``forms`` at consecutive positions; "prefix": a word
    starting with ``forms[0]``.
    """

    kind: str
    forms: tuple[str, ...]
    cjk: bool = False

    @property
    def expands_to_prefix(self) -> bool:
        """A long word also matches, weakly, as a prefix: Norwegian "faktura" then finds
        "fakturaen" even where the stemmer cuts the two differently."""
        return self.kind == "word" and not self.cjk and len(self.forms[0]) >= PREFIX_MIN_LENGTH


@dataclass
class ParsedQuery:
    clauses: list[Clause] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    # The spans to mark in each written word, as the snippets found them (a memo).
    marks: dict[str, tuple[tuple[int, int], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # The marked words met so far and one expression finding them (a memo).
    mark_pattern: tuple[frozenset[str], re.Pattern[str]] = field(
        default=(frozenset(), re.compile(r"(?!)")), repr=False, compare=False
    )

    @property
    def is_empty(self) -> bool:
        return not self.clauses and not self.filters

    def highlight_terms(self) -> tuple[set[str], set[str]]:
        """(forms and stems to mark, prefixes to mark) for the snippet."""
        exact: set[str] = set()
        prefixes: set[str] = set()
        for clause in self.clauses:
            if clause.kind == "prefix":
                prefixes.add(clause.forms[0])
            else:
                exact.update(clause.forms)
        return exact, prefixes


def _text_clauses(text: str, *, prefix: bool = False) -> list[Clause]:
    tokens = tokenize(text)
    if not tokens:
        return []
    if len(tokens) == 1:
        token = tokens[0]
        if prefix and not token.cjk:
            return [Clause("prefix", (token.form,))]
        if token.cjk:
            return [Clause("word", (token.form,), cjk=True)]
        written = text[token.start : token.end]
        return [Clause("word", (token.form, *stems_of(written, DEFAULT_LANGUAGES)))]
    # "e-mail", "发票已经": several tokens from one written word are a phrase.
    return [Clause("phrase", tuple(token.form for token in tokens))]


def parse_query(raw: str) -> ParsedQuery:
    parsed = ParsedQuery()
    for match in _CHUNK.finditer(raw or ""):
        name = (match.group("field") or "").lower()
        if name in FILTER_FIELDS:
            value = (
                match.group("fquoted")
                if match.group("fquoted") is not None
                else match.group("fvalue")
            )
            value = value.strip()
            if value:
                parsed.filters.setdefault(name, []).append(value)
            continue
        if match.group("field"):
            parsed.clauses.extend(_text_clauses(match.group(0)))
        elif match.group("phrase") is not None:
            tokens = tokenize(match.group("phrase"))
            if len(tokens) == 1:
                parsed.clauses.extend(_text_clauses(match.group("phrase")))
            elif tokens:
                parsed.clauses.append(Clause("phrase", tuple(t.form for t in tokens)))
        else:
            word = match.group("word")
            if word.endswith("*") and len(word.rstrip("*")) >= 2:
                parsed.clauses.extend(_text_clauses(word.rstrip("*"), prefix=True))
            else:
                parsed.clauses.extend(_text_clauses(word))
    parsed.clauses = parsed.clauses[:MAX_CLAUSES]
    return parsed
