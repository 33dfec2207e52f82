"""A customer worth routing: a gold, Norwegian account with an open deal."""

from __future__ import annotations

from decimal import Decimal

from hub.actions import EmailInput, PhoneInput, do_create_contact, do_save_deal
from hub.models import Account, Contact, Deal, Tag, User
from hub.models.crm import AccountTier
from inbox.models import RoutingRule
from inbox.routing import do_save_routing_rule


def gold_customer(owner: User | None = None) -> Contact:
    account = Account.objects.create(
        name="Nordlys AS",
        tier=AccountTier.GOLD,
        country="NO",
        language="nb",
        employees=500,
        owner=owner,
    )
    account.tags.add(Tag.objects.create(name="vip"))
    contact = do_create_contact(
        "Olga Nordmann",
        account=account,
        phones=[PhoneInput("+47 912 34 567")],
        emails=[EmailInput("olga@nordlys.test")],
    )
    do_save_deal(Deal(title="Fleet renewal", account=account, value=Decimal("20000")))
    contact.refresh_from_db()
    return contact


def rule(by: User, name: str, conditions: dict, actions: dict, **fields: object) -> RoutingRule:
    return do_save_routing_rule(
        RoutingRule(name=name, conditions=conditions, actions=actions, **fields), by=by
    )
