"""Highlighted snippets, computed from the original text by the same analysis as the
index, so both backends mark the same words (and inflected forms) the same way."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from django.utils.html import escape

from kb_documents.search.analysis import WORD, iter_tokens, whole_word
from kb_documents.search.query import ParsedQuery

SNIPPET_CHARS = 240
# Long documents: look for the best window in the first part only, and stop reading
# at the first part that holds a hit (a 300-page PDF is not tokenized for 20 words).
SNIPPET_SCAN_CHARS = 200_000
SNIPPET_ENOUGH_CHARS = 10_000


# Texts up to this long are scanned by _hits_by_regex; longer ones word by word, which
# stops reading SNIPPET_ENOUGH_CHARS after the first hit.
SNIPPET_WHOLE_SCAN_CHARS = 20_000


Marks = tuple[tuple[int, int], ...]


def _marks_by_tokens(
    word: str, exact: set[str], starts: tuple[str, ...], long_words: tuple[str, ...]
) -> Marks:
    """The spans to mark inside one written word (several for CJK bigrams)."""
    return tuple(
        (token.start, token.end)
        for token in iter_tokens(word)
        if token.form in exact
        or not exact.isdisjoint(token.stems)
        or token.form.startswith(starts)
        or (not token.cjk and token.form.startswith(long_words))
    )


def _marker(query: ParsedQuery) -> Callable[[str], Marks]:
    """The function giving the spans to mark inside one written word, as decided for
    this query: _marks_by_tokens, with a shortcut for a word without CJK characters
    (nearly all of them), which is one token spanning the word (a snippet decides
    this for every distinct word of 20 texts, hundreds a query)."""
    exact, prefixes = query.highlight_terms()
    starts = tuple(prefixes)
    long_words = tuple(form for form in exact if len(form) >= 4)
    starts_or_long = starts + long_words

    def marked(word: str) -> Marks:
        analyzed = whole_word(word)
        if analyzed is None:
            return _marks_by_tokens(word, exact, starts, long_words)
        form, stems = analyzed
        if form and (
            form in exact or not exact.isdisjoint(stems) or form.startswith(starts_or_long)
        ):
            return ((0, len(word)),)
        return ()

    return marked


def _hits(text: str, query: ParsedQuery) -> list[tuple[int, int]]:
    if len(text) <= SNIPPET_WHOLE_SCAN_CHARS:
        return _hits_by_regex(text, query)
    return _hits_word_by_word(text, query)


def _hits_by_regex(
    text: str, query: ParsedQuery, words: set[str] | None = None
) -> list[tuple[int, int]]:
    """The spans _hits_word_by_word finds, found faster: the written words are listed
    at C speed (`words`, when the caller listed them) and only the distinct ones new
    to this query are analyzed, then one regular expression finds where the marked
    ones stand (as whole words: a word is a maximal run of WORD's characters), so
    Python visits the hits only, not every word of the text (most of a snippet's time
    before)."""
    if words is None:
        words = set(WORD.findall(text))
    if not _mark_words(query, words):
        return []
    verdicts = query.marks
    _known, pattern = query.mark_pattern
    return _spans((match.start(), verdicts[match.group()]) for match in pattern.finditer(text))


def _mark_words(query: ParsedQuery, words: set[str]) -> set[str]:
    """The marked ones of these written words, each decided once per query (for all
    its snippets), and the query's expression extended to find them all."""
    verdicts = query.marks
    unknown = words.difference(verdicts)
    if unknown:
        marked = _marker(query)
        for word in unknown:
            verdicts[word] = marked(word)
    shown = {word for word in words if verdicts[word]}
    # One expression for all the marked words the query's snippets met so far (one
    # compilation a query, not one a text, when make_snippets meets a page's words
    # first): a word it finds in a text is one of that text's marked words.
    known, _pattern = query.mark_pattern
    if not shown <= known:
        known = known | shown
        # Longest first is not needed for correctness (the lookarounds make a match
        # a whole word), it only spares the engine some backtracking.
        alternatives = "|".join(map(re.escape, sorted(known, key=len, reverse=True)))
        pattern = re.compile(r"(?<![^\W_])(?:" + alternatives + r")(?![^\W_])")
        query.mark_pattern = (known, pattern)
    return shown


def _hits_word_by_word(text: str, query: ParsedQuery) -> list[tuple[int, int]]:
    marked = _marker(query)
    # Texts repeat their words (the most common ones make half of a text): each
    # written word is analyzed once per query (for all its snippets), then looked up.
    verdicts = query.marks

    def found_words() -> Iterator[tuple[int, tuple[tuple[int, int], ...]]]:
        for match in WORD.finditer(text):
            word = match.group()
            found = verdicts.get(word)
            if found is None:
                found = verdicts[word] = marked(word)
            if found:
                yield match.start(), found

    return _spans(found_words())


def _spans(
    found: Iterable[tuple[int, tuple[tuple[int, int], ...]]],
) -> list[tuple[int, int]]:
    """The marks of the marked words (their offsets and spans inside them) in text
    order, up to SNIPPET_ENOUGH_CHARS after the first one."""
    spans: list[tuple[int, int]] = []
    for offset, marks in found:
        if spans and offset > SNIPPET_ENOUGH_CHARS + spans[0][0]:
            break
        for start, end in marks:
            start, end = start + offset, end + offset
            if spans and start <= spans[-1][1]:
                # CJK bigrams overlap: one mark for the run.
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
    return spans


def make_snippets(
    texts: Sequence[str], query: ParsedQuery, *, length: int = SNIPPET_CHARS
) -> list[str]:
    """A page's snippets (see make_snippet). The words of all its texts are decided
    first, so that the query's expression of marked words is compiled once for the
    page, not again for each text that brings a new marked word (a few times a
    query, each costing about as much as a text's snippet)."""
    texts = [(text or "")[:SNIPPET_SCAN_CHARS] for text in texts]
    words = [
        set(WORD.findall(text)) if len(text) <= SNIPPET_WHOLE_SCAN_CHARS else None for text in texts
    ]
    _mark_words(query, set().union(*(found for found in words if found)))
    return [
        _excerpt(
            text,
            _hits_by_regex(text, query, found)
            if found is not None
            else _hits_word_by_word(text, query),
            length,
        )
        for text, found in zip(texts, words, strict=True)
    ]


def make_snippet(text: str, query: ParsedQuery, *, length: int = SNIPPET_CHARS) -> str:
    """HTML: an escaped excerpt around the densest cluster of hits, hits in <mark>."""
    return make_snippets([text], query, length=length)[0]


def _excerpt(text: str, spans: list[tuple[int, int]], length: int) -> str:
    if not spans:
        excerpt = text[:length]
        return escape(" ".join(excerpt.split())) + ("…" if len(text) > length else "")
    best_start, best_count = spans[0][0], 0
    right = 0
    for left, (start, _end) in enumerate(spans):
        while right < len(spans) and spans[right][1] <= start + length:
            right += 1
        if right - left > best_count:
            best_start, best_count = start, right - left
    window_start = max(0, best_start - length // 4)
    # Start on a word boundary.
    while (
        window_start > 0
        and not text[window_start - 1].isspace()
        and best_start - window_start < length // 2
    ):
        window_start -= 1
    window_end = min(len(text), window_start + length)
    parts = ["…"] if window_start > 0 else []
    cursor = window_start
    for start, end in spans:
        if start < window_start or end > window_end:
            continue
        parts.append(escape(text[cursor:start]))
        parts.append(f"<mark>{escape(text[start:end])}</mark>")
        cursor = end
    parts.append(escape(text[cursor:window_end]))
    if window_end < len(text):
        parts.append("…")
    return " ".join("".join(parts).split())
