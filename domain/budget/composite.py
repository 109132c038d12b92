"""Composite journey objectives.

A journey that needs every one of its critical dependencies to succeed can do no better
than all of them at once: attainment = the product of their SLIs, and a journey target
above the product of the dependencies' targets cannot be met even when every dependency
meets its own objective -- it is infeasible (flagged during negotiation).

Example: dependencies at 99.9% and 99.95% give a ceiling of 0.999 x 0.9995 = 0.9985005;
a journey target of 99.9% is infeasible, 99.85% is feasible. The comparison is exact
(targets are taken as the decimals written).

Weighted (OpenSLO `compositeWeight`): beside the product, a composite of weighted
objectives is their weighted mean, sum(w x SLI) / sum(w), and its ceiling the weighted
mean of their targets -- for journeys whose parts count in proportion (a search that
may degrade beside a payment that must not) rather than all being needed at once.
A weight is a positive number (OpenSLO's default is 1).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Mapping

from .errors import BudgetInputError
from .exact import q


def _fraction_in_unit(value: object, field: str, *, allow_one: bool) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BudgetInputError(field, f"expected a number in (0, 1], got {value!r}")
    if not (0 < value < 1 or (allow_one and value == 1)):
        raise BudgetInputError(field, f"must lie in (0, {'1]' if allow_one else '1)'}, got {value!r}")
    return q(value)


def composite_ceiling(dependency_targets: Mapping[str, float]) -> float:
    """Product of the dependencies' targets (1.0 with no dependencies)."""
    product = Fraction(1)
    for name, t in sorted(dependency_targets.items()):
        product *= _fraction_in_unit(t, f"dependency_targets.{name}", allow_one=True)
    return float(product)


def composite_check(journey_target: float, dependency_targets: Mapping[str, float]) -> tuple[bool, float]:
    """(feasible, ceiling): feasible when journey_target <= product of dependency targets."""
    target = _fraction_in_unit(journey_target, "journey_target", allow_one=False)
    if not isinstance(dependency_targets, Mapping):
        raise BudgetInputError("dependency_targets", "expected a mapping of name -> target")
    product = Fraction(1)
    for name, t in sorted(dependency_targets.items()):
        product *= _fraction_in_unit(t, f"dependency_targets.{name}", allow_one=True)
    return target <= product, float(product)


def composite_attainment(dependency_slis: Mapping[str, float | None]) -> float | None:
    """Product of the critical dependencies' SLIs; None when any is unknown (no traffic)
    or there are no dependencies."""
    if not dependency_slis:
        return None
    product = Fraction(1)
    for name, sli in sorted(dependency_slis.items()):
        if sli is None:
            return None
        if isinstance(sli, bool) or not isinstance(sli, (int, float)) or not 0 <= sli <= 1:
            raise BudgetInputError(f"dependency_slis.{name}", f"an SLI in [0, 1], got {sli!r}")
        product *= Fraction(sli)
    return float(product)


MAX_WEIGHT = 1_000_000


def check_weight(weight: object, field: str = "composite_weight") -> float:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) \
            or not 0 < weight <= MAX_WEIGHT:
        raise BudgetInputError(field, f"a positive number up to {MAX_WEIGHT:,}, got {weight!r}")
    return float(weight)


def weighted_mean(values: Mapping[str, tuple[float | None, float]], field: str = "values") -> float | None:
    """sum(w x v) / sum(w) over (value, weight) pairs, exact; None when any value is unknown
    or there are none."""
    if not values:
        return None
    num = den = Fraction(0)
    for name, (value, weight) in sorted(values.items()):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise BudgetInputError(f"{field}.{name}", f"a fraction in [0, 1], got {value!r}")
        w = q(check_weight(weight, f"{field}.{name}.weight"))
        num += w * q(value)
        den += w
    return float(num / den)
