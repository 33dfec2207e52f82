"""The file's kind is judged by its bytes; text comes out of every allowed kind."""

from __future__ import annotations

import pytest

from kb_documents.extraction import (
    UnreadableFile,
    UnsupportedFile,
    detect_kind,
    extract,
    stored_filename,
)
from tests.kb_documents.files import EXE_BYTES, PNG_BYTES, make_docx, make_eml, make_pdf


def test_text_comes_out_of_a_real_pdf() -> None:
    extracted = extract(make_pdf("Quarterly invoice for Nordic Supplies", "Fakturaen er betalt"))
    assert extracted.kind == "pdf"
    assert extracted.content_type == "application/pdf"
    assert "Quarterly invoice for Nordic Supplies" in extracted.text
    assert "Fakturaen er betalt" in extracted.text


def test_text_comes_out_of_a_real_docx_with_its_tables() -> None:
    extracted = extract(
        make_docx("Zażółć gęślą jaźń", table=[["Tellimus", "Arve"]]), "whatever.bin"
    )
    assert extracted.kind == "docx"
    assert "Zażółć gęślą jaźń" in extracted.text
    assert "Tellimus Arve" in extracted.text


def test_an_eml_gives_its_headers_and_plain_body() -> None:
    extracted = extract(make_eml("Late delivery", "The pallets arrived broken."))
    assert extracted.kind == "eml"
    assert "Subject: Late delivery" in extracted.text
    assert "pallets arrived broken" in extracted.text


def test_an_html_only_eml_is_read_as_text() -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "a@b.test"
    message["Subject"] = "Hei"
    message.set_content("<p>Hello <b>world</b><script>alert(1)</script></p>", subtype="html")
    extracted = extract(message.as_bytes())
    assert "Hello world" in extracted.text
    assert "alert" not in extracted.text


def test_html_loses_its_tags_scripts_and_styles() -> None:
    html = b"<!doctype html><html><head><style>p{}</style></head><body><p>R&eacute;sum&eacute; <i>here</i></p><script>x()</script></body></html>"
    extracted = extract(html, "page.txt")
    assert extracted.kind == "html"
    assert extracted.text == "Résumé here"


def test_markdown_is_told_from_plain_text_by_its_name_only() -> None:
    assert extract(b"# Title\n\n*bold* text", "notes.md").text.strip() == "Title\nbold text"
    assert extract(b"# Title", "notes.txt").kind == "text"


def test_windows_1252_text_is_accepted() -> None:
    assert extract("Søknad om lønn".encode("cp1252"), "a.txt").text == "Søknad om lønn"


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (EXE_BYTES, "invoice.pdf"),
        (PNG_BYTES, "scan.txt"),
        (b"PK\x03\x04" + b"\x00" * 100, "report.docx"),
        (b"", "empty.txt"),
    ],
    ids=["exe-named-pdf", "png-named-txt", "broken-zip-named-docx", "empty"],
)
def test_content_outside_the_allow_list_is_refused_whatever_its_name(
    data: bytes, name: str
) -> None:
    with pytest.raises(UnsupportedFile):
        detect_kind(data, name)


def test_a_zip_that_is_not_a_word_document_is_refused() -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", EXE_BYTES)
    with pytest.raises(UnsupportedFile):
        extract(buffer.getvalue(), "contract.docx")


@pytest.mark.parametrize(
    "data",
    [make_pdf("complete")[:150], b"%PDF-1.7\n" + b"garbage " * 200],
    ids=["truncated", "garbage-after-header"],
)
def test_a_corrupt_pdf_is_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableFile):
        extract(data, "broken.pdf")


def test_a_download_name_carries_the_suffix_of_what_the_file_is() -> None:
    assert stored_filename("notes.txt", "pdf") == "notes.pdf"
    assert stored_filename("../../etc/Report.PDF", "pdf") == "Report.PDF"
    assert stored_filename("readme.markdown", "markdown") == "readme.markdown"
