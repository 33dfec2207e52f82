"""Text analysis shared by both search backends, so that Whoosh and PostgreSQL see
exactly the same terms and the same query means the same thing on both.

A text becomes a list of tokens. Each token carries:

- ``form``: the word lower-cased and folded (accents removed, ``ø``→``o``, ``ł``→``l``,
  ``ß``→``ss``), used for exact words, phrases and prefixes;
- ``stems``: the word's stems in every configured language (Snowball: English,
  Norwegian, Polish, Estonian by default), also folded. The language of a text is
  not detected: a word is stemmed in every language, and the query word too, so a
  Norwegian "fakturaene" and a query "fakturaer" meet at "faktura" whatever the rest
  of the text is. A wrong-language stem only adds a weak, low-weighted match.

Chinese, Japanese and Korean have no spaces between words: a run of such characters
becomes overlapping character bigrams at consecutive positions (so a query of two or
more characters is a phrase of bigrams), and each character is also a unigram stem
(so a one-character query still finds something).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import snowballstemmer

DEFAULT_LANGUAGES = ("english", "norwegian", "polish", "estonian")

# Letters that Unicode does not decompose into a base letter plus a combining mark.
_SPECIAL_FOLDS = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ß": "ss",
        "ı": "i",  # noqa: RUF001 -- Turkish dotless i folds to i
        "ħ": "h",
    }
)

_CJK_RANGES = (
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x2FA1F),  # Extensions B.. and compatibility supplement
)

# A word: letters and digits (not underscores). CJK characters match too and are
# split out afterwards.
WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_WORD_LENGTH = 64


def is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def fold(text: str) -> str:
    """Lower-case without accents: "Søknad" and "soknad", "Łódź" and "lodz" are one word."""
    if text.isascii():
        # The same result, 20 times sooner: ASCII has no accents or special letters,
        # and its case folding is lower-casing. Most words and stems are ASCII.
        return text.lower()
    text = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL_FOLDS))
    return "".join(c for c in text if not unicodedata.combining(c))


class _ThreadStemmers(threading.local):
    def __init__(self) -> None:
        self.by_language: dict[str, Any] = {}


_thread_stemmers = _ThreadStemmers()


def _stemmer(language: str) -> Any:
    """This thread's stemmer for `language`. A Snowball stemmer keeps the word it is
    stemming in the object (the C ones of PyStemmer, which snowballstemmer hands out
    when it is installed, as the pure-Python ones), so one stemmer shared by threads
    (the web process stems in several) could give one thread's word another's stem."""
    stemmer = _thread_stemmers.by_language.get(language)
    if stemmer is None:
        stemmer = _thread_stemmers.by_language[language] = snowballstemmer.stemmer(language)
        if hasattr(stemmer, "maxCacheSize"):
            # PyStemmer's own cache of 10,000 words, per stemmer and thread, holds what
            # _stems caches already; without it a new word is stemmed in half the time.
            stemmer.maxCacheSize = 0
    return stemmer


@dataclass
class Token:
    form: str
    start: int
    end: int
    position: int
    stems: tuple[str, ...] = field(default_factory=tuple)
    cjk: bool = False


def stems_of(word: str, languages: Sequence[str]) -> tuple[str, ...]:
    """The word's folded stems in each language, without its own folded form."""
    return _stems(word.casefold(), tuple(languages))


# Words repeat: the cache spares the stemmers (about 1 µs a word and language in C,
# 7-23 µs in pure Python, where PyStemmer is missing) and the folding.
@lru_cache(maxsize=200_000)
def _stems(lowered: str, languages: tuple[str, ...]) -> tuple[str, ...]:
    form = fold(lowered)
    found: list[str] = []
    for language in languages:
        stem = fold(_stemmer(language).stemWord(lowered))
        if stem and stem != form and stem not in found:
            found.append(stem)
    return tuple(found)


