"""The people every feature is tested with (healthchecks' alice/bob/charlie idea).

agent and teammate work in Support, other_agent in a third team, salesperson in
Sales, supervisor leads both, partner_a/partner_b belong to two partner orgs.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.models import PartnerOrganization, Role, Team, TeamKind, TeamMembership, User

PASSWORD = "correct horse battery staple"


@dataclass
class Personas:
    support: Team
    sales: Team
    billing: Team
    org_a: PartnerOrganization
    org_b: PartnerOrganization
    agent: User
    teammate: User
    other_agent: User
    salesperson: User
    supervisor: User
    admin: User
    partner_a: User
    partner_b: User


def make_user(
    email: str, role: str = Role.AGENT, *, teams: tuple[Team, ...] = (), **fields: object
) -> User:
    user = User.objects.create_user(
        email,
        PASSWORD,
        full_name=fields.pop("full_name", email.split("@")[0].title()),
        role=role,
        **fields,
    )
    for team in teams:
        TeamMembership.objects.create(team=team, user=user)
    return user


def make_personas() -> Personas:
    support = Team.objects.create(name="Support", slug="support", kind=TeamKind.SUPPORT)
    sales = Team.objects.create(name="Sales", slug="sales", kind=TeamKind.SALES)
    billing = Team.objects.create(name="Billing", slug="billing", kind=TeamKind.OTHER)
    org_a = PartnerOrganization.objects.create(name="Org A", slug="org-a")
    org_b = PartnerOrganization.objects.create(name="Org B", slug="org-b")
    return Personas(
        support=support,
        sales=sales,
        billing=billing,
        org_a=org_a,
        org_b=org_b,
        agent=make_user("alice@hub.test", teams=(support,), full_name="Alice Agent"),
        teammate=make_user("bob@hub.test", teams=(support,), full_name="Bob Teammate"),
        other_agent=make_user("carol@hub.test", teams=(billing,), full_name="Carol Billing"),
        salesperson=make_user("sam@hub.test", Role.SALES, teams=(sales,), full_name="Sam Sales"),
        supervisor=make_user(
            "sky@hub.test", Role.SUPERVISOR, teams=(support, sales), full_name="Sky Lead"
        ),
        admin=make_user("root@hub.test", Role.ADMIN, full_name="Ada Admin"),
        partner_a=make_user(
            "pia@org-a.test", Role.PARTNER, partner_organization=org_a, full_name="Pia A"
        ),
        partner_b=make_user(
            "per@org-b.test", Role.PARTNER, partner_organization=org_b, full_name="Per B"
        ),
    )
