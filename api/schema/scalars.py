"""Scalars whose parsing the API narrows: ``DateTime`` and ``Date`` take only instants in
the domain's range (``domain.commands.TIME_RANGE``), so no window or lookback computed
from an input overflows. Same names and wire format as strawberry's own; installed with
``scalar_overrides`` in ``build_schema``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Callable

import dateutil.parser
from strawberry.schema.types.base_scalars import isoformat, wrap_parser
from strawberry.types.scalar import ScalarDefinition

from domain.commands import TIME_RANGE, in_time_range


def _in_range(parse: Callable[[str], date]) -> Callable[[str], date]:
    def parse_in_range(text: str) -> date:
        value = parse(text)
        at = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        if not in_time_range(at):
            raise ValueError(f"it must lie {TIME_RANGE}")
        return value

    return parse_in_range


def _scalar(name: str, description: str, parse: Callable[[str], date]) -> ScalarDefinition:
    return ScalarDefinition(
        name=name,
        description=f"{description}, {TIME_RANGE}",
        specified_by_url=None,
        serialize=isoformat,
        parse_value=wrap_parser(_in_range(parse), name),
        parse_literal=None,
    )


OVERRIDES = {
    datetime: _scalar("DateTime", "Date with time (ISO 8601, with a zone)", dateutil.parser.isoparse),
    date: _scalar("Date", "Date (ISO 8601)", date.fromisoformat),
}
