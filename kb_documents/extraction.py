"""What an uploaded file is, judged by its bytes, and the text inside it.

The allow-list is checked on content: a file's name and declared type are only
hints for choosing between kinds that look alike (Markdown and plain text). A
Windows program renamed ``report.pdf`` is refused, whatever it is called.
"""

from __future__ import annotations

import email
import email.policy
import io
import logging
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePath

import docx
import markdown
import pypdf
from pypdf.errors import PdfReadError, PyPdfError

logger = logging.getLogger(__name__)

# kind -> (content type served on download, the suffix a stored file gets)
KINDS: dict[str, tuple[str, str]] = {
    "pdf": ("application/pdf", ".pdf"),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".docx",
    ),
    "eml": ("message/rfc822", ".eml"),
    "html": ("text/html; charset=utf-8", ".html"),
    "markdown": ("text/markdown; charset=utf-8", ".md"),
    "text": ("text/plain; charset=utf-8", ".txt"),
}
MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown"}
EML_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "received",
    "mime-version",
    "return-path",
}
MAX_EXTRACTED_CHARS = 2_000_000


class UnsupportedFile(ValueError):
    """The content is not one of the allowed kinds (HTTP 415)."""


class UnreadableFile(ValueError):
    """The content claims an allowed kind but cannot be read (HTTP 400)."""


@dataclass(frozen=True)
class Extracted:
    kind: str
    content_type: str
    text: str


def _decode_text(data: bytes) -> str | None:
    """The text, when the bytes are text: UTF-8 (or UTF-16 with a BOM), else a
    Windows-1252 text without control characters. None for binary data."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            return None
    controls = sum(1 for c in text[:65536] if ord(c) < 32 and c not in "\t\r\n\f")
    return None if controls else text


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:1024].lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body")) or (
        head.startswith("<") and "<html" in head
    )


def _looks_like_eml(text: str) -> bool:
    """RFC 5322: header fields up to the first empty line, some of them ones every
    message has."""
    names: set[str] = set()
    for line in text.lstrip("\r\n")[:16384].splitlines():
        if not line.strip():
            break
        if line[0] in " \t":
            continue  # a folded header line
        name, colon, _value = line.partition(":")
        if not colon or not name or any(c.isspace() for c in name) or not name.isascii():
            return False
        names.add(name.lower())
    return len(names & EML_HEADERS) >= 2


def _is_docx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
    return "word/document.xml" in names and "[Content_Types].xml" in names


def detect_kind(data: bytes, filename: str = "") -> str:
    if not data:
        raise UnsupportedFile("The file is empty.")
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        if _is_docx(data):
            return "docx"
        raise UnsupportedFile("ZIP archives other than Word documents (.docx) are not accepted.")
    text = _decode_text(data)
    if text is None:
        raise UnsupportedFile(
            "This kind of file is not accepted: upload PDF, Word (.docx), text, Markdown, "
            "HTML or e-mail (.eml)."
        )
    if _looks_like_html(text):
        return "html"
    if _looks_like_eml(text):
        return "eml"
    if PurePath(filename).suffix.lower() in MARKDOWN_SUFFIXES:
        return "markdown"
    return "text"


class _TextFromHTML(HTMLParser):
    SKIP = {"script", "style", "head", "template", "noscript"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextFromHTML()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _pdf_text(data: bytes) -> str:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFile("The PDF is encrypted with a password.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except UnreadableFile:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError) as error:
        # pypdf reports damage through several exception types.
        raise UnreadableFile(f"The PDF cannot be read: {error}") from error
    if not pages:
        raise UnreadableFile("The PDF has no pages.")
    return "\n\n".join(pages)


def _docx_text(data: bytes) -> str:
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises whatever lxml/zipfile raise
        raise UnreadableFile(f"The Word document cannot be read: {error}") from error
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _eml_text(data: bytes) -> str:
    message = email.message_from_bytes(data, policy=email.policy.default)
    headers = [
        f"{name}: {message[name]}" for name in ("Subject", "From", "To", "Date") if message[name]
    ]
    body = message.get_body(preferencelist=("plain", "html"))
    content = ""
    if body is not None:
        try:
            content = body.get_content()
        except (LookupError, ValueError):  # an unknown charset or a broken encoding
            payload = body.get_payload(decode=True) or b""
            content = payload.decode("utf-8", errors="replace")
        if body.get_content_type() == "text/html":
            content = html_to_text(content)
    return "\n".join([*headers, "", content])


def extract(data: bytes, filename: str = "") -> Extracted:
    """The kind of the file and its text; raises UnsupportedFile or UnreadableFile."""
    kind = detect_kind(data, filename)
    if kind == "pdf":
        text = _pdf_text(data)
    elif kind == "docx":
        text = _docx_text(data)
    elif kind == "eml":
        text = _eml_text(data)
    else:
        decoded = _decode_text(data) or ""
        if kind == "html":
            text = html_to_text(decoded)
        elif kind == "markdown":
            text = html_to_text(markdown.markdown(decoded))
        else:
            text = decoded
    return Extracted(kind, KINDS[kind][0], text.replace("\x00", "")[:MAX_EXTRACTED_CHARS])


def stored_filename(filename: str, kind: str) -> str:
    """The name a download gets: the uploader's name with the suffix of what the
    file really is (a PDF uploaded as "notes.txt" downloads as "notes.pdf")."""
    name = PurePath(filename.replace("\\", "/")).name.strip() or "document"
    path = PurePath(name)
    suffix = KINDS[kind][1]
    allowed = (
        MARKDOWN_SUFFIXES
        if kind == "markdown"
        else {suffix, ".htm"}
        if kind == "html"
        else {suffix}
    )
    if path.suffix.lower() in allowed:
        return name[:255]
    return f"{path.stem or 'document'}{suffix}"[:255]
