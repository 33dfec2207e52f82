"""The frame every benchmarked server delivers, and how a client recognizes it.

The hub delivers `message.created` for an inbound message whose text is
"bench <seq>"; the baselines send a frame of the same shape and size, built once
per broadcast, so the clients do exactly the same work in every row.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

PREFIX = "bench "
PONG = json.dumps({"type": "pong"})


def body_for(seq: int) -> str:
    return f"{PREFIX}{seq}"


def bench_frame(seq: int, size: int) -> str:
    """A `message.created` envelope padded to about `size` bytes."""
    message: dict[str, object] = {"id": seq, "body_text": body_for(seq), "pad": ""}
    frame = {
        "id": seq,
        "type": "message.created",
        "at": datetime.now(UTC).isoformat(),
        "data": {"conversation": 1, "message": message},
    }
    message["pad"] = "x" * max(0, size - len(json.dumps(frame)))
    return json.dumps(frame)


def frame_seq(text: str | bytes) -> int | None:
    """The sequence number of a benchmark frame, or None for any other frame."""
    if not isinstance(text, str) or '"message.created"' not in text:
        return None
    frame = json.loads(text)
    if frame.get("type") != "message.created":
        return None
    body = frame["data"]["message"].get("body_text") or ""
    if not body.startswith(PREFIX):
        return None
    return int(body[len(PREFIX) :])
