"""Scalars whose parsing the API narrows: ``DateTime`` and ``Date`` take only instants in
the domain's range (``domain.commands.TIME_RANGE``), so no window or lookback computed
from an input overflows. Same name and wire format as strawberry's own; installed with
``scalar_overrides`` in ``build_schema``."""

from __future__ import annotations

from datetime import date, datetime

import dateutil.parser
from strawberry.schema.types.base_scalars import isoformat, wrap_parser
from strawberry.types.scalar import ScalarDefinition

from domain.commands import TIME_RANGE, in_time_range


def _datetime(text: str) -> datetime:
    at = dateutil.parser.isoparse(text)
    if not in_time_range(at):
        raise ValueError(f"an instant must lie {TIME_RANGE}")
    return at


DATETIME = ScalarDefinition(
    name="DateTime",
    description=f"Date with time (ISO 8601, with a zone), {TIME_RANGE}",
    specified_by_url=None,
    serialize=isoformat,
    parse_value=wrap_parser(_datetime, "DateTime"),
    parse_literal=None,
)

def _date(text: str) -> date:
    day = date.fromisoformat(text)
    if not in_time_range(datetime(day.year, day.month, day.day)):
        raise ValueError(f"a date must lie {TIME_RANGE}")
    return day


DATE = ScalarDefinition(
    name="Date",
    description=f"Date (ISO 8601), {TIME_RANGE}",
    specified_by_url=None,
    serialize=isoformat,
    parse_value=wrap_parser(_date, "Date"),
    parse_literal=None,
)

OVERRIDES = {datetime: DATETIME, date: DATE}
