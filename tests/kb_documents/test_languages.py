"""Content in Norwegian, Polish, Estonian, Chinese and English is found by the words
a native speaker would type: other inflected forms, no accents, no spaces in Chinese.
Each test has decoys, and the right document must come first, on every backend."""

from __future__ import annotations

from typing import Any

import pytest

from kb_documents.actions import Sharing, do_add_note
from kb_documents.search.service import search

pytestmark = pytest.mark.django_db

CORPUS = {
    "no": "Lønnsslipp\nFakturaene for oktober er sendt til kunden, og lønnsslippene kommer i morgen.",
    "no-decoy": "Møte\nVi har et møte om bilene på fredag.",
    "pl": "Zamówienie\nKlient zapłacił za fakturę, ale zamówienie dotarło uszkodzone do Łodzi.",
    "pl-decoy": "Spotkanie\nSpotkanie z klientem w Warszawie w przyszłym tygodniu.",
    "et": "Tellimus\nKlient küsis arvete kohta ja tellimuse tarneaega Tallinnas.",
    "et-decoy": "Koosolek\nKoosolek toimub neljapäeval kontoris.",
    "zh": "发票\n我们已经收到您的发票，付款将在三个工作日内完成。",  # noqa: RUF001 -- a Chinese comma
    "zh-decoy": "会议\n明天下午开会讨论新的产品计划。",
    "en": "Shipping delay\nThe shipments were delayed because the carriers stopped running.",
    "en-decoy": "Shipping policy\nOur shipping policy covers returns.",
}


@pytest.fixture
def corpus(search_backend: Any, committed: Any, people: Any) -> dict[str, str]:
    titles = {}
    with committed():
        for key, body in CORPUS.items():
            titles[key] = do_add_note(body, by=people.agent, sharing=Sharing()).title
    return titles


def first(user: Any, query: str) -> str | None:
    results = search(user, query).results
    return results[0]["title"] if results else None


NORWEGIAN_QUERIES = [
    ("faktura", "no"),  # the singular finds "fakturaene"
    ("lønnsslippen", "no"),  # another inflection of "lønnsslippene"
    ("lonnsslipp", "no"),  # typed without ø
    ("bil", "no-decoy"),  # "bilene" is a form of "bil"
]


def test_norwegian(corpus: dict[str, str], people: Any) -> None:
    for query, expected in NORWEGIAN_QUERIES:
        assert first(people.agent, query) == corpus[expected], query


POLISH_QUERIES = [
    ("zapłacić", "pl"),  # the infinitive finds the past tense "zapłacił"
    ("faktury zamówienia", "pl"),  # genitives find "fakturę" and "zamówienie"
    ("tygodnia", "pl-decoy"),  # genitive finds the locative "tygodniu"
    ("lodz", "pl"),  # "Łodzi" typed without diacritics
    ("uszkodzony", "pl"),
]


def test_polish(corpus: dict[str, str], people: Any) -> None:
    for query, expected in POLISH_QUERIES:
        assert first(people.agent, query) == corpus[expected], query


ESTONIAN_QUERIES = [
    ("arve", "et"),  # "arvete" (genitive plural)
    ("tellimus", "et"),  # finds "tellimuse" too
    ("kusis", "et"),  # "küsis" without the umlaut
    ("tallinn", "et"),
]


def test_estonian(corpus: dict[str, str], people: Any) -> None:
    for query, expected in ESTONIAN_QUERIES:
        assert first(people.agent, query) == corpus[expected], query


CHINESE_QUERIES = [
    ("发票", "zh"),  # a word inside a sentence without spaces
    ("付款", "zh"),
    ("工作日", "zh"),  # three characters: a phrase of bigrams
    ("票", "zh"),  # one character
    ("产品计划", "zh-decoy"),
]


def test_chinese(corpus: dict[str, str], people: Any) -> None:
    for query, expected in CHINESE_QUERIES:
        assert first(people.agent, query) == corpus[expected], query


def test_chinese_does_not_match_characters_out_of_order(
    corpus: dict[str, str], people: Any
) -> None:
    assert search(people.agent, "票发").results == []


ENGLISH_QUERIES = [
    ("shipment delay", "en"),  # "shipments were delayed"
    ("carrier run", "en"),
    ("return", "en-decoy"),
]


def test_english(corpus: dict[str, str], people: Any) -> None:
    for query, expected in ENGLISH_QUERIES:
        assert first(people.agent, query) == corpus[expected], query


def test_the_snippet_marks_inflected_and_unaccented_hits(
    corpus: dict[str, str], people: Any
) -> None:
    [hit] = search(people.agent, "lodz").results
    assert "<mark>Łodzi</mark>" in hit["snippet"]
    [hit] = search(people.agent, "发票").results
    assert "<mark>发票</mark>" in hit["snippet"]
