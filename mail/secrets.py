"""Mailbox passwords: from an environment variable, or a Fernet token under a key
derived from SECRET_KEY. Never plain text in the database."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class MailboxSecretError(RuntimeError):
    pass


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"hub.mail.mailbox-password\0" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_password(password: str) -> str:
    return _fernet().encrypt(password.encode()).decode() if password else ""


def decrypt_password(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise MailboxSecretError(
            "the stored mailbox password cannot be decrypted (SECRET_KEY changed?)"
        ) from exc


def resolve_password(env_name: str, encrypted: str) -> str:
    if env_name:
        value = os.environ.get(env_name)
        if value is None:
            raise MailboxSecretError(f"environment variable {env_name} is not set")
        return value
    return decrypt_password(encrypted)
