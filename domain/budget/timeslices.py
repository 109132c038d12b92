"""Timeslice arithmetic (the workbook's "time-based" budgeting).

Time is cut into slices of `slice_minutes`, aligned on the Unix epoch (so 1, 5, 10, 15,
30, 60 minute slices start on the hour; a day-long slice starts at 00:00 UTC). Slice k
covers [k*L, (k+1)*L).

* Contributions. An interval's counts go to the slices it overlaps, in proportion to the
  overlap (uniform arrival within an interval). An interval inside one slice (the usual
  per-minute data) contributes its counts unchanged; an interval that straddles slice
  boundaries is split exactly (rational arithmetic, no rounding).
* Verdict. A slice *has data* when its total > 0 (a slice whose intervals saw no traffic
  is neither good nor bad). A slice with data is good when good/total >= slice_threshold,
  bad otherwise (exact comparison).
* Judgement time. A slice is judged only once it has ended: as of `at`, slices with
  (k+1)*L <= at. A half-elapsed slice is not yet good or bad.
* Window membership. A slice belongs to a window when its start lies in the window.
* Allowance. allowed bad slices = (1 - target) x slices_in_window, where slices_in_window
  = window length / slice length -- every slice of the window, with data or not, elapsed
  or not (for a calendar month the whole month). Occurrences instead take the allowance
  from the observed total (1 - target) x total: with occurrences an idle period spends and
  earns nothing, with timeslices the allowance is fixed by the calendar and only bad
  slices spend it. The two methods therefore give different `remaining` on the same data.
"""

from __future__ import annotations

from fractions import Fraction


def split(start: int, end: int, good: int, total: int, slice_us: int) -> list[tuple[int, int | Fraction, int | Fraction]]:
    """[(slice index, good share, total share)] for an interval [start, end) in microseconds."""
    first = start // slice_us
    last = (end - 1) // slice_us
    if first == last:
        return [(first, good, total)]
    dur = end - start
    out = []
    for k in range(first, last + 1):
        overlap = min(end, (k + 1) * slice_us) - max(start, k * slice_us)
        out.append((k, Fraction(good * overlap, dur), Fraction(total * overlap, dur)))
    return out


def verdict(good: int | Fraction, total: int | Fraction, threshold: Fraction) -> tuple[int, int]:
    """(has_data, is_bad) as 0/1 for a slice's accumulated counts."""
    if total <= 0:
        return 0, 0
    return 1, (1 if good * threshold.denominator < threshold.numerator * total else 0)


def ratio_verdict(good: int | Fraction, total: int | Fraction, threshold: Fraction) -> tuple[int, int | Fraction]:
    """RatioTimeslices (OpenSLO): (has_data, bad share 1 - good/total), exactly; no threshold.
    Summed over a window the bad shares are the budget spent, and 1 - their mean the SLI."""
    if total <= 0:
        return 0, 0
    return 1, Fraction(total - good) / total if good != total else 0


def first_slice_in(window_start: int, slice_us: int) -> int:
    """Index of the first slice that starts at or after window_start."""
    return -((-window_start) // slice_us)


def end_of_judged(at: int, slice_us: int) -> int:
    """One past the index of the last slice that has ended by `at`."""
    return at // slice_us


def slices_in_window(window_us: int, slice_us: int) -> Fraction:
    return Fraction(window_us, slice_us)
