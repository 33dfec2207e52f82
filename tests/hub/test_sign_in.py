from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from hub.models import ApiToken, AuditLogEntry, User
from tests.factories import Personas

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2(settings: object) -> None:
    from hub import settings as production_settings

    settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS  # type: ignore[attr-defined]
    user = User.objects.create_user("argon@hub.test", "a long passphrase", full_name="Argon")
    assert user.password.startswith("argon2$")
    assert user.check_password("a long passphrase")


def test_sign_in_is_case_insensitive_on_the_address(people: Personas, password: str) -> None:
    response = Client().post(
        "/accounts/login/", {"username": "ALICE@hub.test", "password": password}
    )
    assert response.status_code == 302


def test_repeated_wrong_passwords_lock_the_address_even_for_the_right_one(
    people: Personas, password: str
) -> None:
    client = Client()
    for _attempt in range(5):
        response = client.post(
            "/accounts/login/", {"username": people.agent.email, "password": "nope"}
        )
    assert response.status_code in (403, 429)
    response = client.post(
        "/accounts/login/", {"username": people.agent.email, "password": password}
    )
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    # Another person's account is not locked by those attempts.
    response = client.post(
        "/accounts/login/", {"username": people.teammate.email, "password": password}
    )
    assert response.status_code == 302


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(people: Personas) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": people.agent.email, "password": "nope"})
    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    assert "_auth_user_id" not in client.session


def _issue_token(email: str) -> str:
    out = io.StringIO()
    call_command("create_api_token", email, stdout=out)
    return out.getvalue().strip()


def test_an_api_token_authenticates_and_only_its_hash_is_stored(people: Personas) -> None:
    key = _issue_token(people.agent.email)
    token = ApiToken.objects.get(user=people.agent)
    assert key not in (token.key_hash, token.prefix)
    response = Client().get("/api/v1/contacts/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert AuditLogEntry.objects.filter(action="api_token.issued").exists()


def test_a_revoked_token_is_refused(people: Personas) -> None:
    key = _issue_token(people.agent.email)
    ApiToken.objects.get(user=people.agent).revoke()
    response = Client().get("/api/v1/contacts/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401


def test_an_admin_revokes_a_token_in_the_admin(people: Personas) -> None:
    key = _issue_token(people.agent.email)
    token = ApiToken.objects.get(user=people.agent)
    admin = Client()
    admin.force_login(people.admin)
    response = admin.post(
        "/admin/hub/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    assert Client().get("/api/v1/contacts/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert AuditLogEntry.objects.filter(action="api_token.revoked", actor=people.admin).exists()


def test_a_token_of_a_deactivated_user_is_refused(people: Personas) -> None:
    key = _issue_token(people.agent.email)
    User.objects.filter(pk=people.agent.pk).update(is_active=False)
    assert Client().get("/api/v1/contacts/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_create_api_token_refuses_an_unknown_address() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody@hub.test")
