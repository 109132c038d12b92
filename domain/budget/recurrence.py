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

import re
from bisect import bisect_left, bisect_right
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator, Mapping

from .calendar import zone_of
from .errors import BudgetInputError
from .instants import US, US_PER_DAY, format_duration, from_us, parse_duration, require_aware, to_us

FREQS = ("DAILY", "WEEKLY", "MONTHLY")
_WHOLE = re.compile(r"[+-]?[0-9]+")
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
    # ASCII digits only: int() would also take '１' or '1_0'
    if not _WHOLE.fullmatch(text):
        raise BudgetInputError(field, f"{name} must be a whole number, got {text!r}")
    value = int(text)
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


def occurrences(rule: Rule, start: datetime, from_day: date | None = None) -> Iterator[datetime]:
    """The rule's occurrences from the naive local `start`, in order, as naive local times
    (unbounded without COUNT or UNTIL: the caller stops). With `from_day`, a rule without
    COUNT skips the periods that end before that local day (every occurrence on or after
    it is still given; some before it may be too): the occurrences of one period do not
    depend on the periods before it, only COUNT counts across them."""
    seconds = start.second
    times = [time(h, m, seconds) for h in (rule.by_hour or (start.hour,)) for m in (rule.by_minute or (start.minute,))]
    emitted = empty = 0
    skip_to = from_day if rule.count is None and from_day is not None and from_day > start.date() else None
    for period in _periods(rule, start.date(), skip_to):
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


def _periods(rule: Rule, first: date, skip_to: date | None = None) -> Iterator[date]:
    """The first day of each period the rule steps through (from the one holding `skip_to`,
    when given, in the rule's own steps from `first`)."""
    if rule.freq == "DAILY":
        step, day = timedelta(days=rule.interval), first
    elif rule.freq == "WEEKLY":
        step, day = timedelta(weeks=rule.interval), first - timedelta(days=first.weekday())
    else:
        index = first.year * 12 + first.month - 1
        if skip_to is not None:
            index += (skip_to.year * 12 + skip_to.month - 1 - index) // rule.interval * rule.interval
        while True:
            year, month = divmod(index, 12)
            yield date(year, month + 1, 1)
            index += rule.interval
    if skip_to is not None:
        day += (skip_to - day) // step * step
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
    return [(from_us(b), from_us(e)) for b, e in Expansion(exclusion).spans(to_us(since), to_us(until))]


# Occurrences are generated in local order; in UTC one can come before the one generated
# just ahead of it by up to a DST shift (a local time in a spring-forward gap), so the
# expansion reads this far past an instant before it answers about it.
_SLACK_US = 2 * US_PER_DAY


def _utc_spans(exclusion: RecurringExclusion, from_day: date | None = None) -> Iterator[tuple[int, int]]:
    """Each occurrence as [begin, end) in UTC microseconds, in generation order, unmerged
    (from the periods holding the local day `from_day` on, when given: see `occurrences`)."""
    zone = zone_of(exclusion.zone, "zone")
    rule_until = exclusion.rule.until
    until_us = to_us(rule_until) if rule_until is not None and rule_until.tzinfo is not None else None
    length = exclusion.duration // US
    for local in occurrences(exclusion.rule, exclusion.start, from_day):
        begin = to_us(local.replace(tzinfo=zone, fold=0))
        if until_us is not None and begin > until_us:
            if begin > until_us + _SLACK_US:
                return
            continue
        yield begin, begin + length


