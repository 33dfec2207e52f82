"""Mail as real clients write it, built byte by byte where the standard library would
tidy it up: several charsets, attachments, replies from different clients,
auto-replies, bounces and malformed messages."""

from __future__ import annotations

import base64
from email.message import EmailMessage

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DATE = "Mon, 23 Nov 2026 10:00:00 +0000"


def crlf(text: str) -> bytes:
    return text.strip("\n").replace("\n", "\r\n").encode() + b"\r\n"


def plain(
    *,
    sender: str,
    subject: str,
    body: str,
    message_id: str | None,
    to: str = "support@hub.test",
    cc: str = "",
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = DATE
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def charset_mail(charset: str, text: str, subject: str, message_id: str, sender: str) -> bytes:
    encoded_subject = base64.b64encode(subject.encode(charset)).decode()
    body = base64.b64encode(text.encode(charset)).decode()
    return crlf(
        f"""
From: {sender}
To: support@hub.test
Subject: =?{charset}?B?{encoded_subject}?=
Date: {DATE}
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: text/plain; charset="{charset}"
Content-Transfer-Encoding: base64

{body}
"""
    )


def html_only(message_id: str) -> bytes:
    return crlf(
        f"""
From: Web Shop <orders@shop.test>
To: support@hub.test
Subject: Your invoice
Date: {DATE}
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head><style>p{{color:red}}</style><script>alert('x')</script></head>
<body><p>Invoice <b>#881</b> is attached.</p><p onclick="steal()">Pay by Friday</p>
<img src="https://tracker.test/p.gif"></body></html>
"""
    )


def alternative_with_attachment(message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Kari Nordmann <kari@fjord.test>"
    msg["To"] = "support@hub.test"
    msg["Subject"] = "Pallets quote"
    msg["Date"] = DATE
    msg["Message-ID"] = message_id
    msg.set_content("Quote attached, see the PDF.")
    msg.add_alternative("<p>Quote attached, see the <i>PDF</i>.</p>", subtype="html")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="tilbud-æøå.pdf")
    return msg.as_bytes()


def inline_image(message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ola <ola@fjord.test>"
    msg["To"] = "support@hub.test"
    msg["Subject"] = "Photo of the damage"
    msg["Date"] = DATE
    msg["Message-ID"] = message_id
    msg.set_content("See the photo.")
    msg.add_alternative('<p>See the photo:</p><img src="cid:damage1">', subtype="html")
    html = msg.get_payload()[1]
    html.add_related(PNG, maintype="image", subtype="png", cid="<damage1>", filename="damage.png")
    return msg.as_bytes()


def big_attachment(message_id: str, size: int = 30_000) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Big <big@files.test>"
    msg["To"] = "support@hub.test"
    msg["Subject"] = "Huge log file"
    msg["Date"] = DATE
    msg["Message-ID"] = message_id
    msg.set_content("The log is attached.")
    msg.add_attachment(b"x" * size, maintype="text", subtype="plain", filename="huge.log")
    msg.add_attachment(b"small", maintype="text", subtype="plain", filename="small.txt")
    return msg.as_bytes()


def oversized(message_id: str, size: int = 80_000) -> bytes:
    return plain(
        sender="Flood <flood@files.test>",
        subject="Scanned contract",
        body="A" * size,
        message_id=message_id,
    )


def malformed_multipart(message_id: str) -> bytes:
    return crlf(
        f"""
From: Broken Client <broken@old.test>
To: support@hub.test
Subject: Broken MIME
Date: {DATE}
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="NEVER-CLOSED"

--NEVER-CLOSED
Content-Type: text/plain; charset=utf-8

The text of a mail whose multipart is never closed.
--NEVER-CLOSED
Content-Type: application/octet-stream; name="data.bin"
Content-Transfer-Encoding: base64

!!!not base64!!!
"""
    )


def unknown_charset(message_id: str) -> bytes:
    return crlf(
        f"""
From: Legacy <legacy@old.test>
To: support@hub.test
Subject: =?x-unknown-charset?Q?Strange?= subject
Date: {DATE}
Message-ID: {message_id}
Content-Type: text/plain; charset="x-unknown-charset"

Plain words in an unknown charset.
"""
    )


def duplicated_headers(message_id: str) -> bytes:
    return crlf(
        f"""
From: Twice <twice@dup.test>
To: support@hub.test
Subject: First subject
Subject: Second subject
Date: {DATE}
Message-ID: {message_id}
Message-ID: <second-{message_id.strip("<>")}>

Two subjects, two ids.
"""
    )


def no_from(message_id: str) -> bytes:
    return crlf(
        f"""
To: support@hub.test
Subject: Nobody sent this
Date: {DATE}
Message-ID: {message_id}

A mail without a From line.
"""
    )


def not_mail() -> bytes:
    return b"\x00\x01\x02 binary garbage \xff\xfe\r\n\r\n\x00"


def nested(message_id: str) -> bytes:
    inner = EmailMessage()
    inner["From"] = "Supplier <orders@supplier.test>"
    inner["Subject"] = "Original order"
    inner["Message-ID"] = "<inner-order@supplier.test>"
    inner.set_content("Order 77 confirmed.")
    msg = EmailMessage()
    msg["From"] = "Per <per@fjord.test>"
    msg["To"] = "support@hub.test"
    msg["Subject"] = "Fwd: Original order"
    msg["Date"] = DATE
    msg["Message-ID"] = message_id
    msg.set_content("Forwarding the supplier's confirmation.")
    msg.add_alternative("<p>Forwarding the supplier's confirmation.</p>", subtype="html")
    msg.add_attachment(inner)
    return msg.as_bytes()


def reply(
    *,
    sender: str,
    subject: str,
    body: str,
    message_id: str,
    in_reply_to: str = "",
    references: str = "",
    client: str = "",
) -> bytes:
    headers = {}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
    if references:
        headers["References"] = references
    if client:
        headers["User-Agent" if "Thunderbird" in client else "X-Mailer"] = client
    return plain(sender=sender, subject=subject, body=body, message_id=message_id, headers=headers)


def auto_reply(message_id: str, header: tuple[str, str], sender: str) -> bytes:
    return plain(
        sender=sender,
        subject="Out of office",
        body="I am away until Monday.",
        message_id=message_id,
        headers=dict([header]),
    )


def delivery_report(original_message_id: str, message_id: str, recipient: str) -> bytes:
    """An RFC 3464 bounce for one of our own mails."""
    return crlf(
        f"""
From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>
To: support@hub.test
Subject: Undelivered Mail Returned to Sender
Date: {DATE}
Message-ID: {message_id}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNCE"

--BOUNCE
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered to {recipient}.

--BOUNCE
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.test

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown

--BOUNCE
Content-Type: text/rfc822-headers

From: Support <support@hub.test>
To: {recipient}
Subject: Re: Help
Message-ID: {original_message_id}

--BOUNCE--
"""
    )


def plain_daemon_bounce(message_id: str) -> bytes:
    return plain(
        sender="postmaster@relay.test",
        subject="Delivery failure",
        body="The mail to nobody@relay.test could not be delivered.",
        message_id=message_id,
    )
