"""Markdown in, safe HTML out; @mentions found in the text."""

from __future__ import annotations

import re

import markdown
import nh3

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "b", "i", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody",
    "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
# "@bob@hub.test": a mention names the person by their sign-in address.
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def render_markdown(body: str) -> str:
    html = markdown.markdown(body, extensions=["fenced_code", "tables", "sane_lists"])
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def mentioned_addresses(body: str) -> list[str]:
    seen: list[str] = []
    for match in MENTION.finditer(body):
        address = match.group(1).rstrip(".").lower()
        if address not in seen:
            seen.append(address)
    return seen
