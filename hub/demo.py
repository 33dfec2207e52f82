"""Demo data of the CRM core: a small company, its teams, logins and customers.

Deterministic (one seeded random generator) and idempotent: running it again
finds what it made before and adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import phonenumbers
from django.db import transaction
from django.utils import timezone

from hub import actions
from hub.models import (
    Account,
    Contact,
    ContactPhone,
    Deal,
    DealStage,
    PartnerOrganization,
    Role,
    Tag,
    Task,
    Team,
    TeamKind,
    TeamMembership,
    User,
)

DEMO_PASSWORD = "demo"  # noqa: S105 - demo data only, documented in the README


@dataclass
class DemoCore:
    support: Team
    sales: Team
    partner_org: PartnerOrganization
    agent: User
    salesperson: User
    supervisor: User
    partner: User
    accounts: list[Account] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)


# Per country: company names, first names, last names, language. Real diacritics,
# because search and sorting must cope with them.
COUNTRIES: dict[str, dict[str, list[str] | str]] = {
    "NO": {
        "companies": [
            "Fjordkraft Logistikk",
            "Bergen Marine Utstyr",
            "Trøndelag Bygg",
            "Øst Papir",
        ],
        "first": ["Øyvind", "Åse", "Kjersti", "Bjørn", "Sigrid", "Håkon", "Ingrid", "Ståle"],
        "last": ["Hansen", "Johansen", "Bråthen", "Søreide", "Lærum", "Aasheim", "Dæhlie"],
        "language": "nb",
    },
    "PL": {
        "companies": ["Kraków Części", "Wrocław Systemy", "Gdańsk Żegluga"],
        "first": ["Łukasz", "Małgorzata", "Zofia", "Paweł", "Agnieszka", "Krzysztof"],
        "last": ["Wójcik", "Kowalczyk", "Zieliński", "Szymańska", "Woźniak", "Łuczak"],
        "language": "pl",
    },
    "EE": {
        "companies": ["Tallinna Tarne", "Tartu Tehnika"],
        "first": ["Tõnis", "Jüri", "Mari", "Kädi", "Märt", "Liis"],
        "last": ["Tamm", "Saar", "Sepp", "Mägi", "Kask", "Pärn"],
        "language": "et",
    },
    "CN": {
        "companies": ["深圳华通电子", "上海远航物流", "北京金石科技"],
        "first": ["伟", "娜", "敏", "静", "磊", "洋"],
        "last": ["王", "李", "张", "刘", "陈", "杨"],
        "language": "zh",
    },
    "US": {
        "companies": [
            "Acme Robotics",
            "Blue Ridge Foods",
            "Harbor Freight Partners",
            "Summit Health",
        ],
        "first": ["Emily", "James", "Olivia", "Michael", "Sophia", "Daniel", "Ava", "Ethan"],
        "last": ["Johnson", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Anderson"],
        "language": "en",
    },
    "GB": {
        "companies": ["Thames Valley Tools", "Pennine Textiles", "Clyde Engineering"],
        "first": ["Oliver", "Amelia", "Harry", "Isla", "George", "Freya"],
        "last": ["Smith", "Taylor", "Brown", "Wilson", "Evans", "Thomas"],
        "language": "en",
    },
    "DE": {
        "companies": [
            "Müller Maschinenbau",
            "Berliner Büroservice",
            "Schäfer & Söhne",
            "Rhein Chemie Handel",
        ],
        "first": ["Jürgen", "Sabine", "Lukas", "Anja", "Günther", "Lena"],
        "last": ["Müller", "Schmidt", "Weiß", "Köhler", "Groß", "Bäcker"],
        "language": "de",
    },
    "FR": {
        "companies": ["Lyon Équipements", "Bordeaux Vins Export"],
        "first": ["Élodie", "François", "Chloé", "Jérôme", "Anaïs"],
        "last": ["Lefèvre", "Dubois", "Mercier", "Bézier", "Girard"],
        "language": "fr",
    },
    "SE": {
        "companies": ["Göteborg Hamnservice", "Malmö Möbler"],
        "first": ["Åsa", "Björn", "Linnéa", "Göran", "Märta"],
        "last": ["Lindström", "Åberg", "Nyström", "Öberg", "Sjögren"],
        "language": "sv",
    },
}

INDUSTRIES = [
    "Manufacturing",
    "Logistics",
    "Retail",
    "Healthcare",
    "Construction",
    "Electronics",
    "Food",
]
TIERS = ["standard", "standard", "silver", "silver", "gold", "platinum"]
TAGS = ["vip", "reseller", "at-risk", "newsletter", "key-account", "trial"]


def _random_valid_number(rng: random.Random, region: str, kind: int) -> phonenumbers.PhoneNumber:
    """A number that phonenumbers accepts as valid for the region, from its own example."""
    example = phonenumbers.example_number_for_type(region, kind)
    digits = str(example.national_number)
    for _attempt in range(200):
        # Keep the area/operator prefix, vary the subscriber digits.
        keep = max(2, len(digits) - 5)
        candidate = digits[:keep] + "".join(str(rng.randint(0, 9)) for _ in digits[keep:])
        number = phonenumbers.parse("+" + str(example.country_code) + candidate)
        if phonenumbers.is_valid_number(number):
            return number
    return example


def _written_forms(number: phonenumbers.PhoneNumber, region: str) -> list[Callable[[], str]]:
    """The ways people write this number in a CRM, per the habits of its country."""
    fmt = phonenumbers.format_number
    pnf = phonenumbers.PhoneNumberFormat
    international = fmt(number, pnf.INTERNATIONAL)
    national = fmt(number, pnf.NATIONAL)
    e164 = fmt(number, pnf.E164)
    forms: list[Callable[[], str]] = [
        lambda: e164,
        lambda: international,
        lambda: national,
        lambda: "00" + international[1:],
        lambda: international.replace(" ", "-"),
        lambda: national.replace(" ", "."),
    ]
    national_prefix = phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix
    if national_prefix == "0":
        country, rest = international.split(" ", 1)
        forms.append(lambda: f"{country} (0){rest}")
        area, _sep, subscriber = national.partition(" ")
        if subscriber:
            forms.append(lambda: f"{area}/{subscriber.replace(' ', '')}")
    if region == "US":
        forms.append(lambda: f"{international} ext. {number.national_number % 900 + 100}")
        forms.append(lambda: f"1 {national}")
    return forms


def _user(
    email: str, name: str, role: str, *, partner_org: PartnerOrganization | None = None
) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email, DEMO_PASSWORD, full_name=name, role=role, partner_organization=partner_org
        )
    return user


def _member(user: User, *teams: Team) -> None:
    for team in teams:
        TeamMembership.objects.get_or_create(team=team, user=user)


@transaction.atomic
def seed_core(
    *, contacts_per_account: int = 8, progress: Callable[[str], None] = print
) -> DemoCore:
    rng = random.Random(20261123)
    support, _ = Team.objects.get_or_create(
        slug="support", defaults={"name": "Support", "kind": TeamKind.SUPPORT}
    )
    sales, _ = Team.objects.get_or_create(
        slug="sales", defaults={"name": "Sales", "kind": TeamKind.SALES}
    )
    nordic, _ = PartnerOrganization.objects.get_or_create(
        slug="nordic-supplies", defaults={"name": "Nordic Supplies"}
    )
    agent = _user("agent@demo.test", "Alex Agent", Role.AGENT)
    salesperson = _user("sales@demo.test", "Sam Sales", Role.SALES)
    supervisor = _user("supervisor@demo.test", "Sky Supervisor", Role.SUPERVISOR)
    partner = _user("partner@supplier.test", "Pia Partner", Role.PARTNER, partner_org=nordic)
    teammate = _user("agent2@demo.test", "Robin Rivera", Role.AGENT)
    _member(agent, support)
    _member(teammate, support)
    _member(salesperson, sales)
    _member(supervisor, support, sales)
    core = DemoCore(support, sales, nordic, agent, salesperson, supervisor, partner)
    progress("users and teams ready")

    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    owners = [salesperson, supervisor]
    for region, data in COUNTRIES.items():
        for company in data["companies"]:
            account, created = Account.objects.get_or_create(
                name=company,
                defaults={
                    "country": region,
                    "language": data["language"],
                    "industry": rng.choice(INDUSTRIES),
                    "tier": rng.choice(TIERS),
                    "employees": rng.choice([12, 45, 120, 380, 1500, 8200]),
                    "owner": rng.choice(owners),
                    "domain": f"{company.split()[0].lower()}.example",
                },
            )
            core.accounts.append(account)
            if not created:
                core.contacts.extend(account.contacts.all())
                continue
            account.tags.set(rng.sample(list(tags.values()), k=rng.randint(0, 2)))
            switchboard = _random_valid_number(rng, region, phonenumbers.PhoneNumberType.FIXED_LINE)
            for index in range(contacts_per_account):
                core.contacts.append(
                    _seed_contact(rng, account, region, data, index, switchboard, tags, salesperson)
                )
            _seed_deals(rng, account, salesperson)
    progress(f"{len(core.accounts)} accounts, {len(core.contacts)} contacts")
    return core


def _seed_contact(
    rng: random.Random,
    account: Account,
    region: str,
    data: dict[str, list[str] | str],
    index: int,
    switchboard: phonenumbers.PhoneNumber,
    tags: dict[str, Tag],
    owner: User,
) -> Contact:
    first, last = rng.choice(data["first"]), rng.choice(data["last"])
    name = f"{last}{first}" if region == "CN" else f"{first} {last}"
    domain = account.domain
    ascii_local = f"contact{account.pk}.{index}"
    contact = Contact.objects.create(
        name=name,
        account=account,
        country=region,
        language=str(data["language"]),
        job_title=rng.choice(["Purchasing", "CEO", "Operations", "IT", "Finance", "Logistics"]),
        owner=owner,
    )
    contact.tags.set(rng.sample(list(tags.values()), k=rng.randint(0, 1)))
    mobile = _random_valid_number(rng, region, phonenumbers.PhoneNumberType.MOBILE)
    raw = rng.choice(_written_forms(mobile, region))()
    actions.do_add_contact_phone(contact, raw, label="mobile")
    # The first three people of each account share its switchboard: caller-ID must
    # then offer the choice rather than guess.
    if index < 3:
        board_raw = rng.choice(_written_forms(switchboard, region))()
        actions.do_add_contact_phone(contact, board_raw, label="switchboard")
    actions.do_add_contact_email(contact, f"{ascii_local}@{domain}")
    return contact


def _seed_deals(rng: random.Random, account: Account, owner: User) -> None:
    now = timezone.now()
    for number in range(rng.randint(0, 3)):
        stage = rng.choice(list(DealStage.values))
        deal = Deal(
            title=f"{account.name}: order {number + 1}",
            account=account,
            contact=account.contacts.first(),
            stage=stage,
            value=Decimal(rng.choice([800, 2500, 6000, 12000, 48000, 150000])),
            currency="EUR",
            owner=owner,
            expected_close=(now + timedelta(days=rng.randint(-60, 90))).date(),
        )
        actions.do_save_deal(deal)
        if stage == DealStage.PROPOSAL:
            Task.objects.create(
                title=f"Follow up on the proposal to {account.name}",
                assignee=owner,
                due_at=now + timedelta(days=rng.randint(1, 14)),
                account=account,
                deal=deal,
            )


def seeded_phone_forms() -> list[tuple[str, str, str]]:
    """(raw, region, e164) of every seeded number: the phone tests check each one."""
    return [
        (phone.raw, phone.contact.phone_region, phone.e164)
        for phone in ContactPhone.objects.select_related("contact__account")
    ]
