"""How numbers read in the rendered reports."""

from __future__ import annotations

from datetime import datetime


def pct(value: float | None, digits: int = 3) -> str:
    """0.99912 -> '99.912%'; None -> '—'."""
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}".rstrip("0").rstrip(".") + "%"


def share(value: float | None) -> str:
    """A share of a budget: 0.42 -> '42%'."""
    return "—" if value is None else f"{value * 100:.0f}%"


def days(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}"


def day(at: datetime | None) -> str:
    return "—" if at is None else at.date().isoformat()


def count_pair(allowed: int, denied: int, approval: int) -> str:
    text = f"{allowed} / {denied}"
    return text + (f" (+{approval} approval)" if approval else "")
