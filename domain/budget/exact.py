"""Exact rational arithmetic for budget figures.

Floats make the workbook's worked numbers wrong at the boundaries: in binary floating
point (1 - 0.999) is 0.0010000000000000009, so a 1.44% error rate against 99.9% gives a
burn rate of 14.399999999999988 and the 14.4 page would never fire; spending exactly the
allowance would leave 8.9e-16 "remaining". So every target, threshold and ratio is taken
as the decimal the user wrote (`Fraction(repr(x))`: 0.999 -> 999/1000), all arithmetic
and every comparison (exhausted, alert thresholds, slice verdicts) is exact, and floats
appear only in the reported values.
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Rational


def q(x: float | int | Fraction) -> Fraction:
    """The exact decimal value of a user-supplied number."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, bool):
        raise TypeError("bool is not a number here")
    if isinstance(x, int):
        return Fraction(x)
    if isinstance(x, Rational):
        return Fraction(x.numerator, x.denominator)
    return Fraction(repr(float(x)))


def fl(x: Fraction | int | None) -> float | None:
    return None if x is None else float(x)
