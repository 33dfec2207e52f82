# ruff: noqa: RUF001 - real customers write full-width commas and en dashes
"""A corpus of real-world mail delivered into Dovecot ends up in the right
conversations with the right contacts, and a second sync changes nothing."""

from __future__ import annotations

import pytest

from hub.actions import EmailInput, do_create_contact
from hub.models import Contact
from inbox.models import Attachment, Conversation, Message
from mail import worker
from mail.models import OutboxItem
from tests.mail import corpus
from tests.mail.conftest import MakeMailbox
from tests.mail.servers import Dovecot


def by_id(message_id: str) -> Message:
    return Message.objects.get(metadata__mail__message_id=message_id.lower())


def text_of(message_id: str) -> str:
    return by_id(message_id).body_text


@pytest.fixture
def kari(people: object) -> Contact:
    return do_create_contact("Kari Nordmann", emails=[EmailInput("kari@fjord.test")])


def test_a_varied_corpus_lands_in_the_right_conversations_with_the_right_contacts(
    make_mailbox: MakeMailbox, dovecot: Dovecot, kari: Contact
) -> None:
    support = make_mailbox("support-email")
    sales = make_mailbox("sales-email")
    first = [
        corpus.plain(
            sender="Kari Nordmann <kari@fjord.test>",
            subject="Pallets for Friday",
            body="We need 200 pallets before Friday.",
            message_id="<kari-1@fjord.test>",
        ),
        corpus.charset_mail(
            "utf-8",
            "Hei, kan dere levere på fredag? Blåbær!",
            "Levering på fredag",
            "<no@fjord.test>",
            "=?utf-8?q?=C3=85se?= <ase@fjord.test>",
        ),
        corpus.charset_mail(
            "iso-8859-2",
            "Zażółć gęślą jaźń, proszę o termin.",
            "Termin dostawy części",
            "<pl@polska.test>",
            "Jan <jan@polska.test>",
        ),
        corpus.charset_mail(
            "gb2312", "您好，我们想了解价格。", "价格咨询", "<zh@china.test>", "Li <li@china.test>"
        ),
        corpus.charset_mail(
            "iso-8859-15",
            "Tere! Arve on vale, šokolaad ja õun.",
            "Arve",
            "<et@eesti.test>",
            "Mari <mari@eesti.test>",
        ),
        corpus.charset_mail(
            "windows-1252",
            "Café order – “urgent”",
            "Café",
            "<cp@cafe.test>",
            "Anne <anne@cafe.test>",
        ),
        corpus.charset_mail(
            "koi8-r", "Здравствуйте, счёт неверный.", "Счёт", "<ru@ru.test>", "Ivan <ivan@ru.test>"
        ),
        corpus.html_only("<html@shop.test>"),
        corpus.alternative_with_attachment("<kari-2@fjord.test>"),
        corpus.inline_image("<photo@fjord.test>"),
        corpus.big_attachment("<biglog@files.test>"),
        corpus.oversized("<huge@files.test>"),
        corpus.malformed_multipart("<broken@old.test>"),
        corpus.unknown_charset("<legacy@old.test>"),
        corpus.duplicated_headers("<twice@dup.test>"),
        corpus.no_from("<nofrom@anon.test>"),
        corpus.not_mail(),
        corpus.nested("<fwd@fjord.test>"),
        corpus.plain(
            sender="Nils <nils@nomsgid.test>",
            subject="No id",
            body="I have no Message-ID.",
            message_id=None,
        ),
        corpus.auto_reply(
            "<ooo1@polska.test>", ("Auto-Submitted", "auto-replied"), "Jan <jan@polska.test>"
        ),
        corpus.auto_reply("<ooo2@auto.test>", ("X-Autoreply", "yes"), "Bot <bot@auto.test>"),
        corpus.auto_reply("<news@list.test>", ("Precedence", "bulk"), "News <news@list.test>"),
        corpus.plain_daemon_bounce("<daemon@relay.test>"),
        corpus.reply(
            sender="Kari Nordmann <kari@fjord.test>",
            subject="Re: Pallets for Friday",
            body="Also 20 boxes, please.",
            message_id="<kari-3@fjord.test>",
            in_reply_to="<kari-1@fjord.test>",
            references="<kari-1@fjord.test>",
            client="Mozilla Thunderbird",
        ),
        corpus.reply(
            sender="Lars <lars@fjord.test>",
            subject="Re: Pallets for Friday",
            body="Adding myself to this.",
            message_id="<lars-1@fjord.test>",
            references="<kari-1@fjord.test> <kari-3@fjord.test>",
        ),
        corpus.plain(
            sender="Other <other@elsewhere.test>",
            subject="Pallets for Friday",
            body="Unrelated mail with the same subject.",
            message_id="<same-subject@elsewhere.test>",
        ),
    ]
    dovecot.deliver(support.imap_user, *first)
    dovecot.deliver(
        support.imap_user,
        corpus.plain(
            sender="Seen <seen@x.test>",
            subject="Already read",
            body="A colleague read me.",
            message_id="<seen@x.test>",
        ),
        flags=(b"\\Seen",),
    )
    to_both = corpus.plain(
        sender="Kari Nordmann <kari@fjord.test>",
        subject="For both teams",
        body="Sales and support, hi.",
        message_id="<both@fjord.test>",
        to="support@hub.test",
        cc="sales@hub.test",
    )
    no_id_both = corpus.plain(
        sender="Nora <nora@fjord.test>",
        subject="No id, two copies",
        body="Sent to you both.",
        message_id=None,
        to="support@hub.test, sales@hub.test",
    )
    dovecot.deliver(support.imap_user, to_both, no_id_both)
    dovecot.deliver(
        sales.imap_user,
        b"Delivered-To: sales@hub.test\r\n" + to_both,
        b"Delivered-To: sales@hub.test\r\n" + no_id_both,
    )

    worker.run_once()

    jan_conversation = by_id("<pl@polska.test>").conversation
    outlook_reply = corpus.reply(
        sender="Jan <jan@polska.test>",
        subject=f"AW: Termin dostawy części [#{jan_conversation.pk}]",
        body="Czy jest już termin?",
        message_id="<pl-2@polska.test>",
        client="Microsoft Outlook 16.0",
    )
    kari2_reply = corpus.reply(
        sender="Kari Nordmann <kari@fjord.test>",
        subject="SV: Pallets quote",
        body="Signed quote.",
        message_id="<kari-4@fjord.test>",
        in_reply_to="<kari-2@fjord.test>",
        client="Apple Mail",
    )
    dovecot.deliver(support.imap_user, outlook_reply, kari2_reply)
    worker.run_once()

    total = len(first) + 1 + 2 + 2 + 2
    assert total >= 30
    # Every mail delivered is one message, except the copies sent to both mailboxes.
    assert Message.objects.count() == total - 2

    # Threading: In-Reply-To (Thunderbird), References only (a colleague on Cc),
    # the [#id] token (Outlook without headers); a shared subject alone is not enough.
    kari_thread = by_id("<kari-1@fjord.test>").conversation
    assert by_id("<kari-3@fjord.test>").conversation == kari_thread
    assert by_id("<lars-1@fjord.test>").conversation == kari_thread
    assert by_id("<same-subject@elsewhere.test>").conversation != kari_thread
    assert by_id("<pl-2@polska.test>").conversation == jan_conversation
    assert by_id("<kari-4@fjord.test>").conversation == by_id("<kari-2@fjord.test>").conversation
    assert by_id("<kari-2@fjord.test>").conversation != kari_thread

    # Contacts: a known address links the contact, an unknown one creates it.
    assert kari_thread.contact == kari
    assert by_id("<kari-2@fjord.test>").conversation.contact == kari
    assert Contact.objects.filter(emails__address="kari@fjord.test").count() == 1
    assert Contact.objects.get(emails__address="lars@fjord.test").name == "Lars"
    assert Contact.objects.get(emails__address="ase@fjord.test").name == "Åse"
    assert not Contact.objects.filter(emails__address="postmaster@relay.test").exists()

    # Charsets and encoded words.
    assert "Blåbær" in text_of("<no@fjord.test>")
    assert by_id("<no@fjord.test>").conversation.subject == "Levering på fredag"
    assert "Zażółć gęślą jaźń" in text_of("<pl@polska.test>")
    assert "您好" in text_of("<zh@china.test>")
    assert "šokolaad ja õun" in text_of("<et@eesti.test>")
    assert "Café order – “urgent”" in text_of("<cp@cafe.test>")
    assert "счёт неверный" in text_of("<ru@ru.test>")
    assert "unknown charset" in text_of("<legacy@old.test>")

    # HTML-only mail: sanitized HTML, plain text derived from it.
    html_mail = by_id("<html@shop.test>")
    assert "Invoice #881 is attached." in html_mail.body_text
    assert "alert" not in html_mail.body_text
    assert "<script" not in html_mail.body_html
    assert "onclick" not in html_mail.body_html
    assert "<b>#881</b>" in html_mail.body_html

    # Attachments, inline images and the size limit.
    quote = by_id("<kari-2@fjord.test>")
    assert [a.filename for a in quote.attachments.all()] == ["tilbud-æøå.pdf"]
    assert quote.attachments.get().file.read() == corpus.PDF
    photo = by_id("<photo@fjord.test>").attachments.get()
    assert (photo.content_id, photo.content_type) == ("damage1", "image/png")
    big = by_id("<biglog@files.test>")
    assert [a.filename for a in big.attachments.all()] == ["small.txt"]
    assert big.metadata["attachments_dropped"][0]["filename"] == "huge.log"
    forwarded = by_id("<fwd@fjord.test>")
    assert "Forwarding" in forwarded.body_text
    assert forwarded.attachments.filter(content_type="message/rfc822").exists()

    # Oversized and unreadable mail is recorded with its reason, never dropped.
    huge = by_id("<huge@files.test>")
    assert "larger than the limit" in huge.metadata["flagged"]
    garbage = Message.objects.get(
        metadata__has_key="flagged", attachments__filename="original.eml", sender_address=""
    )
    # (Dovecot itself replaces NUL bytes on APPEND; the rest is kept as the server has it.)
    assert b"binary garbage" in garbage.attachments.get().file.read()
    assert "never closed" in text_of("<broken@old.test>")
    assert by_id("<twice@dup.test>").conversation.subject == "First subject"
    assert by_id("<nofrom@anon.test>").sender_address == ""
    assert Message.objects.filter(sender_address="nils@nomsgid.test").count() == 1

    # Auto-replies and bounces are recorded, never answered.
    for message_id, kind in [
        ("<ooo1@polska.test>", "auto-reply"),
        ("<ooo2@auto.test>", "auto-reply"),
        ("<news@list.test>", "auto-reply"),
        ("<daemon@relay.test>", "bounce"),
    ]:
        assert by_id(message_id).metadata["auto"] == kind
    assert not OutboxItem.objects.exists()

    # Cross-mailbox dedupe: by Message-ID, and by content where there is none.
    assert Message.objects.filter(metadata__mail__message_id="<both@fjord.test>").count() == 1
    assert Message.objects.filter(sender_address="nora@fjord.test").count() == 1

    # The hub reads by UID, never touching \Seen.
    assert Message.objects.filter(metadata__mail__message_id="<seen@x.test>").count() == 1
    client = dovecot.client(support.imap_user)
    client.select_folder("INBOX", readonly=True)
    assert len(client.search(["UNSEEN"])) == len(first) + 2 + 2
    client.logout()

    # A second run changes nothing.
    messages, conversations, contacts = (
        Message.objects.count(),
        Conversation.objects.count(),
        Contact.objects.count(),
    )
    attachments = Attachment.objects.count()
    worker.run_once()
    assert (Message.objects.count(), Conversation.objects.count(), Contact.objects.count()) == (
        messages,
        conversations,
        contacts,
    )
    assert Attachment.objects.count() == attachments
