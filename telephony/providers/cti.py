"""The generic CTI event (DESIGN §4) any PBX can post: Asterisk AMI/ARI scripts, 3CX
call-flow webhooks, sipgate.io push …

    {"event": "newCall"|"answer"|"hangup", "call_id", "from", "to", "direction", "user"?}
"""

from __future__ import annotations

import json
from dataclasses import dataclass

EVENTS = frozenset({"newCall", "answer", "hangup"})
DIRECTIONS = frozenset({"inbound", "outbound", "in", "out"})
MAX_BODY_BYTES = 16_384


class CtiEventError(ValueError):
    pass


@dataclass(frozen=True)
class CtiEvent:
    kind: str
    call_id: str
    from_number: str
    to_number: str
    direction: str
    user: str
    duration: int | None

    @property
    def customer_number(self) -> str:
        return self.from_number if self.direction == "inbound" else self.to_number

    @property
    def our_number(self) -> str:
        return self.to_number if self.direction == "inbound" else self.from_number


def _text(payload: dict[str, object], key: str, limit: int = 100) -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str | int):
        raise CtiEventError(f"{key!r} must be a string")
    text = str(value).strip()
    if len(text) > limit:
        raise CtiEventError(f"{key!r} is longer than {limit} characters")
    return text


def parse_event(body: bytes) -> CtiEvent:
    if len(body) > MAX_BODY_BYTES:
        raise CtiEventError("The event is too large.")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CtiEventError("The body is not JSON.") from exc
    if not isinstance(payload, dict):
        raise CtiEventError("The body must be a JSON object.")
    kind = _text(payload, "event")
    if kind not in EVENTS:
        raise CtiEventError(f"'event' must be one of {sorted(EVENTS)}")
    call_id = _text(payload, "call_id")
    if not call_id:
        raise CtiEventError("'call_id' is required")
    direction = _text(payload, "direction").lower() or "inbound"
    if direction not in DIRECTIONS:
        raise CtiEventError("'direction' must be inbound or outbound")
    direction = "inbound" if direction in ("inbound", "in") else "outbound"
    duration = payload.get("duration")
    if duration is not None and (not isinstance(duration, int) or duration < 0):
        raise CtiEventError("'duration' must be a whole number of seconds")
    event = CtiEvent(
        kind=kind,
        call_id=call_id,
        from_number=_text(payload, "from", 64),
        to_number=_text(payload, "to", 64),
        direction=direction,
        user=_text(payload, "user", 254),
        duration=duration,
    )
    if kind == "answer" and not event.user:
        raise CtiEventError("'answer' needs the answering 'user'")
    return event
