"""Small builders shared by the budget tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain.budget import Interval

UTC = timezone.utc
T0 = datetime(2024, 10, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)


def minute(i: int, base: datetime = T0) -> datetime:
    return base + i * MIN


def per_minute(first: int, counts: list[tuple[int, int]], base: datetime = T0) -> list[Interval]:
    """Consecutive one-minute intervals from minute `first`, counts given as (good, total)."""
    return [Interval(minute(first + k, base), minute(first + k + 1, base), g, t) for k, (g, t) in enumerate(counts)]
