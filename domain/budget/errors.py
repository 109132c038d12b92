"""Refusals raised by the budget arithmetic.

Everything here is a `ValueError`, so the service layer can map the whole family to
BAD_USER_INPUT; `IntervalConflict` is the subset that contradicts recorded history
(a conflicting count, an overlapping interval, an unknown interval to correct, a reused
exclusion id) and may be mapped to CONFLICT instead if the service prefers.
"""

from __future__ import annotations


class BudgetInputError(ValueError):
    """A malformed or out-of-range input. `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class IntervalConflict(BudgetInputError):
    """An input contradicts what the ledger already holds.

    `kind` is one of:
      "conflict"  same (start, end) already recorded with different counts (needs a correction)
      "overlap"   overlaps a recorded interval with different bounds
      "missing"   a correction for an interval that was never recorded
      "exclusion" an exclusion id reused with a different range, or after a restore
    """

    def __init__(self, field: str, message: str, kind: str) -> None:
        super().__init__(field, message)
        self.kind = kind
