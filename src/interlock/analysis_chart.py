"""Exposure over time for every side on one figure (matplotlib, Agg) → SVG or PNG bytes.

Rendering is kept out of the pure `interlock.analysis` package.  Readable in print: sides
differ by line style and marker as well as colour; every side has the same line width and
marker size; colours are muted and of similar lightness, none suggesting a side.  SVG output
is deterministic (fixed `svg.hashsalt`, no date, text kept as text).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from interlock.analysis.exposure import pct
from interlock.analysis.pipeline import Analysis

ChartFormat = Literal["svg", "png"]
STYLES = (
    ("-", "#3b4a6b", "o"),
    ("--", "#6b4a3b", "s"),
    (":", "#3b6b5a", "^"),
    ("-.", "#5a3b6b", "D"),
)
LINE = 1.8
MARK = 4.5
RC: dict[str, Any] = {"svg.hashsalt": "interlock", "svg.fonttype": "none", "font.size": 9, "font.family": "DejaVu Sans"}
DAY = timedelta(days=1)


def _series(a: Analysis, party: str, gross: bool = False) -> tuple[list[float], list[float]]:
    e = a.exposure[party]
    start = a.run.adopted.at
    end = max([a.run.horizon, *(p.at for p in e.curve)])
    xs, ys = [0.0], [0.0]
    for p in e.curve:
        xs.append((p.at - start) / DAY)
        ys.append(pct(p.gross if gross else p.exposure, e.total) or 0.0)
    xs.append((end - start) / DAY)
    ys.append(ys[-1])
    return xs, ys


def _draw(ax: Any, a: Analysis, heading: str) -> None:
    escrow = any(s.kind == "deposit" for s in a.steps)
    for i, party in enumerate(a.sides):
        style, colour, marker = STYLES[i % len(STYLES)]
        xs, ys = _series(a, party)
        ax.step(xs, ys, where="post", linestyle=style, color=colour, linewidth=LINE,
                label=a.name(party))
        ax.plot(xs[1:-1], ys[1:-1], linestyle="none", marker=marker, markersize=MARK, color=colour,
                markerfacecolor="white", markeredgewidth=1.2)
        if escrow:
            gx, gy = _series(a, party, gross=True)
            ax.step(gx, gy, where="post", linestyle=style, color=colour, linewidth=LINE / 2, alpha=0.6,
                    label=f"{a.name(party)} incl. escrow")
        e = a.exposure[party]
        if e.max_witness.at is not None and e.max_pct is not None:
            x = (e.max_witness.at - a.run.adopted.at) / DAY
            ax.plot([x], [e.max_pct], marker=marker, markersize=MARK * 1.8, color=colour, linestyle="none")
            ax.annotate(f"max {e.max_pct:.0f}%", (x, e.max_pct), textcoords="offset points",
                        xytext=(6, 4 + 10 * i), color=colour)
    ax.set_ylim(-2, 110)
    ax.set_xlim(left=0)
    ax.set_xlabel(f"days since adoption on {_when(a)}")
    ax.set_ylabel("exposure, % of own total handover")
    ax.grid(True, color="#d0d0d0", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_title(heading, fontsize=10)
    ax.legend(loc="upper right", frameon=False)


SOURCES = {
    "given": "the start given", "values": "the start in VALUES",
    "plan": "from the plan's fixed times", "none": "arbitrary: the plan names no fixed time",
}


def _when(a: Analysis) -> str:
    """The simulated adoption and where it comes from, e.g. `2026-03-02 00:00 UTC (the start given)`."""
    start = a.began
    return f"{start.at:%Y-%m-%d %H:%M} UTC ({SOURCES[start.source]})"


def _heading(a: Analysis) -> str:
    text = f"{a.agreement.title}\n{a.mode} schedule"
    if a.equal_weights:
        text += ", equal weights"
    if a.assumed:
        text += ", what-if: an assumed monitor verifies"
    return text


def render(analyses: Sequence[Analysis], fmt: ChartFormat = "svg") -> bytes:
    """One panel per analysis (two for a comparison), as `fmt` bytes."""
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        fig = Figure(figsize=(8.5 * len(analyses) if len(analyses) > 1 else 8.5, 4.8), dpi=110,
                     layout="constrained")
        axes = fig.subplots(1, len(analyses), squeeze=False)[0]
        for ax, a in zip(axes, analyses, strict=True):
            _draw(ax, a, _heading(a))
        buf = io.BytesIO()
        meta: dict[str, Any] = {"Date": None} if fmt == "svg" else {"Software": None}
        fig.savefig(buf, format=fmt, metadata=meta)
    return buf.getvalue()
