"""Recurring budget exclusions: an RFC 5545 RRULE, a local start time in an IANA zone and a
duration, expanded into the excluded intervals that meet a data-time range.

Example (the request in Sloth #529): a weekly maintenance window, Sundays 02:00-04:00
Europe/Berlin, `FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0`, start 2026-01-04 02:00,
duration 2h. Occurrences are wall-clock times, so the window stays at 02:00 local through
the year: 01:00 UTC in winter, 00:00 UTC in summer.

The expansion is written here, in the standard library, rather than taken from a
third-party RRULE library, because the domain must stay pure and replay must not depend
on a library's version: a recorded exclusion has to expand to the same intervals forever.
The subset is the one exclusions need, and anything outside it is refused by name:

  FREQ      DAILY | WEEKLY | MONTHLY
  INTERVAL  every n-th period (default 1)
  COUNT     at most n occurrences, counted from the start
  UNTIL     last possible start (a local date-time, a UTC date-time ending in Z, or a date:
            its midnight)
  BYDAY     weekdays (MO..SU); for MONTHLY also with an ordinal (1SU, -1FR)
  BYMONTHDAY  days of the month (1..31, -1..-31), for DAILY and MONTHLY
  BYHOUR, BYMINUTE  the occurrence's time of day (default: the start's)
  WKST      MO only (the default)

It follows the RFC as python-dateutil reads it (the tests compare both): the start itself
counts only when it matches the rule, and dates that do not exist (Feb 30) are skipped.
A local time in a spring-forward gap means the instant after the gap, one in the autumn
overlap the first (zoneinfo's fold=0). Intervals are half-open, merged where they overlap
or touch, and clipped to the range asked for.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator

from .calendar import zone_of
from .errors import BudgetInputError
from .instants import require_aware

FREQS = ("DAILY", "WEEKLY", "MONTHLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYHOUR", "BYMINUTE", "WKST"}
# Refuse a rule that would expand forever without an occurrence (e.g. BYMONTHDAY=31 with
# FREQ=MONTHLY;INTERVAL=12 from a month of 30 days).
_MAX_EMPTY_PERIODS = 4000


@dataclass(frozen=True, slots=True)
class Rule:
    freq: str
    interval: int = 1
    count: int | None = None
    until: datetime | None = None  # naive local, or aware UTC when written with Z
    by_day: tuple[tuple[int, int], ...] = ()  # (ordinal or 0, weekday 0=Monday)
    by_month_day: tuple[int, ...] = ()
    by_hour: tuple[int, ...] = ()
    by_minute: tuple[int, ...] = ()


def parse_rrule(text: object, field: str = "rrule") -> Rule:
    """'FREQ=WEEKLY;BYDAY=SU;BYHOUR=2' -> Rule. A leading 'RRULE:' is accepted."""
    if not isinstance(text, str) or not text.strip():
        raise BudgetInputError(field, f"expected an RRULE such as FREQ=WEEKLY;BYDAY=SU, got {text!r}")
    body = text.strip()
    body = body[len("RRULE:"):] if body.upper().startswith("RRULE:") else body
    parts: dict[str, str] = {}
    for item in body.split(";"):
        name, eq, value = item.partition("=")
        name = name.strip().upper()
        if not eq or not value:
            raise BudgetInputError(field, f"expected NAME=VALUE, got {item!r}")
        if name not in _PARTS:
            raise BudgetInputError(field, f"{name} is not supported (supported: {', '.join(sorted(_PARTS))})")
        if name in parts:
            raise BudgetInputError(field, f"{name} given twice")
        parts[name] = value.strip().upper()
    freq = parts.get("FREQ")
    if freq not in FREQS:
        raise BudgetInputError(field, f"FREQ must be one of {', '.join(FREQS)}, got {freq!r}")
    if parts.get("WKST", "MO") != "MO":
        raise BudgetInputError(field, "only WKST=MO is supported")
    if "COUNT" in parts and "UNTIL" in parts:
        raise BudgetInputError(field, "COUNT and UNTIL exclude each other")
    by_day = tuple(_weekday(v, freq, field) for v in _list(parts, "BYDAY"))
    by_month_day = tuple(_int(v, field, "BYMONTHDAY", -31, 31, nonzero=True) for v in _list(parts, "BYMONTHDAY"))
    if by_month_day and freq == "WEEKLY":
        raise BudgetInputError(field, "BYMONTHDAY does not apply to FREQ=WEEKLY")
    return Rule(
        freq=freq,
        interval=_int(parts.get("INTERVAL", "1"), field, "INTERVAL", 1, 10_000),
        count=_int(parts["COUNT"], field, "COUNT", 1, 1_000_000) if "COUNT" in parts else None,
        until=_until(parts["UNTIL"], field) if "UNTIL" in parts else None,
        by_day=tuple(sorted(set(by_day))),
        by_month_day=tuple(sorted(set(by_month_day))),
        by_hour=tuple(sorted({_int(v, field, "BYHOUR", 0, 23) for v in _list(parts, "BYHOUR")})),
        by_minute=tuple(sorted({_int(v, field, "BYMINUTE", 0, 59) for v in _list(parts, "BYMINUTE")})),
    )


def _list(parts: dict[str, str], name: str) -> list[str]:
    return [v for v in parts.get(name, "").split(",") if v] if name in parts else []


def _int(text: str, field: str, name: str, low: int, high: int, *, nonzero: bool = False) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BudgetInputError(field, f"{name} must be a whole number, got {text!r}") from None
    if not low <= value <= high or (nonzero and value == 0):
        raise BudgetInputError(field, f"{name} must lie in {low}..{high}{' and not be 0' if nonzero else ''}, got {value}")
    return value


def _weekday(text: str, freq: str, field: str) -> tuple[int, int]:
    day = text[-2:]
    if day not in WEEKDAYS:
        raise BudgetInputError(field, f"BYDAY takes MO..SU, got {text!r}")
    ordinal = _int(text[:-2], field, "a BYDAY ordinal", -5, 5, nonzero=True) if text[:-2] else 0
    if ordinal and freq != "MONTHLY":
        raise BudgetInputError(field, f"a BYDAY ordinal ({text}) needs FREQ=MONTHLY")
    return ordinal, WEEKDAYS.index(day)


def _until(text: str, field: str) -> datetime:
    try:
        if len(text) == 8:
            # a date alone is its midnight, as dateutil reads it (RFC 5545 wants a date-time
            # here when the start has a time, so there is no rule to follow instead)
            return datetime.combine(date(int(text[:4]), int(text[4:6]), int(text[6:8])), time())
        utc = text.endswith("Z")
        stamp = datetime.strptime(text[:-1] if utc else text, "%Y%m%dT%H%M%S")
    except ValueError:
        raise BudgetInputError(field, f"UNTIL must be YYYYMMDD or YYYYMMDDTHHMMSS[Z], got {text!r}") from None
    return stamp.replace(tzinfo=timezone.utc) if utc else stamp


@dataclass(frozen=True, slots=True)
class RecurringExclusion:
    """`rule` from `start` (a naive wall-clock time in the IANA `zone`), each occurrence
    excluding [occurrence, occurrence + duration)."""

    rule: Rule
    start: datetime
    zone: str
    duration: timedelta

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None:
            raise BudgetInputError("start", "a wall-clock time without a zone (the zone is given apart)")
        if self.duration <= timedelta(0):
            raise BudgetInputError("duration", "must be positive")
        zone_of(self.zone, "zone")


def occurrences(rule: Rule, start: datetime) -> Iterator[datetime]:
    """The rule's occurrences from the naive local `start`, in order, as naive local times
    (unbounded without COUNT or UNTIL: the caller stops)."""
    seconds = start.second
    times = [time(h, m, seconds) for h in (rule.by_hour or (start.hour,)) for m in (rule.by_minute or (start.minute,))]
    emitted = empty = 0
    for period in _periods(rule, start.date()):
        found = False
        for day in _days(rule, period, start):
            for t in times:
                at = datetime.combine(day, t)
                if at < start:
                    continue
                if rule.until is not None and rule.until.tzinfo is None and at > rule.until:
                    return  # a UTC UNTIL needs the zone: `exclusion_intervals` checks it
                found = True
                yield at
                emitted += 1
                if rule.count is not None and emitted >= rule.count:
                    return
        empty = 0 if found else empty + 1
        if empty > _MAX_EMPTY_PERIODS:
            return


def _periods(rule: Rule, first: date) -> Iterator[date]:
    """The first day of each period the rule steps through."""
    if rule.freq == "DAILY":
        step, day = timedelta(days=rule.interval), first
    elif rule.freq == "WEEKLY":
        step, day = timedelta(weeks=rule.interval), first - timedelta(days=first.weekday())
    else:
        index = first.year * 12 + first.month - 1
        while True:
            year, month = divmod(index, 12)
            yield date(year, month + 1, 1)
            index += rule.interval
    while True:
        yield day
        day += step


def _days(rule: Rule, period: date, start: datetime) -> list[date]:
    if rule.freq == "DAILY":
        ok = (not rule.by_day or any(period.weekday() == wd for _, wd in rule.by_day)) and (
            not rule.by_month_day or _month_day_matches(period, rule.by_month_day))
        return [period] if ok else []
    if rule.freq == "WEEKLY":
        weekdays = sorted({wd for _, wd in rule.by_day}) if rule.by_day else [start.weekday()]
        return [period + timedelta(days=wd) for wd in weekdays]
    last = monthrange(period.year, period.month)[1]
    days = [period.replace(day=d) for d in range(1, last + 1)]
    if rule.by_month_day:
        days = [d for d in days if _month_day_matches(d, rule.by_month_day)]
    if rule.by_day:
        days = [d for d in days if _weekday_matches(d, rule.by_day, last)]
    if not rule.by_month_day and not rule.by_day:
        days = [d for d in days if d.day == start.day]
    return days


def _month_day_matches(day: date, month_days: tuple[int, ...]) -> bool:
    last = monthrange(day.year, day.month)[1]
    return day.day in month_days or (day.day - last - 1) in month_days


def _weekday_matches(day: date, by_day: tuple[tuple[int, int], ...], last: int) -> bool:
    nth, nth_from_end = (day.day - 1) // 7 + 1, -((last - day.day) // 7 + 1)
    return any(wd == day.weekday() and ordinal in (0, nth, nth_from_end) for ordinal, wd in by_day)


def exclusion_intervals(exclusion: RecurringExclusion, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """The excluded intervals meeting [since, until), as aware UTC instants, merged and clipped."""
    require_aware(since, "since")
    require_aware(until, "until")
    if until <= since:
        return []
    zone = zone_of(exclusion.zone, "zone")
    rule_until = exclusion.rule.until
    merged: list[tuple[datetime, datetime]] = []
    for local in occurrences(exclusion.rule, exclusion.start):
        begin = local.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
        if rule_until is not None and rule_until.tzinfo is not None and begin > rule_until:
            break
        if begin >= until:
            break  # occurrences are in local order, and so in UTC order within a zone
        end = begin + exclusion.duration
        if end <= since:
            continue
        begin, end = max(begin, since), min(end, until)
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged
