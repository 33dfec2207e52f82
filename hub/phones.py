"""Phone numbers: from whatever a person or a carrier wrote to E.164.

Caller-ID lookup and contact storage both go through normalize_phone(), so a
number typed as "030/123 456-7" in Berlin matches a call from "+49301234567".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

# What carriers and PBXes send when the caller withheld their number. Twilio sends
# these words, or "+266696687" (which spells "ANONYMOUS" on a keypad).
WITHHELD_CALLER_IDS = frozenset(
    {
        "",
        "anonymous",
        "restricted",
        "private",
        "unknown",
        "unavailable",
        "blocked",
        "+266696687",
        "266696687",
    }
)

# "00" is the international prefix in most of the world, but phonenumbers reads it
# as such only when the default region dials 00 (the US dials 011).
_DOUBLE_ZERO = re.compile(r"^\s*00(?=[1-9])")


@dataclass(frozen=True)
class NormalizedPhone:
    e164: str
    extension: str
    region: str | None


def parse_phone(raw: str | None, region: str) -> NormalizedPhone | None:
    """The number in E.164 with its extension, or None when it is withheld or not a number."""
    if raw is None:
        return None
    text = raw.strip()
    if text.lower() in WITHHELD_CALLER_IDS:
        return None
    text = _DOUBLE_ZERO.sub("+", text)
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return NormalizedPhone(
        e164=e164,
        extension=number.extension or "",
        region=phonenumbers.region_code_for_number(number),
    )


def normalize_phone(raw: str | None, region: str) -> str | None:
    parsed = parse_phone(raw, region)
    return parsed.e164 if parsed else None
