"""The Slack Web API as the bridge uses it: slack_sdk's WebClient pointed at
SLACK_API_BASE_URL (tests point it at a local fake), and one error type that says
whether a failure is worth retrying."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier

from slack_bridge.models import SlackWorkspace

# Slack error codes that a later attempt may cure; every other error is permanent
# (channel_not_found, not_in_channel, invalid_auth, msg_too_long, is_archived …).
TEMPORARY_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class SlackError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def web_client(workspace: SlackWorkspace) -> WebClient:
    return WebClient(
        token=workspace.bot_token or None,
        base_url=settings.SLACK_API_BASE_URL,
        timeout=settings.SLACK_TIMEOUT_SECONDS,
    )


def _call(workspace: SlackWorkspace, method: str, **params: Any) -> dict[str, Any]:
    if not workspace.bot_token:
        raise SlackError(f"no bot token configured for {workspace}", permanent=True)
    client = web_client(workspace)
    try:
        # The named wrappers pick the encoding each method accepts (JSON or form/GET).
        response = getattr(client, method.replace(".", "_"))(**params)
    except SlackApiError as exc:
        error = str(exc.response.get("error", "") if exc.response else "") or str(exc)
        status = exc.response.status_code if exc.response is not None else 0
        permanent = error not in TEMPORARY_ERRORS and status < 500 and status != 429
        raise SlackError(f"{method}: {error}", permanent=permanent) from exc
    except (SlackClientError, OSError) as exc:
        raise SlackError(f"{method}: {exc}", permanent=False) from exc
    return dict(response.data) if isinstance(response.data, dict) else {}


def post_message(workspace: SlackWorkspace, channel: str, text: str, thread_ts: str = "") -> str:
    """chat.postMessage; returns the new message's ts."""
    params: dict[str, Any] = {"channel": channel, "text": text}
    if thread_ts:
        params["thread_ts"] = thread_ts
    return str(_call(workspace, "chat.postMessage", **params).get("ts", ""))


def user_info(workspace: SlackWorkspace, user_id: str) -> dict[str, Any]:
    """users.info: the Slack user's profile (the e-mail needs users:read.email)."""
    data = _call(workspace, "users.info", user=user_id)
    return dict(data.get("user") or {})


def signature_is_valid(secrets: list[str], body: bytes, timestamp: str, signature: str) -> bool:
    """Slack's v0 signature with any of our signing secrets; slack_sdk's verifier also
    refuses a timestamp more than five minutes away (replays)."""
    try:
        int(timestamp)
    except (TypeError, ValueError):
        return False
    return any(
        SignatureVerifier(secret).is_valid(body, timestamp, signature)
        for secret in secrets
        if secret and secret.strip()
    )
