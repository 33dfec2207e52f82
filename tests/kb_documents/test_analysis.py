"""The analysis's fast paths give what the slow ones gave. The stemmers: Snowball's C
ones (PyStemmer) run, they give the stems the pure-Python ones give (so an index
written on a machine without PyStemmer finds what one written with it finds, and the
other way round), and no two threads share one. Folding: ASCII is lower-cased, the
rest loses its accents as before."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import django
import pytest
import snowballstemmer
from snowballstemmer.english_stemmer import EnglishStemmer
from snowballstemmer.estonian_stemmer import EstonianStemmer
from snowballstemmer.norwegian_stemmer import NorwegianStemmer
from snowballstemmer.polish_stemmer import PolishStemmer

from kb_documents.search.analysis import DEFAULT_LANGUAGES, _stemmer, fold, stems_of

PURE_PYTHON = {
    "english": EnglishStemmer,
    "norwegian": NorwegianStemmer,
    "polish": PolishStemmer,
    "estonian": EstonianStemmer,
}
# Words whose stems the algorithms treat specially (English exceptions, Polish
# superlatives, Norwegian and Estonian inflections), on top of the vocabulary below.
SPECIAL_WORDS = [
    "dying",
    "lying",
    "tying",
    "skies",
    "gently",
    "ugly",
    "early",
    "only",
    "singly",
    "idly",
    "news",
    "howe",
    "atlas",
    "cosmos",
    "bias",
    "andes",
    "generously",
    "communication",
    "arsenal",
    "najlepszy",
    "największy",
    "zamówienia",
    "książkami",
    "pracowników",
    "raamatutele",
    "majadesse",
    "inimestega",
    "tänavatel",
    "söögikohtades",
    "fakturaene",
    "lønnsslippene",
    "leverandørene",
    "oppgraderingene",
]


def real_vocabulary() -> list[str]:
    """Real words of the four languages, inflected as people write them: the messages
    of Django's own translations (its core's and its contrib apps'), which every
    installation has."""
    words: set[str] = set(SPECIAL_WORDS)
    for language in ("en", "nb", "nn", "pl", "et"):
        for catalog in Path(django.__file__).parent.glob(f"**/locale/{language}/LC_MESSAGES/*.po"):
            lines = catalog.read_text(encoding="utf-8").splitlines()
            for line in lines:
                if line.startswith(("msgid", "msgstr")):
                    words.update(word.casefold() for word in re.findall(r"[^\W\d_]+", line))
    return sorted(words)


def test_snowballstemmer_hands_out_the_c_stemmers() -> None:
    assert set(DEFAULT_LANGUAGES) <= set(snowballstemmer.algorithms())
    for language in DEFAULT_LANGUAGES:
        assert type(_stemmer(language)).__module__ == "Stemmer", language


def test_the_c_stemmers_give_the_pure_python_stems() -> None:
    words = real_vocabulary()
    assert len(words) > 2_500  # the catalogs were read
    for language in DEFAULT_LANGUAGES:
        python_stemmer = PURE_PYTHON[language]()
        python_stems = [python_stemmer.stemWord(word) for word in words]
        assert _stemmer(language).stemWords(words) == python_stems, language
    # And the stems do something: an inflected Norwegian word meets its plain form.
    assert "faktura" in stems_of("fakturaene", DEFAULT_LANGUAGES)


def test_each_thread_stems_with_its_own_stemmers() -> None:
    words = real_vocabulary()
    expected = {language: _stemmer(language).stemWords(words) for language in DEFAULT_LANGUAGES}
    mine = {language: _stemmer(language) for language in DEFAULT_LANGUAGES}
    seen: list[dict[str, object]] = []
    results: list[dict[str, list[str]]] = []

    def stem_all() -> None:
        stemmers = {language: _stemmer(language) for language in DEFAULT_LANGUAGES}
        seen.append(stemmers)
        results.append(
            {
                language: [stemmers[language].stemWord(word) for word in words]
                for language in DEFAULT_LANGUAGES
            }
        )

    threads = [threading.Thread(target=stem_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4
    for language in DEFAULT_LANGUAGES:
        assert _stemmer(language) is mine[language]  # the same one again in this thread
        objects = {id(stemmers[language]) for stemmers in seen} | {id(mine[language])}
        assert len(objects) == 5, language  # and one of its own in each other thread


def test_folding_lowers_ascii_and_strips_accents_from_the_rest() -> None:
    every_ascii_character = "".join(map(chr, range(128)))
    assert fold(every_ascii_character) == every_ascii_character.lower()
    assert fold("Invoice-2024 ÅRSOPPGJØR") == "invoice-2024 arsoppgjor"
    assert [fold(word) for word in ("Søknad", "Łódź", "Straße", "Æble", "ﬁle", "ÉTÉ")] == [
        "soknad",
        "lodz",
        "strasse",
        "aeble",
        "file",
        "ete",
    ]


def test_a_written_word_is_analyzed_the_same_from_memory_and_the_memory_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """whole_word remembers the words it analyzed (a snippet asks for every word of a
    page); what it remembers is what it computes, and it forgets rather than grow."""
    from kb_documents.search import analysis

    monkeypatch.setattr(analysis, "_whole_words", {})
    monkeypatch.setattr(analysis, "WHOLE_WORDS_KEPT", 8)
    words = ["Søknad", "søknaden", "REFUNDS", "发票", "a发票b", "x" * 70, "Łódź", "café"] * 3
    words += [f"word{n}" for n in range(20)]
    first = [analysis.whole_word(word) for word in words]
    again = [analysis.whole_word(word) for word in words]

    assert first == again
    assert analysis.whole_word("Søknad") == (
        "soknad",
        analysis.stems_of("Søknad", DEFAULT_LANGUAGES),
    )
    assert analysis.whole_word("发票") is None  # CJK: several tokens
    assert analysis.whole_word("x" * 70) == ("", ())  # too long to be a token
    assert len(analysis._whole_words) <= 8
