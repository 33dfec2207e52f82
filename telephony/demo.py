"""Demo telephony: a CTI integration on the demo phone inbox, so a PBX (or curl) can
pop the screen right after `make run`. Runs after inbox's demo (app order)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from hub.demo import DemoCore
from inbox.models import Channel, Inbox
from telephony.models import CtiIntegration


def seed_telephony_demo(sender: Any, core: DemoCore, stdout: Any, **kwargs: Any) -> None:
    inbox = Inbox.objects.filter(key="phone", channel=Channel.PHONE).first()
    if inbox is None:
        return
    integration, _ = CtiIntegration.objects.get_or_create(
        name="Demo PBX", defaults={"inbox": inbox}
    )
    stdout.write(
        "seed_demo: CTI endpoint for the demo PBX: "
        f"{settings.PUBLIC_BASE_URL}/telephony/cti/{integration.token}/"
    )
