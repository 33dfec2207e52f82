"""Turn raw RFC 5322 bytes into what the hub stores, whatever the sender's client did.

The standard library's email package does the work; every access that real-world mail
can break (unknown charsets, bad encoded words, missing or duplicated headers,
malformed MIME) has a fallback, so parse() raises only on input that is not mail at all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

import nh3

MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
TOKEN_RE = re.compile(r"\[#(\d{1,12})\]")
REPLY_PREFIX_RE = re.compile(r"^\s*((re|fw|fwd|sv|vs|aw|odp|antw|vl|r)\s*:\s*)+", re.IGNORECASE)
BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon")


class _HeadersParsedOnce(HeaderRegistry):
    """The standard header registry, remembering the header objects it built by name
    and raw value. email.policy.default parses a header again on every access: one
    plain mail's Content-Type was parsed about ten times (get_content_type and
    get_content_maintype read it afresh each time), which made header parsing most
    of parse()'s time. Header objects are not changed by reading them, and the same
    name and value always give the same object, so one can serve every access, in
    this mail and in the next ones (Content-Type, MIME-Version and Date repeat)."""

    def __init__(self) -> None:
        super().__init__()
        self._parsed = lru_cache(maxsize=2048)(super().__call__)

    def __call__(self, name: str, value: str) -> BaseHeader:
        return self._parsed(name, value)


# policy.default, whose header objects are built once per name and value.
READING_POLICY = policy.default.clone(header_factory=_HeadersParsedOnce())


class NotMailError(ValueError):
    """Bytes that cannot be read as mail at all."""


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedMail:
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    subject: str
    from_name: str
    from_address: str
    reply_to: str
    to: list[str]
    cc: list[str]
    date: str
    text: str
    html: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto: str = ""  # "", "auto-reply" or "bounce"
    bounced_message_ids: list[str] = field(default_factory=list)
    bounce_diagnostic: str = ""
    defects: list[str] = field(default_factory=list)
    content_hash: str = ""

    @property
    def key(self) -> str:
        """What makes two copies of a mail the same mail (cross-mailbox dedupe)."""
        return self.message_id or f"sha256:{self.content_hash}"


def _header(msg: Message, name: str) -> str:
    """A header's decoded text; the first of duplicates; '' when missing or unreadable."""
    try:
        value = msg.get(name)
    except Exception:  # a header the policy cannot parse
        value = None
        raw = (
            [v for k, v in msg.raw_items() if k.lower() == name.lower()]
            if hasattr(msg, "raw_items")
            else []
        )
        if raw:
            value = raw[0]
    if value is None:
        return ""
    try:
        return str(value).strip()
    except Exception:
        return _decode_words(value)


def _decode_words(value: Any) -> str:
    try:
        return str(make_header(decode_header(str(value)))).strip()
    except Exception:
        return str(value).encode("utf-8", "replace").decode("utf-8").strip()


def _message_ids(value: str) -> list[str]:
    return [found.lower() for found in MESSAGE_ID_RE.findall(value or "")]


def _addresses(msg: Message, name: str) -> list[str]:
    try:
        values = [str(v) for v in msg.get_all(name, [])]
    except Exception:
        return []
    return [addr.lower() for _n, addr in getaddresses(values) if "@" in addr]


def _part_text(part: Message) -> str:
    """A text part's content in any charset: unknown or lying charsets fall back to
    UTF-8, then Latin-1, rather than losing the text."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except Exception:  # noqa: S110 - unknown charset, bad transfer encoding: decode by hand
        pass
    payload = part.get_payload(decode=True) or b""
    if isinstance(payload, str):
        return payload
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "head", "title"}:
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "head", "title"} and self.skip:
            self.skip -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:
        return re.sub(r"<[^>]+>", " ", html)
    text = "".join(extractor.parts)
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def sanitize_html(html: str) -> str:
    """What a browser may see of inbound HTML: nh3's allow-list, cid: images kept."""
    if not html:
        return ""
    return nh3.clean(html, url_schemes={"http", "https", "mailto", "cid"})


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return _decode_words(name).replace("/", "_").replace("\\", "_")[:200] if name else ""


def _leaves(part: Message) -> Iterator[Message]:
    """Every leaf part; an attached mail (message/rfc822) is one leaf, not more text."""
    if part.get_content_type().startswith("message/") or not part.is_multipart():
        yield part
        return
    payload = part.get_payload()
    for sub in payload if isinstance(payload, list) else []:
        if isinstance(sub, Message):
            yield from _leaves(sub)


def _walk(msg: Message, mail: ParsedMail, bodies: dict[str, list[str]]) -> None:
    for part in _leaves(msg):
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message):
                if mail_is_report(msg):
                    mail.bounced_message_ids += _message_ids(_header(inner, "Message-ID"))
                mail.attachments.append(
                    ParsedAttachment(
                        filename=_filename(part) or "forwarded.eml",
                        content_type=ctype,
                        data=inner.as_bytes(policy=policy.SMTP),
                    )
                )
            continue
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        if ctype in {"message/delivery-status"}:
            _read_delivery_status(part, mail)
            continue
        if ctype in {"text/plain", "text/html"} and disposition != "attachment" and not filename:
            bodies[ctype].append(_part_text(part))
            continue
        if ctype == "text/rfc822-headers":
            mail.bounced_message_ids += _message_ids(_header_block(_part_text(part)))
            continue
        data = part.get_payload(decode=True)
        if data is None:
            continue
        content_id = (part.get("Content-ID") or "").strip().strip("<>")
        mail.attachments.append(
            ParsedAttachment(
                filename=filename or _default_name(ctype),
                content_type=ctype,
                data=data if isinstance(data, bytes) else str(data).encode(),
                content_id=content_id,
                inline=disposition == "inline"
                or (bool(content_id) and disposition != "attachment"),
            )
        )


