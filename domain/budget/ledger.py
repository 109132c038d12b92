"""The error-budget ledger of one objective, and the decisions the service takes before appending.

State: the recorded observation intervals (never overlapping, so ordered by start and by
end alike), the active and restored exclusions, and -- for timeslices -- the per-slice
accumulated counts. Reads are answered from prefix sums over sorted arrays:

  * a window sum is two bisections and two subtractions: O(log n), whatever the history;
  * appending data in time order (the normal case) is O(1) amortised;
  * an out-of-order insert, a correction, an exclusion or a restore marks the prefix sums
    stale from the first index it touched; they are rebuilt from there on the next read
    (O(n - i) once), after which reads are O(log n) again.

Window membership: an interval counts in a window [ws, we) read as of `at` when
ws <= interval.start < we and interval.end <= at (it has been observed by `at`). So a
status "as of" a past moment ignores data that ended after it, and a read of the live
ledger at the latest event time sees everything. (Timeslices: see timeslices.py; slices
are judged once ended, and the single interval straddling `at`, if any, is left out of
the slices it feeds.)

Exclusions: an interval whose start lies in any active excluded range counts as neither
good nor bad -- in the budget and in the burn rates -- until the exclusion is restored.
A recurring exclusion (an RRULE, see recurrence.py) excludes the same way every interval
whose start lies in one of its occurrences and before the data time it was ended from;
its occurrences are expanded only as far as the recorded data reaches.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta
from fractions import Fraction
from itertools import accumulate, islice
from operator import le, lt
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from .burn import (
    Alert, AlertTier, burn_rate_exact, burn_rate_float, evaluate_tier_checks, fired_alert, parse_tiers, tier_check, windows_needed,
)
from .chart import ChartPoint
from .config import OCCURRENCES, RATIO_TIMESLICES, TIMESLICES, BudgetConfig, Budgeting
from .errors import BudgetInputError, IntervalConflict
from .exact import fl, q
from .instants import US, from_us, parse_duration, to_us
from .observations import Exclusion, Interval, check_not_future, check_volume
from .recurrence import Recurring
from .status import Figures, SpanBudget, Status, occurrence_budget, timeslice_budget
from .timeslices import end_of_judged, first_slice_in, ratio_verdict, slices_in_window, split, verdict
from .windows import ROLLING, Window

DEFAULT_STALE_AFTER = timedelta(minutes=15)
SNAPSHOT_VERSION = 1

NEW = "new"
DUPLICATE = "duplicate"
CORRECTION = "correction"
RESTORED = "restored"


class Judgement(NamedTuple):
    """The derived flags' inputs at one instant (see `Ledger.judge_at_us`)."""

    exhausted: bool
    remaining: float
    alerts: tuple[AlertTier, ...]  # the tiers firing, in tier order
    stale: bool


def _stale_after(value: timedelta | None) -> timedelta:
    if value is None:
        return DEFAULT_STALE_AFTER
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise BudgetInputError("stale_after", "a positive duration is required")
    return value


def _disjoint_ascending(starts: Sequence[int], ends: Sequence[int]) -> bool:
    """Each interval ends after it starts and by the next one's start. A logged run's
    ranges (runs.py: back to back, one positive length) are so by construction."""
    if (type(starts) is range and type(ends) is range and starts.step > 0 and ends.step == starts.step
            and ends.start == starts.start + starts.step and len(ends) == len(starts)):
        return True
    return all(map(lt, starts, ends)) and all(map(le, ends, islice(starts, 1, None)))


