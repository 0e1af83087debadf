"""Bar charts drawn on the server: plain geometry that a template turns into inline SVG, so the
record pages need no JavaScript and no external library (many users sit behind strict
proxies, and the page also prints)."""

import math
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from members.templatetags.members_tags import is_japanese


def yen_short(value: int) -> str:
    """An amount for a chart label, in the units a reader of each language expects:
    ja 12,340,000 → "1,234万円", 150,000,000 → "1.5億円"; en → "¥12.3M", "¥150k"."""
    value = int(value)
    if is_japanese():
        if value >= 100_000_000:
            return f"{_trim(value / 100_000_000)}億円"
        if value >= 10_000:
            amount = value / 10_000
            return f"{amount:,.0f}万円" if amount >= 100 else f"{_trim(amount)}万円"
        return f"{value:,}円"
    if value >= 1_000_000_000:
        return f"¥{_trim(value / 1_000_000_000)}B"
    if value >= 1_000_000:
        return f"¥{_trim(value / 1_000_000)}M"
    if value >= 1_000:
        return f"¥{_trim(value / 1_000)}k"
    return f"¥{value:,}"


def _trim(number: float) -> str:
    """One decimal at most, none when it is zero: 1.50 → "1.5", 2.0 → "2"."""
    text = f"{number:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above `value` (at least 1)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return int(step * power)
    return 10 * power


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    value_label: str
    title: str

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def end(self) -> float:
        return round(self.x + self.width, 1)

    @property
    def middle(self) -> float:
        return round(self.y + self.height / 2, 1)


@dataclass
class Tick:
    position: float
    label: str


@dataclass
class Chart:
    width: int
    height: int
    title: str
    description: str
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    # The plot area (for the axis lines).
    left: float = 0
    top: float = 0
    right: float = 0
    bottom: float = 0
    empty: bool = True


def column_chart(
    items: list[tuple[str, int, str]], *, title: str, width: int = 1180, height: int = 300
) -> Chart:
    """Vertical bars, one per (label, value, hover title), with a yen axis on the left."""
    left, right, top, bottom = 78, width - 12, 24, height - 34
    top_value = nice_ceiling(max((v for _l, v, _t in items), default=0))
    chart = Chart(width, height, title, "", left=left, top=top, right=right, bottom=bottom)
    chart.empty = not any(v for _l, v, _t in items)
    for i in range(5):
        value = top_value * i / 4
        chart.ticks.append(
            Tick(bottom - (bottom - top) * i / 4, yen_short(value) if value else "0")
        )
    slot = (right - left) / max(len(items), 1)
    bar_width = max(min(slot * 0.62, 48), 4)
    for index, (label, value, hover) in enumerate(items):
        bar_height = (bottom - top) * value / top_value
        chart.bars.append(
            Bar(
                x=round(left + slot * index + (slot - bar_width) / 2, 1),
                y=round(bottom - bar_height, 1),
                width=round(bar_width, 1),
                height=round(bar_height, 1),
                label=label,
                value=value,
                value_label=yen_short(value) if value else "",
                title=hover,
            )
        )
    chart.description = "; ".join(f"{b.label}: {b.title}" for b in chart.bars)
    return chart


def row_chart(
    items: list[tuple[str, int, str]], *, title: str, width: int = 560, row: int = 30
) -> Chart:
    """Horizontal bars, one per (label, value, hover title), largest first as given; the
    amount is written at the end of each bar."""
    label_width, value_space = 150, 110
    height = max(len(items), 1) * row + 12
    left, right = label_width, width - value_space
    top_value = max((v for _l, v, _t in items), default=0) or 1
    chart = Chart(width, height, title, "", left=left, top=6, right=right, bottom=height - 6)
    chart.empty = not items
    for index, (label, value, hover) in enumerate(items):
        length = (right - left) * value / top_value
        chart.bars.append(
            Bar(
                x=left,
                y=6 + index * row + 4,
                width=round(max(length, 1), 1),
                height=row - 10,
                label=label,
                value=value,
                value_label=yen_short(value),
                title=hover,
            )
        )
    chart.description = "; ".join(f"{b.label}: {b.title}" for b in chart.bars) or _(
        "No orders in this period."
    )
    return chart