class Expansion:
    """A recurring exclusion's occurrences in UTC microseconds, expanded lazily as far as
    the questions asked reach, and kept (a memo of a pure expansion: sharing it between
    copies of a ledger is safe). This is the one expansion every budget path uses (the
    ledger's fold, snapshots, as-of reads, what-if, the listings).

    It starts near the first instant asked about, not at the rule's start (a rule without
    COUNT skips whole periods), so a rule recorded years ago costs what the data's span
    costs; a question about an earlier instant starts it again from there."""

    __slots__ = ("_exclusion", "_length", "_origin", "_source", "_begins", "_ends", "_maxend", "_seen", "_done",
                 "_complete_from")

    def __init__(self, exclusion: RecurringExclusion) -> None:
        self._exclusion = exclusion
        self._length = exclusion.duration // US
        # before any occurrence (the start's local day, less the widest zone offset and more)
        self._origin = to_us(datetime.combine(exclusion.start.date() - timedelta(days=2), time(), timezone.utc))
        self._complete_from: int | None = None  # every occurrence beginning from here on is (or will be) known
        self._source: Iterator[tuple[int, int]] = iter(())
        self._begins: list[int] = []  # sorted
        self._ends: list[int] = []
        self._maxend: list[int] = []  # running maximum of _ends: non-decreasing
        self._seen: int | None = None  # the latest begin generated so far
        self._done = False

    def _start_before(self, t_us: int) -> None:
        """Be complete from before `t_us` less an occurrence's length (so whatever covers
        `t_us` is found), restarting the expansion there when it began later."""
        need = max(t_us - self._length, self._origin)
        if self._complete_from is not None and self._complete_from <= need:
            return
        # Local days run at most 14 hours either side of UTC ones: from two UTC days
        # before, every occurrence from the UTC midnight one day before is generated.
        day = from_us(need).date() - timedelta(days=2)
        self._complete_from = to_us(datetime.combine(day + timedelta(days=1), time(), timezone.utc))
        self._source = _utc_spans(self._exclusion, day)
        self._begins, self._ends, self._maxend = [], [], []
        self._seen, self._done = None, False

    def _reach(self, t_us: int) -> None:
        """Expand until every occurrence beginning at or before `t_us` is known."""
        begins, ends, maxend = self._begins, self._ends, self._maxend
        while not self._done and (self._seen is None or self._seen <= t_us + _SLACK_US):
            item = next(self._source, None)
            if item is None:
                self._done = True
                break
            b, e = item
            self._seen = b if self._seen is None or b > self._seen else self._seen
            i = bisect_right(begins, b)
            begins.insert(i, b)
            ends.insert(i, e)
            maxend.insert(i, 0)
            m = maxend[i - 1] if i else e
            for j in range(i, len(begins)):
                m = ends[j] if ends[j] > m else m
                maxend[j] = m

    def covers(self, t_us: int) -> bool:
        """Whether the instant lies in an occurrence (asked per interval: the checks that
        need no work are made here)."""
        complete = self._complete_from
        if complete is None or complete > t_us - self._length:
            self._start_before(t_us)
        seen = self._seen
        if not self._done and (seen is None or seen <= t_us + _SLACK_US):
            self._reach(t_us)
        i = bisect_right(self._begins, t_us) - 1
        return i >= 0 and self._maxend[i] > t_us

    def spans(self, lo_us: int, hi_us: int) -> list[tuple[int, int]]:
        """The occurrences meeting [lo, hi), merged where they overlap or touch, clipped."""
        if hi_us <= lo_us:
            return []
        self._start_before(lo_us)
        self._reach(hi_us)
        begins, ends = self._begins, self._ends
        out: list[tuple[int, int]] = []
        for k in range(bisect_right(self._maxend, lo_us), len(begins)):
            b, e = begins[k], ends[k]
            if b >= hi_us:
                break
            if e <= lo_us:
                continue
            b, e = max(b, lo_us), min(e, hi_us)
            if out and b <= out[-1][1]:
                if e > out[-1][1]:
                    out[-1] = (out[-1][0], e)
            else:
                out.append((b, e))
        return out

    def next_after(self, t_us: int, limit: int) -> list[tuple[int, int]]:
        """Up to `limit` occurrences beginning at or after `t_us` (unmerged), in UTC order;
        the search ends a year of occurrences past `t_us`."""
        horizon = t_us + 366 * US_PER_DAY
        self._start_before(t_us)
        self._reach(horizon)
        i = bisect_left(self._begins, t_us)
        return [(b, e) for b, e in zip(self._begins[i:], self._ends[i:]) if b <= horizon][:limit]


# --- recorded recurring exclusions ----------------------------------------------------------

# The server expands a recorded rule on every fold, so a rule may not be denser than this
# (FREQ=SECONDLY, MINUTELY and HOURLY are refused by `parse_rrule` already).
MAX_TIMES_PER_DAY = 24
# COUNT is counted from the start, so such a rule is expanded from its start every time.
MAX_COUNT = 10_000
MAX_RRULE_LENGTH = 500
MIN_DURATION = timedelta(minutes=1)
MAX_DURATION = timedelta(days=31)
_FIRST_YEAR, _LAST_YEAR = 1970, 2200


def parse_local_start(value: object, field: str = "start") -> datetime:
    """DTSTART: a wall-clock date-time without an offset ('2026-01-04T02:00'), the zone
    given apart, as RFC 5545 writes DTSTART;TZID=..."""
    if isinstance(value, datetime):
        start = value
    elif isinstance(value, str) and value.strip():
        try:
            start = datetime.fromisoformat(value.strip())
        except ValueError:
            raise BudgetInputError(field, f"expected a local date-time such as 2026-01-04T02:00, got {value!r}") from None
    else:
        raise BudgetInputError(field, f"expected a local date-time such as 2026-01-04T02:00, got {value!r}")
    if start.tzinfo is not None:
        raise BudgetInputError(field, "a wall-clock time without an offset: the time zone is given apart (zone)")
    if not _FIRST_YEAR <= start.year <= _LAST_YEAR:
        raise BudgetInputError(field, f"the year must lie in {_FIRST_YEAR}..{_LAST_YEAR}, got {start.year}")
    if start.microsecond:
        raise BudgetInputError(field, "whole seconds only")
    return start


