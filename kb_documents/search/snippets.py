"""Highlighted snippets, computed from the original text by the same analysis as the
index, so both backends mark the same words (and inflected forms) the same way."""

from __future__ import annotations

from django.utils.html import escape

from kb_documents.search.analysis import WORD, iter_tokens
from kb_documents.search.query import ParsedQuery

SNIPPET_CHARS = 240
# Long documents: look for the best window in the first part only, and stop reading
# at the first part that holds a hit (a 300-page PDF is not tokenized for 20 words).
SNIPPET_SCAN_CHARS = 200_000
SNIPPET_ENOUGH_CHARS = 10_000


def _hits(text: str, query: ParsedQuery) -> list[tuple[int, int]]:
    exact, prefixes = query.highlight_terms()
    starts = tuple(prefixes)
    long_words = tuple(form for form in exact if len(form) >= 4)

    def marked(word: str) -> tuple[tuple[int, int], ...]:
        """The spans to mark inside one written word (several for CJK bigrams)."""
        return tuple(
            (token.start, token.end)
            for token in iter_tokens(word)
            if token.form in exact
            or not exact.isdisjoint(token.stems)
            or token.form.startswith(starts)
            or (not token.cjk and token.form.startswith(long_words))
        )

    # Texts repeat their words (the most common ones make half of a text): each
    # written word is analyzed once per query (for all its snippets), then looked up.
    verdicts = query.marks
    spans: list[tuple[int, int]] = []
    for match in WORD.finditer(text):
        word = match.group()
        found = verdicts.get(word)
        if found is None:
            found = verdicts[word] = marked(word)
        if not found:
            continue
        offset = match.start()
        if spans and offset > SNIPPET_ENOUGH_CHARS + spans[0][0]:
            break
        for start, end in found:
            start, end = start + offset, end + offset
            if spans and start <= spans[-1][1]:
                # CJK bigrams overlap: one mark for the run.
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
    return spans


def make_snippet(text: str, query: ParsedQuery, *, length: int = SNIPPET_CHARS) -> str:
    """HTML: an escaped excerpt around the densest cluster of hits, hits in <mark>."""
    text = (text or "")[:SNIPPET_SCAN_CHARS]
    spans = _hits(text, query)
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