_CJK_RUN = re.compile(
    "[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _CJK_RANGES) + "]+", re.UNICODE
)


def _split_cjk(word: str, start: int) -> Iterator[tuple[str, int, int, bool]]:
    """Runs of CJK characters and of everything else, with their offsets."""
    if word.isascii():
        yield word, start, start + len(word), False
        return
    cursor = 0
    for run in _CJK_RUN.finditer(word):
        if run.start() > cursor:
            yield word[cursor : run.start()], start + cursor, start + run.start(), False
        yield run.group(), start + run.start(), start + run.end(), True
        cursor = run.end()
    if cursor < len(word):
        yield word[cursor:], start + cursor, start + len(word), False


def tokenize(text: str, languages: Sequence[str] = DEFAULT_LANGUAGES) -> list[Token]:
    return list(iter_tokens(text, languages))


# A word is analyzed once per process: folding alone (NFKD, a generator over its
# characters) costs a few microseconds, and indexing and snippets see the same words
# again and again.
@lru_cache(maxsize=200_000)
def _analyzed_word(piece: str, languages: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    return fold(piece), _stems(piece.casefold(), languages)


def whole_word(word: str) -> tuple[str, tuple[str, ...]] | None:
    """(form, stems) of one written word (a match of WORD) without CJK characters, the
    one token iter_tokens makes of it, spanning all of it; ("", ()) when it makes
    none (nothing left after folding, or too long); None for a word with CJK
    characters (several tokens: use iter_tokens)."""
    known = _whole_words.get(word, _UNKNOWN)
    if known is not _UNKNOWN:
        return known
    if not word.isascii() and _CJK_RUN.search(word):
        analyzed = None
    else:
        form, stems = _analyzed_word(word, DEFAULT_LANGUAGES)
        analyzed = ("", ()) if not form or len(form) > MAX_WORD_LENGTH else (form, stems)
    if len(_whole_words) >= WHOLE_WORDS_KEPT:
        _whole_words.clear()
    _whole_words[word] = analyzed
    return analyzed


# A snippet decides every distinct word of a page's texts (1,600 for a page of
# documents), most of them seen before: one lookup in a plain dict, where the CJK check
# and the LRU's tuple key cost more (deciding such a page's words: 2.0 -> 1.7 ms).
# Emptied when full, like a cache that keeps what is in use: the next pages fill it.
WHOLE_WORDS_KEPT = 200_000
_whole_words: dict[str, tuple[str, tuple[str, ...]] | None] = {}
_UNKNOWN = object()


def iter_tokens(text: str, languages: Sequence[str] = DEFAULT_LANGUAGES) -> Iterator[Token]:
    """The tokens of `text` in order, lazily (a snippet stops reading a long text early)."""
    languages = tuple(languages)
    position = 0
    for match in WORD.finditer(text):
        for piece, start, end, cjk in _split_cjk(match.group(), match.start()):
            if cjk:
                if len(piece) == 1:
                    yield Token(piece, start, end, position, (), cjk=True)
                    position += 1
                    continue
                for offset in range(len(piece) - 1):
                    bigram = piece[offset : offset + 2]
                    # The unigram rides along as a stem of the bigram that starts with it;
                    # the last character also gets its own.
                    unigrams = (piece[offset],)
                    if offset == len(piece) - 2:
                        unigrams += (piece[offset + 1],)
                    yield Token(
                        bigram, start + offset, start + offset + 2, position, unigrams, True
                    )
                    position += 1
                continue
            form, stems = _analyzed_word(piece, languages)
            if not form or len(form) > MAX_WORD_LENGTH:
                continue
            yield Token(form, start, end, position, stems)
            position += 1


def cjk_query_terms(piece: str) -> list[str]:
    """What a run of CJK characters in a query must match: its bigrams in order (a
    phrase), or a lone character (a unigram stem)."""
    if len(piece) == 1:
        return [piece]
    return [piece[i : i + 2] for i in range(len(piece) - 1)]
