"""mail.parsing reads each header once: email.policy.default parses a header again
on every access, and a plain mail's Content-Type alone was read about ten times."""

from __future__ import annotations

from email.parser import BytesParser

from mail import parsing
from tests.mail import corpus


def test_a_header_read_again_is_not_parsed_again() -> None:
    raw = corpus.alternative_with_attachment("<quote@fjord.test>")
    msg = BytesParser(policy=parsing.READING_POLICY).parsebytes(raw)

    assert msg["Content-Type"] is msg["Content-Type"]
    assert msg.get_content_type() == "multipart/mixed"