def recurring_exclusion(rrule: object, start: object, zone: object, duration: object, *,
                        limits: bool = True) -> RecurringExclusion:
    """A recurring exclusion from its parts as a command gives them, within the limits that
    keep its expansion cheap (raises `BudgetInputError` naming the field). `limits=False`
    reads a recorded one: the limits in force when it was accepted applied then, and a
    replay must not refuse what the log holds if they are tightened later."""
    if limits and isinstance(rrule, str) and len(rrule) > MAX_RRULE_LENGTH:
        raise BudgetInputError("rrule", f"at most {MAX_RRULE_LENGTH} characters")
    rule = parse_rrule(rrule, "rrule")
    times = len(rule.by_hour or (0,)) * len(rule.by_minute or (0,))
    if limits and times > MAX_TIMES_PER_DAY:
        raise BudgetInputError("rrule", f"at most {MAX_TIMES_PER_DAY} occurrences a day "
                                        f"(BYHOUR x BYMINUTE gives {times})")
    if limits and rule.count is not None and rule.count > MAX_COUNT:
        raise BudgetInputError("rrule", f"COUNT may be at most {MAX_COUNT:,} (or give UNTIL)")
    local = parse_local_start(start, "start")
    length = parse_duration(duration, "duration") if isinstance(duration, (str, timedelta)) else None
    if length is None:
        raise BudgetInputError("duration", f"expected a duration like '2h' or '90m', got {duration!r}")
    if length % timedelta(seconds=1) or (limits and not MIN_DURATION <= length <= MAX_DURATION):
        raise BudgetInputError("duration", f"must be whole seconds from {format_duration(MIN_DURATION)} "
                                           f"to {format_duration(MAX_DURATION)}, got {duration!r}")
    if not isinstance(zone, str):
        raise BudgetInputError("zone", f"expected an IANA time zone name, got {zone!r}")
    exclusion = RecurringExclusion(rule, local, zone, length)
    if limits and next(_utc_spans(exclusion), None) is None:
        raise BudgetInputError("rrule", "the rule has no occurrence from the start on")
    return exclusion


def normal_rrule(text: str) -> str:
    """The rule as recorded: upper case, without the 'RRULE:' prefix or blanks."""
    body = "".join(text.split()).upper()
    return body[len("RRULE:"):] if body.startswith("RRULE:") else body


@dataclass(frozen=True)
class Recurring:
    """A recorded recurring exclusion: `definition` applies to data starting before
    `ended_from_us` (None: for ever after). Equal when the recorded facts are."""

    id: str
    rrule: str
    definition: RecurringExclusion = field(compare=False)
    reason: str = ""
    ended_from_us: int | None = None
    expansion: Expansion = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.expansion is None:
            object.__setattr__(self, "expansion", Expansion(self.definition))

    @staticmethod
    def new(id: str, rrule: str, start: object, zone: str, duration: object, reason: str = "", *,
            limits: bool = True) -> "Recurring":
        definition = recurring_exclusion(rrule, start, zone, duration, limits=limits)
        return Recurring(id, normal_rrule(rrule), definition, reason)

    @property
    def start(self) -> datetime:
        return self.definition.start

    @property
    def zone(self) -> str:
        return self.definition.zone

    @property
    def duration(self) -> timedelta:
        return self.definition.duration

    @property
    def ended_from(self) -> datetime | None:
        return None if self.ended_from_us is None else from_us(self.ended_from_us)

    def same_definition(self, other: "Recurring") -> bool:
        a, b = self.definition, other.definition
        return (a.rule, a.start, a.zone, a.duration) == (b.rule, b.start, b.zone, b.duration)

    def ended(self, from_us_: int) -> "Recurring":
        """The same exclusion, applying only to data starting before `from_us_` (the
        expansion is shared: it does not depend on the end)."""
        return Recurring(self.id, self.rrule, self.definition, self.reason, from_us_, self.expansion)

    def covers(self, t_us: int) -> bool:
        return (self.ended_from_us is None or t_us < self.ended_from_us) and self.expansion.covers(t_us)

    def spans(self, lo_us: int, hi_us: int) -> list[tuple[int, int]]:
        """Where it applies within [lo, hi): its occurrences, cut at its end."""
        if self.ended_from_us is not None:
            hi_us = min(hi_us, self.ended_from_us)
        return self.expansion.spans(lo_us, hi_us)

    def next_occurrences(self, after_us: int, limit: int) -> list[tuple[int, int]]:
        """Its next `limit` occurrences beginning at or after `after_us` (none once ended)."""
        found = self.expansion.next_after(after_us, limit)
        if self.ended_from_us is not None:
            found = [(b, e) for b, e in found if b < self.ended_from_us]
        return found

    def to_dict(self) -> dict[str, Any]:
        d = self.definition
        return {
            "id": self.id, "rrule": self.rrule, "start": d.start.isoformat(), "zone": d.zone,
            "duration": format_duration(d.duration), "reason": self.reason,
            "ended_from": None if self.ended_from_us is None else from_us(self.ended_from_us).isoformat(),
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "Recurring":
        """From `to_dict` or an event's data (which holds the same keys but `ended_from`)."""
        ended = data.get("ended_from")
        item = Recurring.new(data["id"], data["rrule"], data["start"], data["zone"], data["duration"],
                             data.get("reason", "") or "", limits=False)
        return item if ended is None else item.ended(to_us(datetime.fromisoformat(ended), "ended_from"))
