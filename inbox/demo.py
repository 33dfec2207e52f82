"""Demo inboxes and a few conversations (DESIGN §4), added after the core demo data."""

from __future__ import annotations

from typing import Any

from hub.demo import DemoCore
from inbox import actions
from inbox.models import (
    AssignmentStrategy,
    CannedResponse,
    Channel,
    Inbox,
    RoutingRule,
    TeamAssignment,
)

DEMO_PHONE_NUMBER = "+15005550006"

# (channel, country of the customer writing, text)
CONVERSATIONS = [
    (
        "chat",
        "US",
        "Hi! Our order #4411 arrived with a cracked housing. Can you send a replacement?",
    ),
    ("email", "NO", "Hei, vi trenger et tilbud på 200 paller med emballasje før fredag."),
    ("email", "PL", "Dzień dobry, czy możecie potwierdzić termin dostawy części zamiennych?"),
    ("chat", "EE", "Tere! Kas saate arve uuesti saata? Eelmine oli vale summaga."),
    ("email", "CN", "您好，我们想了解贵公司产品的价格和交货时间。"),
]


def seed_inbox_demo(sender: Any, core: DemoCore, stdout: Any, **kwargs: Any) -> None:
    # key -> (name, channel, address); the contract names (DESIGN §4) are fixed.
    specs = {
        "support-email": ("Support e-mail", Channel.EMAIL, "support@demo.test"),
        "phone": ("Support line", Channel.PHONE, DEMO_PHONE_NUMBER),
        "sms": ("Support SMS", Channel.SMS, DEMO_PHONE_NUMBER),
        "demo": ("Website chat", Channel.CHAT, ""),
    }
    created = {
        key: Inbox.objects.get_or_create(
            key=key,
            defaults={
                "name": name,
                "channel": channel,
                "address": address,
                "default_team": core.support,
            },
        )[0]
        for key, (name, channel, address) in specs.items()
    }
    # Routing (issue 7): one rule to show the trace, and automatic assignment in
    # Support (queued until an agent's console is online). Sales intent is built in.
    RoutingRule.objects.get_or_create(
        name="Gold accounts",
        defaults={
            "position": 10,
            "conditions": {"tier": ["gold", "platinum"]},
            "actions": {"priority": "high", "add_tags": ["gold"]},
        },
    )
    TeamAssignment.objects.get_or_create(
        team=core.support, defaults={"strategy": AssignmentStrategy.ROUND_ROBIN}
    )
    email, chat = created["support-email"], created["demo"]
    inboxes = {"chat": chat, "email": email}
    for index, (channel, country, text) in enumerate(CONVERSATIONS):
        contact = next((c for c in core.contacts if c.country == country), None)
        received = actions.receive_message(
            inboxes[channel],
            body_text=text,
            external_id=f"demo-{index}",
            sender_name=contact.name if contact else "Visitor",
            sender_address=contact.emails.first().address
            if contact and contact.emails.exists()
            else "",
            contact=contact,
            subject=text[:60],
            thread_key=f"demo:{index}",
        )
        if index == 0 and received.created:
            actions.do_share(received.conversation, core.partner_org, by=core.supervisor)
    for shortcut, title, body in CANNED:
        CannedResponse.objects.get_or_create(
            shortcut=shortcut, defaults={"title": title, "body": body}
        )
    stdout.write("seed_demo: inboxes and conversations ready")


# Canned responses (issue 8): typed as /shortcut in the console's composer.
CANNED = [
    (
        "thanks",
        "Thanks, we are on it",
        "Thanks, {{contact.first_name}}! We are looking into it and will get back to you today.",
    ),
    (
        "hello",
        "Greeting",
        "Hello {{contact.first_name}}, this is {{agent.first_name}} from support.",
    ),
    (
        "tracking",
        "Tracking link",
        "Hi {{contact.first_name}}, you can follow your delivery with the tracking link "
        "in your order confirmation.",
    ),
]