def _header_block(text: str) -> str:
    match = re.search(r"^message-id:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
    return match.group(1) if match else ""


def _default_name(ctype: str) -> str:
    extension = {
        "image/png": "png",
        "image/jpeg": "jpg",
        "image/gif": "gif",
        "message/rfc822": "eml",
    }
    return f"attachment.{extension.get(ctype, 'bin')}"


def _read_delivery_status(part: Message, mail: ParsedMail) -> None:
    """RFC 3464: the per-recipient fields sit in a text payload (or sub-messages)."""
    payload = part.get_payload()
    text = "\n".join(str(sub) for sub in payload) if isinstance(payload, list) else _part_text(part)
    for name in ("Diagnostic-Code", "Status"):
        match = re.search(rf"^{name}:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
        if match:
            mail.bounce_diagnostic = (mail.bounce_diagnostic + " " + match.group(1).strip()).strip()


def mail_is_report(msg: Message) -> bool:
    """RFC 3464: a delivery status notification."""
    return (
        msg.get_content_type() == "multipart/report"
        and str(msg.get_param("report-type") or "").lower() == "delivery-status"
    )


def _classify(msg: Message, mail: ParsedMail) -> None:
    auto_submitted = _header(msg, "Auto-Submitted").lower()
    precedence = _header(msg, "Precedence").lower()
    sender = (mail.from_address or _header(msg, "Return-Path")).lower()
    is_report = mail_is_report(msg)
    if is_report or sender.split("@")[0] in BOUNCE_SENDERS:
        mail.auto = "bounce"
        return
    if (
        (auto_submitted and auto_submitted != "no")
        or precedence in {"bulk", "junk", "list", "auto_reply"}
        or _header(msg, "X-Autoreply")
        or _header(msg, "X-Autorespond")
        or _header(msg, "X-Auto-Response-Suppress").lower() in {"all", "oof"}
    ):
        mail.auto = "auto-reply"


def parse(raw: bytes) -> ParsedMail:
    if not raw or not raw.strip():
        raise NotMailError("empty message")
    msg: EmailMessage = BytesParser(policy=READING_POLICY).parsebytes(raw)  # type: ignore[assignment]
    known = {"from", "to", "subject", "date", "message-id", "received", "content-type", "sender"}
    if not known & {name.lower() for name in msg}:
        raise NotMailError("no mail headers")
    from_value = _header(msg, "From")
    from_name, from_address = parseaddr(from_value)
    if not from_address:
        from_name, from_address = parseaddr(_header(msg, "Sender") or _header(msg, "Return-Path"))
    message_ids = _message_ids(_header(msg, "Message-ID"))
    mail = ParsedMail(
        message_id=message_ids[0][:255] if message_ids else "",
        in_reply_to=_message_ids(_header(msg, "In-Reply-To")),
        references=_message_ids(_header(msg, "References")),
        subject=_header(msg, "Subject").replace("\r", "").replace("\n", " ")[:500],
        from_name=_decode_words(from_name)[:255] if from_name else "",
        from_address=from_address.strip().lower()[:255],
        reply_to=parseaddr(_header(msg, "Reply-To"))[1].lower(),
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        date=_header(msg, "Date"),
        text="",
        html="",
    )
    bodies: dict[str, list[str]] = {"text/plain": [], "text/html": []}
    _walk(msg, mail, bodies)
    _classify(msg, mail)
    html = "\n".join(bodies["text/html"])
    mail.html = sanitize_html(html)
    mail.text = "\n\n".join(t.strip() for t in bodies["text/plain"]).strip() or html_to_text(html)
    mail.text, mail.html = strip_nul(mail.text), strip_nul(mail.html)
    mail.subject, mail.from_name = strip_nul(mail.subject), strip_nul(mail.from_name)
    mail.defects = sorted({type(d).__name__ for part in msg.walk() for d in part.defects})
    mail.bounced_message_ids = list(dict.fromkeys(mail.bounced_message_ids))
    # Copies of one mail in two mailboxes differ in their Received/Delivered-To lines:
    # without a Message-ID, the hash covers what the sender wrote, not the trace.
    hasher = hashlib.sha256()
    for piece in (mail.from_address, mail.date, mail.subject, mail.text):
        hasher.update(piece.encode("utf-8", "replace") + b"\0")
    mail.content_hash = hasher.hexdigest()
    return mail


def header_summary(raw: bytes) -> dict[str, str]:
    """Best-effort headers of mail that could not be parsed or was too large."""
    try:
        msg = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
    except Exception:
        return {}
    return {
        name: _decode_words(msg.get(name, ""))[:500]
        for name in ("From", "Subject", "Message-ID", "Date", "In-Reply-To", "References")
    }


def strip_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL, and no reader needs it."""
    return text.replace("\x00", "")


def conversation_token(subject: str) -> int | None:
    match = TOKEN_RE.search(subject or "")
    return int(match.group(1)) if match else None


def reply_subject(subject: str, conversation_id: int) -> str:
    base = REPLY_PREFIX_RE.sub("", subject or "").strip()
    token = f"[#{conversation_id}]"
    if token not in base:
        base = f"{base} {token}".strip()
    return f"Re: {base}"
