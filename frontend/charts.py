"""A tiny server-side SVG renderer for the dashboards and reports: no CDN, no
JavaScript chart library. Labels are escaped; the result is safe to mark safe."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

Number = int | float | Decimal


def bar_chart(
    items: Sequence[tuple[str, Number]],
    *,
    title: str,
    width: int = 480,
    bar_height: int = 26,
    value_format: str = "{:,.0f}",
) -> SafeString:
    """A horizontal bar chart, one bar per (label, value)."""
    label_width = 140
    value_width = 90
    gap = 8
    height = max(1, len(items)) * (bar_height + gap) + gap
    largest = max((float(value or 0) for _label, value in items), default=0.0) or 1.0
    room = width - label_width - value_width
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value) in enumerate(items):
        y = gap + index * (bar_height + gap)
        length = round(room * float(value or 0) / largest, 1)
        middle = y + bar_height / 2
        parts.append(
            f'<text x="{label_width - 6}" y="{middle}" text-anchor="end" '
            f'dominant-baseline="middle" font-size="12">{escape(str(label))}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" '
            f'fill="#2563eb"><title>{escape(str(label))}: '
            f"{escape(value_format.format(value or 0))}</title></rect>"
            f'<text x="{label_width + length + 6}" y="{middle}" dominant-baseline="middle" '
            f'font-size="12">{escape(value_format.format(value or 0))}</text>'
        )
    if not items:
        parts.append(f'<text x="{gap}" y="{height / 2}" font-size="12">-</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
