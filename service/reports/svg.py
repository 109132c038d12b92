"""A budget burn-down chart as inline SVG, drawn by the report itself (no scripts, no
external resources): budget remaining over time, axes with ticks, a dashed line at 0
(the budget exhausted), labels.

The y axis runs from 100% down to 0, or to the lowest value rounded to a quarter of the
budget, but never below `FLOOR` (-100%): a budget spent a thousand times over would
otherwise squeeze 0-100% into a pixel and draw a tick label every 25% down to -99,925%.
Values below the floor are drawn on it, and the chart says they are off the scale and
how low they went."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from html import escape
from typing import Sequence

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 44
TICK = 0.25  # a tick every quarter of the budget: at most 9 from -100% to 100%
FLOOR = -1.0


def _percent(fraction: float) -> str:
    return f"{fraction * 100:,.0f}%"


def _fmt_time(at: datetime, span: timedelta) -> str:
    return at.strftime("%m-%d %H:%M") if span <= timedelta(days=3) else at.strftime("%Y-%m-%d")


def burn_down_svg(points: Sequence[tuple[datetime, float]], title: str, *, width: int = WIDTH,
                  height: int = HEIGHT) -> str:
    """`points`: (time, budget remaining as a fraction of the budget), in time order."""
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="burndown" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#999"/>',
        f'<text x="{LEFT}" y="{TOP - 10}" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    if not points:
        out.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" font-size="12" text-anchor="middle" '
                   f'fill="#666">no budget data in this quarter</text>')
        out.append("</svg>")
        return "".join(out)
    values = [v for _, v in points]
    lowest = min(values)
    y_max = max(1.0, max(values))
    y_min = max(FLOOR, -TICK * math.ceil(-lowest / TICK)) if lowest < 0 else 0.0
    off_scale = lowest < y_min
    t0, t1 = points[0][0], points[-1][0]
    span = t1 - t0
    seconds = span.total_seconds() or 1.0

    def x(at: datetime) -> float:
        return LEFT + (at - t0).total_seconds() / seconds * plot_w

    pad = 8  # keep the 0 line and the 100% tick off the frame

    def y(value: float) -> float:
        value = max(value, y_min)  # off the scale: drawn on the floor
        return TOP + pad + (y_max - value) / (y_max - y_min) * (plot_h - 2 * pad)

    # y ticks every quarter of the budget
    for k in range(round((y_max - y_min) / TICK) + 1):
        tick = y_min + k * TICK
        ty = y(tick)
        out.append(f'<line x1="{LEFT - 4}" y1="{ty:.1f}" x2="{LEFT + plot_w}" y2="{ty:.1f}" stroke="#e3e3e3"/>')
        out.append(f'<text class="tick" x="{LEFT - 8}" y="{ty + 4:.1f}" font-size="11" text-anchor="end">'
                   f"{tick * 100:.0f}%</text>")
    if off_scale:
        out.append(f'<text class="off-scale" x="{LEFT + 6}" y="{y(y_min) - 6:.1f}" font-size="11" fill="#c62828">'
                   f"off the scale below {y_min * 100:.0f}%: lowest {_percent(lowest)}</text>")
    # x ticks: five evenly spaced times
    for k in range(5):
        at = t0 + span * (k / 4)
        tx = x(at)
        out.append(f'<line x1="{tx:.1f}" y1="{TOP + plot_h}" x2="{tx:.1f}" y2="{TOP + plot_h + 4}" stroke="#333"/>')
        anchor = "start" if k == 0 else "end" if k == 4 else "middle"
        out.append(f'<text x="{tx:.1f}" y="{TOP + plot_h + 16}" font-size="11" text-anchor="{anchor}">'
                   f"{escape(_fmt_time(at, span))}</text>")
    # axes
    out.append(f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#333"/>')
    out.append(f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#333"/>')
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{height - 6}" font-size="11" text-anchor="middle">time (UTC)</text>')
    out.append(f'<text x="14" y="{TOP + plot_h / 2}" font-size="11" text-anchor="middle" '
               f'transform="rotate(-90 14 {TOP + plot_h / 2})">budget remaining</text>')
    # the target line: the budget is exhausted below 0
    zero = y(0.0)
    out.append(f'<line class="target" x1="{LEFT}" y1="{zero:.1f}" x2="{LEFT + plot_w}" y2="{zero:.1f}" '
               f'stroke="#c62828" stroke-width="1.5" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{LEFT + plot_w - 4}" y="{zero - 5:.1f}" font-size="11" text-anchor="end" '
               f'fill="#c62828">0: budget exhausted</text>')
    coords = " ".join(f"{x(at):.1f},{y(v):.1f}" for at, v in points)
    out.append(f'<polyline class="remaining" fill="none" stroke="#1565c0" stroke-width="2" points="{coords}"/>')
    last_at, last_v = points[-1]
    out.append(f'<circle cx="{x(last_at):.1f}" cy="{y(last_v):.1f}" r="3" fill="#1565c0"/>')
    out.append(f'<text x="{x(last_at) - 6:.1f}" y="{y(last_v) - 8:.1f}" font-size="11" text-anchor="end" '
               f'fill="#1565c0">{_percent(last_v)} left</text>')
    out.append("</svg>")
    return "".join(out)


_COLOURS = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a")


def lines_svg(series: Sequence[tuple[str, Sequence[tuple[datetime, float]]]], title: str,
              levels: Sequence[tuple[str, float | None]] = (), *, width: int = WIDTH, height: int = HEIGHT) -> str:
    """Named series of fractions over time (an attainment under two targets, say) on one
    scale fitted to them and to the dashed `levels` (each target), with a legend."""
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lines" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#999"/>',
        f'<text x="{LEFT}" y="{TOP - 10}" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    points = [p for _, ps in series for p in ps]
    if not points:
        out.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" font-size="12" text-anchor="middle" '
                   f'fill="#666">no data in this period</text></svg>')
        return "".join(out)
    values = [v for _, v in points] + [v for _, v in levels if v is not None]
    lo, hi = min(values), max(values)
    if hi - lo < 1e-6:
        lo, hi = lo - 1e-4, hi + 1e-4
    t0, t1 = min(at for at, _ in points), max(at for at, _ in points)
    span = t1 - t0
    seconds = span.total_seconds() or 1.0
    pad = 8

    def x(at: datetime) -> float:
        return LEFT + (at - t0).total_seconds() / seconds * plot_w

    def y(value: float) -> float:
        return TOP + pad + (hi - value) / (hi - lo) * (plot_h - 2 * pad)

    for k in range(5):
        tick = lo + (hi - lo) * k / 4
        out.append(f'<line x1="{LEFT - 4}" y1="{y(tick):.1f}" x2="{LEFT + plot_w}" y2="{y(tick):.1f}" stroke="#e3e3e3"/>')
        out.append(f'<text class="tick" x="{LEFT - 8}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end">'
                   f"{tick * 100:.3f}%</text>")
    for k in range(5):
        at = t0 + span * (k / 4)
        anchor = "start" if k == 0 else "end" if k == 4 else "middle"
        out.append(f'<text x="{x(at):.1f}" y="{TOP + plot_h + 16}" font-size="11" text-anchor="{anchor}">'
                   f"{escape(_fmt_time(at, span))}</text>")
    for n, (name, level) in enumerate(levels):
        if level is None:
            continue
        colour = _COLOURS[n % len(_COLOURS)]
        out.append(f'<line class="level" x1="{LEFT}" y1="{y(level):.1f}" x2="{LEFT + plot_w}" y2="{y(level):.1f}" '
                   f'stroke="{colour}" stroke-width="1" stroke-dasharray="6 4"/>')
        out.append(f'<text x="{LEFT + plot_w - 4}" y="{y(level) - 5:.1f}" font-size="11" text-anchor="end" '
                   f'fill="{colour}">target {escape(name)}</text>')
    for n, (name, ps) in enumerate(series):
        colour = _COLOURS[n % len(_COLOURS)]
        coords = " ".join(f"{x(at):.1f},{y(v):.1f}" for at, v in ps)
        out.append(f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>')
        out.append(f'<text x="{LEFT + 8}" y="{TOP + 16 + 14 * n}" font-size="11" fill="{colour}">{escape(name)}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{height - 6}" font-size="11" text-anchor="middle">time (UTC)</text>')
    out.append("</svg>")
    return "".join(out)
