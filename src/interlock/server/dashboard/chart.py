"""The per-period chart of a rate obligation, as plain geometry for an inline SVG.

Pure: periods in, bars and a required line out (SVG user units).  The template draws it;
every bar also carries its numbers and words so the same data can be read as a table, and
short or partial periods differ by pattern and label, not by colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from interlock.server.dashboard.facts import PeriodFacts
from interlock.server.dashboard.humanize import number

WIDTH = 640
HEIGHT = 240
LEFT = 48  # room for the axis labels
RIGHT = 8
TOP = 30  # room for the legend of the required line
BOTTOM = 40  # room for the period labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # `5 Mar`
    value: str  # `610`
    kind: str  # met | short | partial | open | unknown
    words: str  # `5 Mar: 610 of 600 trucks — met`
    show_label: bool = True  # with many periods only every k-th date is written under its bar


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    required_y: float | None
    required_label: str
    ticks: tuple[tuple[float, str], ...]  # (y, label)
    baseline_y: float
    title: str
    summary: str
    show_values: bool = True  # numbers above bars, when there is room for them


def _day(period: PeriodFacts) -> str:
    if period.start is None:
        return "?"
    return f"{period.start.day} {period.start:%b}"


def _kind(period: PeriodFacts, required: float | None) -> str:
    if period.state == "open":
        return "open"
    if not period.assessed:
        return "partial"
    if period.state in ("short", "shortfall", "breached", "missed"):
        return "short"
    if period.state in ("met", "fulfilled", "ok"):
        return "met"
    if period.units is None or required is None:
        return "unknown"
    return "met" if period.units >= required else "short"


_KIND_WORDS = {
    "met": "met",
    "short": "short",
    "partial": "partial period, reported but not assessed",
    "open": "still running, not yet assessed",
    "unknown": "",
}


def _nice_step(top: float) -> float:
    """The smallest 1, 2 or 5 × 10^k giving at most 6 steps up to `top`."""
    magnitude = 1.0
    while True:
        for factor in (1, 2, 5):
            if top / (factor * magnitude) <= 6:
                return factor * magnitude
        magnitude *= 10


def build_chart(periods: tuple[PeriodFacts, ...], amount: float | None, unit: str, obligation: str) -> Chart | None:
    """Bars for `periods` against the required `amount` per period; None when there are none."""
    if not periods:
        return None
    values = [p.units or 0.0 for p in periods]
    required = amount if amount is not None else next((p.required for p in periods if p.required), None)
    top = max([*values, required or 0.0, 1.0]) * 1.1
    plot_h = HEIGHT - TOP - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT
    slot = plot_w / len(periods)
    width = max(4.0, min(60.0, slot * 0.7))

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    every = max(1, -(-len(periods) // 12))  # at most about 12 date labels
    bars = []
    for i, (period, value) in enumerate(zip(periods, values, strict=True)):
        kind = _kind(period, period.required if period.required is not None else required)
        need = period.required if period.required is not None else required
        of = f" of {number(need)}" if need is not None else ""
        words = f"{_day(period)}: {number(value)}{of} {unit}"
        if _KIND_WORDS[kind]:
            words += f" — {_KIND_WORDS[kind]}"
        y = y_of(value)
        bars.append(Bar(round(LEFT + slot * i + (slot - width) / 2, 2), round(y, 2), round(width, 2),
                        round(TOP + plot_h - y, 2), _day(period), number(value), kind, words,
                        show_label=i % every == 0))
    step = _nice_step(top)
    ticks = []
    tick = 0.0
    while tick <= top:
        ticks.append((round(y_of(tick), 2), number(tick)))
        tick += step
    short = sum(1 for b in bars if b.kind == "short")
    assessed = sum(1 for b in bars if b.kind in ("met", "short"))
    summary = (f"{len(bars)} periods, {assessed} assessed, {short} short of "
               f"{number(required) if required is not None else 'the required amount'} {unit} per period")
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=tuple(bars),
        required_y=round(y_of(required), 2) if required is not None else None,
        required_label=f"required {number(required)} {unit}" if required is not None else "",
        ticks=tuple(ticks),
        baseline_y=TOP + plot_h,
        title=f"{obligation}: {unit} per period",
        summary=summary,
        show_values=slot >= 30,
    )