class Ledger:
    """Budget state of one objective with incremental updates and O(log n) reads.

    Mutating methods (`record`, `correct`, `exclude`, `restore`) validate first and change
    nothing when they raise. Use `copy()` to keep a "before" state.
    """

    def __init__(
        self,
        target: float,
        window: Mapping[str, Any] | Window,
        budgeting: Mapping[str, Any] | Budgeting | None = None,
        *,
        tiers: Iterable[Mapping[str, Any] | AlertTier] | None = None,
        stale_after: timedelta | None = None,
    ) -> None:
        self.config = BudgetConfig.parse(target, window, budgeting)
        self.tiers: tuple[AlertTier, ...] = parse_tiers(tiers)
        self.stale_after: timedelta = _stale_after(stale_after)
        self._err: Fraction = self.config.error_rate_allowed
        b = self.config.budgeting
        self._timeslices = b.method in (TIMESLICES, RATIO_TIMESLICES)
        # RatioTimeslices: a slice spends its bad share (a Fraction) instead of 0 or 1.
        self._ratio = b.method == RATIO_TIMESLICES
        self._verdict = ratio_verdict if self._ratio else verdict
        self._L: int = b.slice_us if self._timeslices else 0
        self._thr: Fraction = q(b.slice_threshold) if self._timeslices and not self._ratio else Fraction(0)
        self._dur_cache: dict[str, int] = {}
        self._period: tuple[int, int] | None = None  # the calendar period last judged in
        self._windows_cache: tuple[tuple[AlertTier, ...], tuple[tuple[str, int], ...]] | None = None
        self._checks_cache: tuple[tuple[AlertTier, ...], tuple[tuple[AlertTier, int, int, int, int], ...]] | None = None
        # Bumped by every change of the data; `status` answers a repeated question from
        # `_memo` (the reactor and the read model ask the same one after each command).
        self._gen = 0
        self._memo: tuple[Any, Status] | None = None
        self._figures_memo: tuple[Any, Figures] | None = None
        # intervals, ordered by start (and so by end)
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._good: list[int] = []
        self._total: list[int] = []
        self._cover: list[int] = []  # number of active exclusions covering the interval's start
        self._pg: list[int] = [0]  # prefix sums of effective (non-excluded) good/total
        self._pt: list[int] = [0]
        self._pvalid = 0  # _pg/_pt are right for indices 0.._pvalid
        # timeslices: every slice ever touched, ordered by index
        self._skeys: list[int] = []
        self._sgood: list[int | Fraction] = []
        self._stotal: list[int | Fraction] = []
        self._sdata: list[int] = []
        self._sbad: list[int] = []
        self._pdata: list[int] = [0]
        self._pbad: list[int] = [0]
        self._svalid = 0
        # exclusions
        self._active: dict[str, Exclusion] = {}
        self._restored: dict[str, Exclusion] = {}
        self._recurring: dict[str, Recurring] = {}  # ended ones too (they apply before their end)

    # ------------------------------------------------------------------ reading the data

    def __len__(self) -> int:
        return len(self._starts)

    def intervals(self) -> list[Interval]:
        return [Interval._from_us(*r) for r in zip(self._starts, self._ends, self._good, self._total)]

    def get(self, start: datetime, end: datetime) -> Interval | None:
        s, e = to_us(start, "start"), to_us(end, "end")
        i = bisect_left(self._starts, s)
        if i < len(self._starts) and self._starts[i] == s and self._ends[i] == e:
            return Interval._from_us(s, e, self._good[i], self._total[i])
        return None

    def is_excluded(self, interval: Interval) -> bool:
        return self._cover_at(interval.start_us) > 0

    def _cover_at(self, s: int) -> int:
        """How many active exclusions, one-off and recurring, cover the instant `s`."""
        cover = sum(1 for x in self._active.values() if to_us(x.start) <= s < to_us(x.end)) if self._active else 0
        for r in self._recurring.values():
            if r.covers(s):
                cover += 1
        return cover

    def _recurring_cover(self, starts: Sequence[int]) -> list[int]:
        """For ascending `starts`, how many recurring exclusions cover each (by their
        occurrences over the span, not instant by instant)."""
        out = [0] * len(starts)
        if not starts:
            return out
        lo, hi = starts[0], starts[-1] + 1
        for item in self._recurring.values():
            for b, e in item.spans(lo, hi):
                for i in range(bisect_left(starts, b), bisect_left(starts, e)):
                    out[i] += 1
        return out

    @property
    def recurring_exclusions(self) -> tuple[Recurring, ...]:
        """Recurring exclusions in the order they were added, ended ones too."""
        return tuple(self._recurring.values())

    @property
    def exclusions(self) -> tuple[Exclusion, ...]:
        """Active exclusions, in the order they were applied."""
        return tuple(self._active.values())

    @property
    def restored_exclusions(self) -> tuple[Exclusion, ...]:
        return tuple(self._restored.values())

    @property
    def last_observation_end(self) -> datetime | None:
        return from_us(self._ends[-1]) if self._ends else None

    @property
    def last_end_us(self) -> int | None:
        return self._ends[-1] if self._ends else None

    def added_ends(self, starts: Sequence[int]) -> tuple[int | None, list[int]]:
        """For a batch just recorded, its intervals starting at `starts` (ascending): the
        latest other observation end (what the last end was before it) and the batch's
        ends, ascending."""
        all_starts, ends = self._starts, self._ends
        n, k = len(all_starts), len(starts)
        if all_starts[n - k:] == list(starts):  # appended in time order: the usual case
            return (ends[n - k - 1] if n > k else None), ends[n - k:]
        added = set(starts)
        i = n - 1
        while i >= 0 and all_starts[i] in added:
            i -= 1
        return (ends[i] if i >= 0 else None), [ends[bisect_left(all_starts, s)] for s in starts]

    # ------------------------------------------------------------------ decisions

    def _locate(self, s: int, e: int) -> tuple[str, int]:
        """("same", i) identical bounds at i; ("overlap", i) clashes with i; ("free", i) insert at i."""
        starts, ends = self._starts, self._ends
        n = len(starts)
        i = bisect_left(starts, s)
        if i < n and starts[i] == s:
            return ("same", i) if ends[i] == e else ("overlap", i)
        if i > 0 and ends[i - 1] > s:
            return "overlap", i - 1
        if i < n and starts[i] < e:
            return "overlap", i
        return "free", i

    def _overlap_error(self, i: int, interval: Interval) -> IntervalConflict:
        other = f"[{from_us(self._starts[i]).isoformat()}, {from_us(self._ends[i]).isoformat()})"
        return IntervalConflict(
            "start",
            f"[{interval.start.isoformat()}, {interval.end.isoformat()}) overlaps the recorded interval {other}",
            "overlap",
        )

    def classify(self, interval: Interval, *, at: datetime | None = None) -> str:
        """"new" or "duplicate" (identical, a no-op); raises on a conflicting count or an overlap."""
        if not isinstance(interval, Interval):
            raise BudgetInputError("interval", "expected an Interval")
        check_volume(interval)
        if at is not None:
            check_not_future(interval, at)
        where, i = self._locate(interval.start_us, interval.end_us)
        if where == "free":
            return NEW
        if where == "overlap":
            raise self._overlap_error(i, interval)
        if self._good[i] == interval.good and self._total[i] == interval.total:
            return DUPLICATE
        raise IntervalConflict(
            "total",
            f"[{interval.start.isoformat()}, {interval.end.isoformat()}) is already recorded as "
            f"{self._good[i]}/{self._total[i]} good; sending {interval.good}/{interval.total} needs an explicit correction",
            "conflict",
        )

    def free_rows(self, starts: Sequence[int], ends: Sequence[int]) -> list[int]:
        """The indices of the intervals [starts[k], ends[k]) that neither repeat nor overlap a
        recorded one -- those `classify` would find new, its volume and time checks aside --
        given ascending starts: one bisection each, from where the last one stopped."""
        m = len(starts)
        own_starts, own_ends = self._starts, self._ends
        n = len(own_starts)
        if not n or not m or ends[-1] <= own_starts[0] or starts[0] >= own_ends[-1]:
            return list(range(m))
        out = []
        i = 0
        for k, (s, e) in enumerate(zip(starts, ends)):
            i = bisect_left(own_starts, s, i)
            if (i < n and own_starts[i] < e) or (i > 0 and own_ends[i - 1] > s):
                continue
            out.append(k)
        return out

    def classify_correction(self, interval: Interval, *, at: datetime | None = None) -> str:
        """"correction" (replaces the counts) or "duplicate" (same counts, a no-op); raises when
        no interval with exactly these bounds is recorded, or the bounds overlap another one."""
        if not isinstance(interval, Interval):
            raise BudgetInputError("interval", "expected an Interval")
        check_volume(interval)
        if at is not None:
            check_not_future(interval, at)
        where, i = self._locate(interval.start_us, interval.end_us)
        if where == "overlap":
            raise self._overlap_error(i, interval)
        if where == "free":
            raise IntervalConflict(
                "start",
                f"no interval [{interval.start.isoformat()}, {interval.end.isoformat()}) is recorded: nothing to correct",
                "missing",
            )
        if self._good[i] == interval.good and self._total[i] == interval.total:
            return DUPLICATE
        return CORRECTION

    def classify_batch(self, intervals: Sequence[Interval], *, at: datetime | None = None) -> list[str]:
        """Decisions for a batch recorded in one event: each "new" or "duplicate", checked against
        the ledger and against the batch's other intervals (a repeat inside a batch is a duplicate;
        a clash inside a batch is refused like a clash with the ledger)."""
        decisions = [self.classify(iv, at=at) for iv in intervals]
        fresh = sorted((iv.start_us, iv.end_us, n) for n, iv in enumerate(intervals) if decisions[n] == NEW)
        for (s0, e0, n0), (s1, e1, n1) in zip(fresh, fresh[1:]):
            a, b = intervals[n0], intervals[n1]
            if (s0, e0) == (s1, e1):
                if (a.good, a.total) != (b.good, b.total):
                    raise IntervalConflict("total", f"the batch sends [{a.start.isoformat()}, {a.end.isoformat()}) twice with different counts", "conflict")
                decisions[n1] = DUPLICATE
            elif s1 < e0:
                raise IntervalConflict("start", f"the batch's intervals starting {a.start.isoformat()} and {b.start.isoformat()} overlap", "overlap")
        return decisions

    def classify_exclusion(self, exclusion: Exclusion) -> str:
        """"new" or "duplicate" (same id, same range); an id reused otherwise is refused."""
        if not isinstance(exclusion, Exclusion):
            raise BudgetInputError("exclusion", "expected an Exclusion")
        current = self._active.get(exclusion.id)
        if current is not None:
            if (current.start, current.end) == (exclusion.start, exclusion.end):
                return DUPLICATE
            raise IntervalConflict("exclusion_id", f"exclusion {exclusion.id!r} is active with a different range", "exclusion")
        if exclusion.id in self._restored:
            raise IntervalConflict("exclusion_id", f"exclusion {exclusion.id!r} was restored; exclude again under a new id", "exclusion")
        return NEW

    def classify_recurring(self, item: Recurring) -> str:
        """"new" or "duplicate" (same id, same rule, start, zone and duration, not ended);
        an id reused otherwise, or after its end, is refused."""
        if not isinstance(item, Recurring):
            raise BudgetInputError("exclusion", "expected a recurring exclusion")
        current = self._recurring.get(item.id)
        if current is None:
            return NEW
        if current.ended_from_us is not None:
            raise IntervalConflict("exclusion_id", f"recurring exclusion {item.id!r} was ended; add it again under "
                                                   "a new id", "exclusion")
        if current.same_definition(item):
            return DUPLICATE
        raise IntervalConflict("exclusion_id", f"recurring exclusion {item.id!r} exists with another definition "
                                               "(end it and add a new one)", "exclusion")

    def classify_end_recurring(self, exclusion_id: str, from_us_: int) -> str:
        """"restored" (it ends there) or "duplicate" (already ended there); an unknown id is
        refused, and so is another end for one already ended."""
        current = self._recurring.get(exclusion_id)
        if current is None:
            raise BudgetInputError("exclusion_id", f"no recurring exclusion {exclusion_id!r}")
        if current.ended_from_us is None:
            return RESTORED
        if current.ended_from_us == from_us_:
            return DUPLICATE
        raise IntervalConflict("from", f"recurring exclusion {exclusion_id!r} already ended from "
                                       f"{from_us(current.ended_from_us).isoformat()}", "exclusion")

    def classify_restore(self, exclusion_id: str) -> str:
        """"restored" or "duplicate" (already restored); an unknown id is refused."""
        if exclusion_id in self._active:
            return RESTORED
        if exclusion_id in self._restored:
            return DUPLICATE
        raise BudgetInputError("exclusion_id", f"no exclusion {exclusion_id!r}")

    # ------------------------------------------------------------------ updates

    def record(self, interval: Interval) -> str:
        """Record one interval: "new" or "duplicate" (no-op); raises like `classify`."""
        decision = self.classify(interval)
        if decision == NEW:
            s, e = interval.start_us, interval.end_us
            self._insert(bisect_left(self._starts, s), s, e, interval.good, interval.total)
        return decision

    def record_batch(self, intervals: Sequence[Interval]) -> list[str]:
        decisions = self.classify_batch(intervals)
        for iv, d in zip(intervals, decisions):
            if d == NEW:
                s = iv.start_us
                self._insert(bisect_left(self._starts, s), s, iv.end_us, iv.good, iv.total)
        return decisions

    def record_rows(self, rows: Sequence[tuple[int, int, int, int]]) -> None:
        """Record (start_us, end_us, good, total) rows a decision already accepted as new
        (the log's ObservationsRecorded): no Interval objects, but still refused, changing
        nothing, when one is not new or they overlap."""
        if not rows:
            return
        starts, ends = self._starts, self._ends
        n = len(starts)
        if len(rows) == 1:  # what a live exporter's one-minute push logs: the common case
            s, e, g, t = rows[0]
            i = bisect_left(starts, s)
            if 0 <= g <= t and s < e and not ((i < n and starts[i] < e) or (i > 0 and ends[i - 1] > s)):
                self._insert(i, s, e, g, t)
                return
        prev_end = None
        ordered = True
        for s, e, g, t in rows:
            if not (0 <= g <= t and s < e) or (prev_end is not None and s < prev_end):
                ordered = False
                break
            prev_end = e
        if not ordered:  # not the shape the decider writes: take the general path
            self.record_batch([Interval._from_us(*r) for r in rows])
            return
        if (not n or ends[-1] <= rows[0][0]) and not self._active and not self._timeslices:
            # After everything recorded, nothing excluded but by recurring exclusions:
            # appended as columns (a fold of a long per-minute history is mostly this).
            starts.extend([r[0] for r in rows])
            ends.extend([r[1] for r in rows])
            self._good.extend([r[2] for r in rows])
            self._total.extend([r[3] for r in rows])
            if self._recurring:
                self._cover.extend(self._recurring_cover([r[0] for r in rows]))
            else:
                self._cover.extend([0] * len(rows))
            self._gen += len(rows)
            return
        for s, e, _, _ in rows:
            i = bisect_left(starts, s)
            if (i < n and starts[i] < e) or (i > 0 and ends[i - 1] > s):
                self.record_batch([Interval._from_us(*r) for r in rows])  # raises with the reason
                return
        for s, e, g, t in rows:
            self._insert(bisect_left(starts, s), s, e, g, t)

    def record_columns(self, starts: Sequence[int], ends: Sequence[int], good: Sequence[int], total: Sequence[int]) -> None:
        """`record_rows` of rows given as columns: a batch after everything recorded (and
        nothing excluded but by recurring exclusions) is checked and appended column by
        column; anything else goes row by row."""
        own_ends = self._ends
        if (starts and (not own_ends or own_ends[-1] <= starts[0]) and not self._active and not self._timeslices
                and min(good) >= 0 and all(map(le, good, total)) and _disjoint_ascending(starts, ends)):
            self._starts.extend(starts)
            own_ends.extend(ends)
            self._good.extend(good)
            self._total.extend(total)
            if self._recurring:
                self._cover.extend(self._recurring_cover(list(starts)))
            else:
                self._cover.extend([0] * len(starts))
            self._gen += len(starts)
            return
        self.record_rows(list(zip(starts, ends, good, total)))

    def correct(self, interval: Interval) -> str:
        """Replace the counts of an already-recorded interval: "correction" or "duplicate"."""
        decision = self.classify_correction(interval)
        if decision == CORRECTION:
            s = interval.start_us
            i = bisect_left(self._starts, s)
            if self._timeslices and self._cover[i] == 0:
                self._slices_add(s, self._ends[i], self._good[i], self._total[i], -1)
                self._slices_add(s, self._ends[i], interval.good, interval.total, +1)
            self._good[i] = interval.good
            self._total[i] = interval.total
            self._pvalid = min(self._pvalid, i)
            self._gen += 1
        return decision

    def exclude(self, exclusion: Exclusion) -> str:
        """Apply an exclusion: "new" or "duplicate"."""
        decision = self.classify_exclusion(exclusion)
        if decision == NEW:
            self._active[exclusion.id] = exclusion
            self._cover_range(to_us(exclusion.start), to_us(exclusion.end), +1)
        return decision

    def restore(self, exclusion_id: str) -> str:
        """Restore (un-exclude) by id: "restored" or "duplicate"."""
        decision = self.classify_restore(exclusion_id)
        if decision == RESTORED:
            x = self._active.pop(exclusion_id)
            self._restored[exclusion_id] = x
            self._cover_range(to_us(x.start), to_us(x.end), -1)
        return decision

    def exclude_recurring(self, item: Recurring) -> str:
        """Apply a recurring exclusion to the data recorded and to come: "new" or "duplicate"."""
        decision = self.classify_recurring(item)
        if decision == NEW:
            self._recurring[item.id] = item
            self._cover_recurring(item, None, +1)
        return decision

    def end_recurring(self, exclusion_id: str, from_us_: int) -> str:
        """A recurring exclusion stops applying to data starting at `from_us_` or later:
        "restored" or "duplicate"."""
        decision = self.classify_end_recurring(exclusion_id, from_us_)
        if decision == RESTORED:
            current = self._recurring[exclusion_id]
            self._recurring[exclusion_id] = current.ended(from_us_)
            self._cover_recurring(current, from_us_, -1)
        return decision

    def _cover_recurring(self, item: Recurring, since: int | None, delta: int) -> None:
        """Count `item` in (or out of) the cover of the recorded intervals whose start lies
        in its occurrences (from `since` on)."""
        if not self._starts:
            self._gen += 1
            return
        lo = self._starts[0] if since is None else max(since, self._starts[0])
        for b, e in item.spans(lo, self._starts[-1] + 1):
            self._cover_range(b, e, delta)
        self._gen += 1

    def _insert(self, i: int, s: int, e: int, g: int, t: int) -> None:
        cover = self._cover_at(s) if self._active or self._recurring else 0
        if i == len(self._starts):  # data in time order: the common case
            self._starts.append(s)
            self._ends.append(e)
            self._good.append(g)
            self._total.append(t)
            self._cover.append(cover)
        else:
            self._starts.insert(i, s)
            self._ends.insert(i, e)
            self._good.insert(i, g)
            self._total.insert(i, t)
            self._cover.insert(i, cover)
        self._pvalid = min(self._pvalid, i)
        self._gen += 1
        if self._timeslices and cover == 0:
            self._slices_add(s, e, g, t, +1)

    def _cover_range(self, s: int, e: int, delta: int) -> None:
        self._gen += 1
        lo = bisect_left(self._starts, s)
        hi = bisect_left(self._starts, e)
        cover = self._cover
        for i in range(lo, hi):
            before = cover[i]
            cover[i] = before + delta
            if (before == 0) != (cover[i] == 0):  # the interval changed sides
                self._pvalid = min(self._pvalid, i)
                if self._timeslices:
                    self._slices_add(self._starts[i], self._ends[i], self._good[i], self._total[i], -delta)

    def _slices_add(self, s: int, e: int, g: int, t: int, sign: int) -> None:
        keys = self._skeys
        for k, cg, ct in split(s, e, g, t, self._L):
            j = bisect_left(keys, k)
            if j == len(keys) or keys[j] != k:
                keys.insert(j, k)
                self._sgood.insert(j, 0)
                self._stotal.insert(j, 0)
                self._sdata.insert(j, 0)
                self._sbad.insert(j, 0)
                self._svalid = min(self._svalid, j)
            if sign > 0:
                self._sgood[j] += cg
                self._stotal[j] += ct
            else:
                self._sgood[j] -= cg
                self._stotal[j] -= ct
            d, b = self._verdict(self._sgood[j], self._stotal[j], self._thr)
            if d != self._sdata[j] or b != self._sbad[j]:
                self._sdata[j] = d
                self._sbad[j] = b
                self._svalid = min(self._svalid, j)

    # ------------------------------------------------------------------ sums

    def _prefix(self) -> tuple[list[int], list[int]]:
        n = len(self._starts)
        v = self._pvalid
        pg, pt = self._pg, self._pt
        if v < n or len(pg) != n + 1:
            del pg[v + 1:]
            del pt[v + 1:]
            if n - v == 1:  # one interval appended since: the live exporter's push
                counted = self._cover[v] == 0
                pg.append(pg[v] + self._good[v] if counted else pg[v])
                pt.append(pt[v] + self._total[v] if counted else pt[v])
                self._pvalid = n
                return pg, pt
            good, total, cover = self._good[v:n], self._total[v:n], self._cover[v:n]
            if any(cover):  # excluded intervals count as neither good nor bad
                good = [x if c == 0 else 0 for x, c in zip(good, cover)]
                total = [x if c == 0 else 0 for x, c in zip(total, cover)]
            # accumulate runs in C: a ledger loaded from a snapshot sums 43,200 intervals
            # of a 30-day window on its first status.
            pg.extend(islice(accumulate(good, initial=pg[v]), 1, None))
            pt.extend(islice(accumulate(total, initial=pt[v]), 1, None))
            self._pvalid = n
        return pg, pt

    def _slice_prefix(self) -> tuple[list[int], list[int]]:
        m = len(self._skeys)
        v = self._svalid
        pd, pb = self._pdata, self._pbad
        if v < m or len(pd) != m + 1:
            del pd[v + 1:]
            del pb[v + 1:]
            d, b = pd[v], pb[v]
            sdata, sbad = self._sdata, self._sbad
            for j in range(v, m):
                d += sdata[j]
                b += sbad[j]
                pd.append(d)
                pb.append(b)
            self._svalid = m
        return pd, pb

    def _events(self, ws: int, we: int, at: int) -> tuple[int, int]:
        """(good, total) over intervals with ws <= start < we and end <= at, exclusions applied."""
        lo = bisect_left(self._starts, ws)
        hi = min(bisect_right(self._ends, at), bisect_left(self._starts, we))
        if hi <= lo:
            return 0, 0
        pg, pt = self._prefix()
        return pg[hi] - pg[lo], pt[hi] - pt[lo]

    def _slices(self, ws: int, we: int, at: int) -> tuple[int, int]:
        """(slices with data, bad slices) among slices starting in [ws, we) and ended by `at`,
        from data that had ended by `at`."""
        L = self._L
        klo = first_slice_in(ws, L)
        khi = min(end_of_judged(at, L), first_slice_in(we, L))
        if khi <= klo:
            return 0, 0
        keys = self._skeys
        jlo = bisect_left(keys, klo)
        jhi = bisect_left(keys, khi)
        pd, pb = self._slice_prefix()
        data = pd[jhi] - pd[jlo]
        bad = pb[jhi] - pb[jlo]
        # The one interval (if any) with start < at < end has not been observed by `at`:
        # take its share back out of the judged slices it feeds.
        x = bisect_right(self._ends, at)
        if x < len(self._starts) and self._starts[x] < at and self._cover[x] == 0:
            for k, cg, ct in split(self._starts[x], self._ends[x], self._good[x], self._total[x], L):
                if k < klo:
                    continue
                if k >= khi:
                    break
                j = bisect_left(keys, k)
                d1, b1 = self._verdict(self._sgood[j] - cg, self._stotal[j] - ct, self._thr)
                data += d1 - self._sdata[j]
                bad += b1 - self._sbad[j]
        return data, bad

    def _windows(self, tiers_: tuple[AlertTier, ...]) -> tuple[tuple[str, int], ...]:
        """(label, length in us) of every burn window the tiers need, remembered per tiers."""
        cached = self._windows_cache
        if cached is not None and cached[0] is tiers_:
            return cached[1]
        windows = tuple((label, self._dur(label)) for label in windows_needed(tiers_))
        self._windows_cache = (tiers_, windows)
        return windows

    def _tier_checks(self, tiers_: tuple[AlertTier, ...]) -> tuple[tuple[AlertTier, int, int, int, int], ...]:
        """Per tier (tier, a, c, short window us, long window us): a window's burn reaches the
        tier's threshold when bad * a >= c * total (`burn_reaches` in integers), remembered
        per tiers like `_windows`."""
        cached = self._checks_cache
        if cached is not None and cached[0] is tiers_:
            return cached[1]
        checks = []
        for tier in tiers_:
            checks.append((tier, *tier_check(tier, self._err), self._dur(tier.short_window),
                           self._dur(tier.long_window)))
        self._checks_cache = (tiers_, tuple(checks))
        return self._checks_cache[1]

    def _dur(self, label: str) -> int:
        us = self._dur_cache.get(label)
        if us is None:
            us = self._dur_cache[label] = parse_duration(label) // US
        return us

    def _burn(self, at: int, window_us: int) -> Fraction | None:
        g, t = self._events(at - window_us, at + 1, at)
        return burn_rate_exact(t - g, t, self._err)

    # ------------------------------------------------------------------ reads

    def burn_rate(self, at: datetime, window: str | timedelta) -> float | None:
        """(bad_w/total_w)/(1 - target) over [at - window, at); None without traffic."""
        w = parse_duration(window) // US
        return fl(self._burn(to_us(at), w))

    def status(
        self,
        at: datetime,
        *,
        tiers: Iterable[Mapping[str, Any] | AlertTier] | None = None,
        stale_after: timedelta | None = None,
    ) -> Status:
        """The budget as of `at` over the objective's window (see module and status.py docs)."""
        return self.status_at_us(to_us(at), tiers=tiers, stale_after=stale_after)

    def status_at_us(
        self,
        at_us: int,
        *,
        tiers: Iterable[Mapping[str, Any] | AlertTier] | None = None,
        stale_after: timedelta | None = None,
    ) -> Status:
        """`status` at a time in microseconds since the epoch."""
        tiers_ = self.tiers if tiers is None else parse_tiers(tiers)
        stale_after_ = self.stale_after if stale_after is None else _stale_after(stale_after)
        key = (self._gen, at_us, tiers_, stale_after_)
        memo = self._memo
        if memo is not None and memo[0] == key:
            return memo[1]
        status = self._status(at_us, tiers_, stale_after_)
        self._memo = (key, status)
        return status

    def _bounds_us(self, at_us: int) -> tuple[int, int]:
        """The compliance window `at_us` is judged in, in microseconds (see windows.py).
        A calendar period is remembered: a batch is judged at every minute it holds, and
        each minute's period is the last one's but at a boundary."""
        window = self.config.window
        if window.kind == ROLLING:
            return window.bounds_us(at_us)
        period = self._period
        if period is not None and period[0] <= at_us < period[1]:
            return period
        period = self._period = window.bounds_us(at_us)
        return period

    def _budget(self, ws: int, we: int, at_us: int) -> tuple:
        """(good, total, slices with data | None, bad slices | None, allowed, consumed,
        remaining, exhausted) over the window as of `at_us`: the figures `status` reports and
        `judge_at_us` compares, computed one way for both."""
        good, total = self._events(ws, we, at_us)
        if self._timeslices:
            data, bad_slices = self._slices(ws, we, at_us)
            allowed, consumed, remaining = timeslice_budget(bad_slices, slices_in_window(we - ws, self._L), self._err)
            return good, total, data, bad_slices, float(allowed), float(consumed), float(remaining), remaining <= 0
        return (good, total, None, None, *_occurrences(total - good, total, self._err))

    def budget_at_us(self, at_us: int) -> tuple[bool, float, bool]:
        """(anything to judge, remaining, exhausted) as of `at_us`: `status`'s `remaining` and
        `exhausted` -- and whether its window had events (occurrences) or slices
        (timeslices) -- without the rest of a Status."""
        ws, we = self._bounds_us(at_us)
        budget = self._budget(ws, we, at_us)
        counted = budget[1] != 0 or (self._timeslices and slices_in_window(we - ws, self._L) != 0)
        return counted, budget[6], budget[7]

    def budgets_at_us(self, at_us: int, error_rates: Sequence[Fraction]) -> list[tuple[bool, float, bool]]:
        """`budget_at_us` as a ledger of this data, window and budgeting answers under each of
        `error_rates` (a target's `BudgetConfig.error_rate_allowed`) in place of its own: the
        window's events or slices are read once for all (a baseline judges several candidate
        targets every hour of its period)."""
        ws, we = self._bounds_us(at_us)
        good, total = self._events(ws, we, at_us)
        if self._timeslices:
            bad_slices = self._slices(ws, we, at_us)[1]
            window_slices = slices_in_window(we - ws, self._L)
            counted = total != 0 or window_slices != 0
            out = []
            for err in error_rates:
                remaining = timeslice_budget(bad_slices, window_slices, err)[2]
                out.append((counted, float(remaining), remaining <= 0))
            return out
        bad = total - good
        return [(total != 0, *_occurrences(bad, total, err)[2:]) for err in error_rates]

    def judge_at_us(
        self, at_us: int, tiers_: tuple[AlertTier, ...] | None = None, stale_after_: timedelta | None = None
    ) -> Judgement:
        """What the derived transitions compare at `at_us` -- exhausted, the tiers firing,
        stale -- and the remaining budget a policy reads: `status`'s figures without the
        rest of a Status (a batch is judged at every instant its data reaches)."""
        tiers_ = self.tiers if tiers_ is None else tiers_
        stale_us = (self.stale_after if stale_after_ is None else stale_after_) // US
        budget, firing, stale = self._judge(at_us, tiers_, stale_us)
        return Judgement(budget[7], budget[6], tuple([f[0] for f in firing]) if firing else (), stale)

    def figures_at_us(self, at_us: int) -> Figures:
        """`status`'s budget figures, alerts and staleness at `at_us` (its tiers, its
        staleness), without its burn rates of every window or its times: what the reactor
        compares after a one-instant command and the budget read model's row then shows,
        so it is remembered (like `status`) for the row to read. A third of a Status's cost."""
        key = (self._gen, at_us, self.tiers, self.stale_after)
        memo = self._figures_memo
        if memo is not None and memo[0] == key:
            return memo[1]
        budget, firing, stale = self._judge(at_us, self.tiers, self.stale_after // US)
        alerts: tuple[Alert, ...] = ()
        if firing:
            alerts = tuple(fired_alert(t, short, long_, self._err) for t, short, long_ in firing)
        figures = Figures(budget[0], budget[1], budget[4], budget[5], budget[6], budget[7], alerts, stale)
        self._figures_memo = (key, figures)
        return figures

    def _judge(self, at_us: int, tiers_: tuple[AlertTier, ...], stale_us: int) -> tuple[tuple, list, bool]:
        """`_budget` at `at_us`; the tiers firing there, each as (tier, its short window's
        (bad, total), its long one's), in tier order; and stale."""
        ws, we = self._bounds_us(at_us)
        budget = self._budget(ws, we, at_us)
        starts, ends = self._starts, self._ends
        top = bisect_right(ends, at_us)
        hi = min(top, bisect_left(starts, at_us + 1))
        pg, pt = self._prefix()
        firing = []
        counts: dict[int, tuple[int, int]] = {}
        for tier, a, c, short_us, long_us in self._tier_checks(tiers_):
            for dur in (short_us, long_us):  # the short one fails most often
                bt = counts.get(dur)
                if bt is None:
                    lo = bisect_left(starts, at_us - dur)
                    t = pt[hi] - pt[lo] if hi > lo else 0
                    bt = counts[dur] = (t - (pg[hi] - pg[lo]) if hi > lo else 0, t)
                if bt[1] <= 0 or bt[0] * a < c * bt[1]:  # burn_reaches, inlined
                    break
            else:
                firing.append((tier, counts[short_us], counts[long_us]))
        stale = top > 0 and ends[top - 1] < at_us - stale_us
        return budget, firing, stale

    def steady(self, points: Sequence[int], exhausted: bool, firing: frozenset, stale: bool) -> bool:
        """True when no flag can differ from (exhausted, firing tier keys, stale) at any of
        `points` (ascending), proved by bounds instead of judging each instant (a batch of
        healthy minutes, the common case, is then judged in O(tiers) bisections). False
        says nothing: judge each point.

        A window's counted intervals at p are an index range [lo(p), hi(p)) whose bounds
        never move back as p grows (rolling and calendar windows alike), so every window
        of the batch holds [lo(last), hi(first)) and lies inside [lo(first), hi(last)):
        bad over the larger range against total over the smaller one bounds every ratio."""
        if self._timeslices or stale or not points:
            return False
        first, last = points[0], points[-1]
        starts, ends = self._starts, self._ends
        # Not stale at a point that is an interval's end (a batch's own ends, in order, the
        # usual case: one slice comparison).
        i = bisect_left(ends, first)
        if ends[i:i + len(points)] != points:
            for p in points:
                k = bisect_right(ends, p)
                if k == 0 or ends[k - 1] != p:
                    return False
        pg, pt = self._prefix()
        h1 = min(bisect_right(ends, first), bisect_left(starts, first + 1))
        hk = min(bisect_right(ends, last), bisect_left(starts, last + 1))

        def sums(lo: int, hi: int) -> tuple[int, int]:
            if hi <= lo:
                return 0, 0
            t = pt[hi] - pt[lo]
            return t - (pg[hi] - pg[lo]), t

        err = self._err
        en, ed = err.numerator, err.denominator
        ws1, we1 = self._bounds_us(first)
        wsk, wek = self._bounds_us(last)
        lo1 = bisect_left(starts, ws1)
        lok = bisect_left(starts, wsk)
        h1w = min(h1, bisect_left(starts, we1)) if we1 <= first else h1
        hkw = min(hk, bisect_left(starts, wek)) if wek <= last else hk
        if exhausted:
            b_min, _ = sums(lok, h1w)
            _, t_max = sums(lo1, hkw)
            if not (b_min > 0 and en * t_max <= ed * b_min):
                return False
        else:
            b_max, _ = sums(lo1, hkw)
            _, t_min = sums(lok, h1w)
            if b_max > 0 and not (t_min > 0 and en * t_min > ed * b_max):
                return False
        for tier in self.tiers:
            if tier.key in firing:
                return False  # a firing alert may clear at any minute: judge each
            a, c = tier_check(tier, err)
            lo_first = hk
            for label in (tier.long_window, tier.short_window):
                dur = self._dur(label)
                lo_first, lo_last = bisect_left(starts, first - dur), bisect_left(starts, last - dur)
                b_max, _ = sums(lo_first, hk)
                _, t_min = sums(lo_last, h1)
                if b_max == 0 or (t_min > 0 and b_max * a < c * t_min):
                    break  # this window's rate stays under the threshold at every point
            else:
                # Every interval the short windows can hold under the threshold: so is any
                # sum of them (excluded ones count nothing).
                cover, good, total = self._cover, self._good, self._total
                if not all(cover[i] or (total[i] - good[i]) * a < c * total[i] or total[i] == 0
                           for i in range(lo_first, hk)):
                    return False
        return True

    def _status(self, at_us: int, tiers_: tuple[AlertTier, ...], stale_after_: timedelta) -> Status:
        at_utc = from_us(at_us)
        ws, we = self._bounds_us(at_us)
        ws_dt, we_dt = from_us(ws), from_us(we)
        good, total, data, bad_slices, allowed_f, consumed_f, remaining_f, exhausted = self._budget(ws, we, at_us)
        bad = total - good
        err = self._err
        good_slices = slice_sli = siw_f = None
        if self._timeslices:
            if self._ratio:  # shares, exact until here: the Status reports floats
                bad_slices = float(bad_slices)
            good_slices = data - bad_slices
            slice_sli = good_slices / data if data else None
            siw_f = float(slices_in_window(we - ws, self._L))
            spent = bad_slices
        else:
            spent = bad
        # Burn windows all end at `at`: one upper bound, one lower bisection per window.
        counts = {}
        starts = self._starts
        hi = min(bisect_right(self._ends, at_us), bisect_left(starts, at_us + 1))
        pg, pt = self._prefix()
        for label, dur_us in self._windows(tiers_):
            lo = bisect_left(starts, at_us - dur_us)
            if hi <= lo:
                counts[label] = (0, 0)
            else:
                t = pt[hi] - pt[lo]
                counts[label] = (t - (pg[hi] - pg[lo]), t)
        alerts = evaluate_tier_checks(counts, self._tier_checks(tiers_), err)
        j = bisect_right(self._ends, at_us) - 1
        last = self._ends[j] if j >= 0 else None
        stale = last is not None and last < at_us - stale_after_ // US
        return Status(
            at=at_utc,
            window_start=ws_dt,
            window_end=we_dt,
            method=self.config.budgeting.method,
            target=self.config.target,
            good=good,
            total=total,
            bad=bad,
            sli=good / total if total else None,
            good_slices=good_slices,
            bad_slices=bad_slices,
            slice_sli=slice_sli,
            slices_in_window=siw_f,
            allowed_bad=allowed_f,
            spent=spent,
            consumed=consumed_f,
            remaining=remaining_f,
            exhausted=exhausted,
            burn_rates={label: burn_rate_float(b, t, err) for label, (b, t) in counts.items()},
            alerts=alerts,
            last_observation_end=from_us(last) if last is not None else None,
            stale_after=stale_after_,
            stale=stale,
        )

    def counted(self, since: datetime, until: datetime) -> tuple[int, int]:
        """(good, total) over the intervals ending in (since, until], excluded ones left
        out: the sums a period's attainment is read from (the chart's points, summed)."""
        ends = self._ends
        lo, hi = bisect_right(ends, to_us(since, "since")), bisect_right(ends, to_us(until, "until"))
        if hi <= lo:
            return 0, 0
        pg, pt = self._prefix()
        return pg[hi] - pg[lo], pt[hi] - pt[lo]

    def span_budget(self, since: datetime, until: datetime) -> SpanBudget:
        """The budget over [since, until) as if that span were the window, in this objective's
        arithmetic. Occurrences: the events of intervals that started in it and ended by
        `until`. Timeslices: the slices judged in it; the allowance counts the slices from
        `since` to the last observed end (or `until`), as a window counts its own."""
        ws, we = to_us(since, "since"), to_us(until, "until")
        if self._timeslices:
            last = self.last_end_us
            at = we if last is None else max(ws, min(we, last))
            judged, bad = self._slices(ws, we, at)
            if not judged:
                return SpanBudget(TIMESLICES, None, None)
            _, consumed, _ = timeslice_budget(bad, slices_in_window(at - ws, self._L), self._err)
            return SpanBudget(TIMESLICES, fl(Fraction(judged - bad, judged)), fl(consumed))
        good, total = self._events(ws, we, we)
        if not total:
            return SpanBudget(OCCURRENCES, None, None)
        _, consumed, _ = occurrence_budget(total - good, total, self._err)
        return SpanBudget(OCCURRENCES, fl(Fraction(good, total)), fl(consumed))

    def chart(self, *, since: datetime | None = None, until: datetime | None = None) -> list[ChartPoint]:
        """One point per interval ending in [since, until] (see chart.py)."""
        ends = self._ends
        lo = 0 if since is None else bisect_left(ends, to_us(since, "since"))
        hi = len(ends) if until is None else bisect_right(ends, to_us(until, "until"))
        window = self.config.window
        rolling_us = window.bounds_us(0)[1] - window.bounds_us(0)[0] if window.kind == ROLLING else 0
        cal_cache: dict[int, tuple[int, int]] = {}
        points = []
        L = self._L
        for i in range(lo, hi):
            s, p = self._starts[i], ends[i]
            g_i, t_i = self._good[i], self._total[i]
            excluded = self._cover[i] > 0
            if rolling_us:
                ws, we = p - rolling_us, p
            else:
                # calendar windows: the period holding the interval's start
                ws = we = 0
                for (cs, ce) in cal_cache.values():
                    if cs <= s < ce:
                        ws, we = cs, ce
                        break
                else:
                    ws, we = window.bounds_us(s)
                    cal_cache[ws] = (ws, we)
            if self._timeslices:
                _, bad_slices = self._slices(ws, we, p)
                siw = slices_in_window(we - ws, L)
                allowed, _, remaining = timeslice_budget(bad_slices, siw, self._err)
                # slices first judged at this point: ended in (previous end, p], in the window
                klo = max(end_of_judged(ends[i - 1], L) if i > 0 else first_slice_in(ws, L), first_slice_in(ws, L))
                khi = min(end_of_judged(p, L), first_slice_in(we, L))
                new_bad = 0
                if khi > klo:
                    _, pb = self._slice_prefix()
                    new_bad = pb[bisect_left(self._skeys, khi)] - pb[bisect_left(self._skeys, klo)]
                debit = new_bad / allowed
            else:
                good, total = self._events(ws, we, p)
                allowed, _, remaining = occurrence_budget(total - good, total, self._err)
                debit = (t_i - g_i) / allowed if (not excluded and t_i > g_i) else Fraction(0)
            points.append(
                ChartPoint(
                    at=from_us(p), start=from_us(s), end=from_us(p), good=g_i, total=t_i, bad=t_i - g_i,
                    excluded=excluded, debit=float(debit), remaining=float(remaining), exhausted=remaining <= 0,
                )
            )
        return points

    # ------------------------------------------------------------------ snapshots

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe snapshot. Interval times are integer microseconds since the Unix epoch (UTC)."""
        return {
            "version": SNAPSHOT_VERSION,
            "config": self.config.to_dict(),
            "tiers": [t.to_dict() for t in self.tiers],
            "stale_after_us": self.stale_after // US,
            "intervals": [[s, e, g, t] for s, e, g, t in zip(self._starts, self._ends, self._good, self._total)],
            "exclusions": [x.to_dict() for x in self._active.values()],
            "restored_exclusions": [x.to_dict() for x in self._restored.values()],
            "recurring_exclusions": [x.to_dict() for x in self._recurring.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Ledger":
        if not isinstance(data, Mapping) or data.get("version") != SNAPSHOT_VERSION:
            raise BudgetInputError("snapshot", f"expected a ledger snapshot, version {SNAPSHOT_VERSION}")
        c = data["config"]
        ledger = cls(
            c["target"], c["window"], c["budgeting"],
            tiers=data.get("tiers"), stale_after=timedelta(microseconds=data["stale_after_us"]),
        )
        for x in data.get("exclusions", []):
            ledger._active[x["id"]] = Exclusion.from_dict(x)
        for x in data.get("restored_exclusions", []):
            ledger._restored[x["id"]] = Exclusion.from_dict(x)
        for x in data.get("recurring_exclusions", []):
            ledger._recurring[x["id"]] = Recurring.from_dict(x)
        spans = [(to_us(x.start), to_us(x.end)) for x in ledger._active.values()]
        intervals = data["intervals"]
        recurring = ledger._recurring_cover([r[0] for r in intervals]) if ledger._recurring else None
        prev_end = None
        for n, (s, e, g, t) in enumerate(intervals):
            for v in (s, e, g, t):
                if isinstance(v, bool) or not isinstance(v, int):
                    raise BudgetInputError("snapshot", "interval fields must be integers")
            if not (0 <= g <= t) or not s < e or (prev_end is not None and s < prev_end):
                raise BudgetInputError("snapshot", "intervals must be valid, ordered and non-overlapping")
            prev_end = e
            cover = sum(1 for xs, xe in spans if xs <= s < xe) if spans else 0
            if recurring is not None:
                cover += recurring[n]
            ledger._starts.append(s)
            ledger._ends.append(e)
            ledger._good.append(g)
            ledger._total.append(t)
            ledger._cover.append(cover)
            if ledger._timeslices and cover == 0:
                ledger._slices_add(s, e, g, t, +1)
        return ledger

    def load_columns(self, starts: list[int], ends: list[int], good: list[int], total: list[int]) -> None:
        """Fill an empty ledger with interval columns its own fold wrote (ordered, valid),
        as `from_dict` does but without re-validating each one (an as-of read's snapshot)."""
        if self._starts:
            raise BudgetInputError("snapshot", "load_columns fills an empty ledger")
        self._starts, self._ends, self._good, self._total = starts, ends, good, total
        if self._active:
            spans = [(to_us(x.start), to_us(x.end)) for x in self._active.values()]
            self._cover = [sum(1 for xs, xe in spans if xs <= s < xe) for s in starts]
        else:
            self._cover = [0] * len(starts)
        if self._recurring:
            self._cover = [a + b for a, b in zip(self._cover, self._recurring_cover(starts))]
        self._pvalid = 0
        self._gen += 1
        if self._timeslices:
            for s, e, g, t, c in zip(starts, ends, good, total, self._cover):
                if c == 0:
                    self._slices_add(s, e, g, t, +1)

    def columns(self) -> tuple[list[int], list[int], list[int], list[int]]:
        """The interval columns (start_us, end_us, good, total), shared: do not change them."""
        return self._starts, self._ends, self._good, self._total

    def with_config(
        self,
        target: float,
        window: Mapping[str, Any] | Window,
        budgeting: Mapping[str, Any] | Budgeting | None = None,
        *,
        tiers: Iterable[Mapping[str, Any] | AlertTier] | None = None,
        stale_after: timedelta | None = None,
    ) -> "Ledger":
        """A new ledger holding this one's data (intervals, exclusions) under another
        configuration: a renegotiated target, or a what-if's candidate beside the recorded
        one. The interval columns and their sums do not depend on the configuration, so they
        are copied, not re-validated interval by interval (what `from_dict` does)."""
        other = Ledger(target, window, budgeting, tiers=tiers, stale_after=stale_after)
        other._active, other._restored = dict(self._active), dict(self._restored)
        other._recurring = dict(self._recurring)
        other._starts, other._ends = list(self._starts), list(self._ends)
        other._good, other._total, other._cover = list(self._good), list(self._total), list(self._cover)
        other._pg, other._pt, other._pvalid = list(self._pg), list(self._pt), self._pvalid
        if other._timeslices:
            for s, e, g, t, c in zip(other._starts, other._ends, other._good, other._total, other._cover):
                if c == 0:
                    other._slices_add(s, e, g, t, +1)
        return other

    def copy(self) -> "Ledger":
        """An independent ledger with the same state (e.g. to compare before/after a change)."""
        other = object.__new__(Ledger)
        for name, value in self.__dict__.items():
            setattr(other, name, list(value) if isinstance(value, list) else (dict(value) if isinstance(value, dict) else value))
        return other


def _occurrences(bad: int, total: int, err: Fraction) -> tuple[float, float, float, bool]:
    """(allowed, consumed, remaining, exhausted): `occurrence_budget` in integers, allowed =
    en*total/ed and consumed = bad*ed/(en*total), each float one correctly rounded int
    division, as float(Fraction) would give."""
    if total <= 0:
        return 0.0, 0.0, 1.0, False
    en, ed = err.numerator, err.denominator
    return (en * total) / ed, (bad * ed) / (en * total), (en * total - bad * ed) / (en * total), en * total <= bad * ed


# ---------------------------------------------------------------------- function forms


def classify(ledger: Ledger, interval: Interval, *, at: datetime | None = None) -> str:
    """"new" | "duplicate"; raises BudgetInputError (future, with `at`) or IntervalConflict."""
    return ledger.classify(interval, at=at)


def classify_correction(ledger: Ledger, interval: Interval, *, at: datetime | None = None) -> str:
    """"correction" | "duplicate"; raises IntervalConflict ("missing" or "overlap")."""
    return ledger.classify_correction(interval, at=at)


def classify_batch(ledger: Ledger, intervals: Sequence[Interval], *, at: datetime | None = None) -> list[str]:
    return ledger.classify_batch(intervals, at=at)


def classify_exclusion(ledger: Ledger, exclusion: Exclusion) -> str:
    return ledger.classify_exclusion(exclusion)


def classify_restore(ledger: Ledger, exclusion_id: str) -> str:
    return ledger.classify_restore(exclusion_id)


def budget_status(ledger: Ledger, at: datetime, **kwargs: Any) -> Status:
    return ledger.status(at, **kwargs)
