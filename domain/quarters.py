"""Calendar quarters in UTC: "2026-Q4" is [2026-10-01T00:00Z, 2027-01-01T00:00Z).

Pure arithmetic for quarterly reviews and the leadership report; no clock.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timezone
from typing import Any

from domain.commands import EARLIEST, LATEST
from domain.errors import InvalidInput

UTC = timezone.utc
QUARTER_PATTERN = re.compile(r"(\d{4})-Q([1-4])")


def require_quarter(value: Any, field: str = "quarter") -> str:
    """A quarter from 1970-Q1 to 9998-Q4 (see `domain.commands.EARLIEST`, `LATEST`)."""
    match = QUARTER_PATTERN.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(f'{field} must look like "2026-Q4" (got {value!r})', field=field)
    if not EARLIEST.year <= int(match.group(1)) < LATEST.year:
        raise InvalidInput(f"{field} must lie from {EARLIEST.year}-Q1 to {LATEST.year - 1}-Q4 (got {value!r})", field=field)
    return value.strip()


def bounds(quarter: str) -> tuple[datetime, datetime]:
    """[start, end) of the quarter in UTC."""
    match = QUARTER_PATTERN.fullmatch(quarter)
    if match is None:
        raise ValueError(f"not a quarter: {quarter!r}")
    year, q = int(match.group(1)), int(match.group(2))
    start = datetime(year, 3 * q - 2, 1, tzinfo=UTC)
    return start, add_months(start, 3)


def quarter_of(at: datetime) -> str:
    at = at.astimezone(UTC)
    return f"{at.year}-Q{(at.month - 1) // 3 + 1}"


def previous(quarter: str) -> str:
    start, _ = bounds(quarter)
    return quarter_of(add_months(start, -3))


def add_months(at: datetime, months: int) -> datetime:
    """The same day and time `months` later (the last day of the month when it has fewer days)."""
    index = at.year * 12 + (at.month - 1) + months
    year, month = divmod(index, 12)
    day = min(at.day, calendar.monthrange(year, month + 1)[1])
    return at.replace(year=year, month=month + 1, day=day)


def one_quarter_after(at: datetime) -> datetime:
    return add_months(at, 3)
