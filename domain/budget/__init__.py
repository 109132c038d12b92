"""Error-budget arithmetic (Google SRE workbook). Pure: no I/O, no clock -- every time is
passed in (`at`) or taken from the data.

Modules:
  windows       compliance windows and `window_bounds(window, at)`
  config        target / window / budgeting parsing (`BudgetConfig`)
  observations  `Interval`, `Exclusion`, validation, the exclusion rule
  runs          ObservationsRecorded's intervals as runs: `to_runs`, `observation_columns`
  ledger        `Ledger` (state + incremental update + O(log n) reads) and the
                pre-append decisions `classify`, `classify_correction`, ...
  status        `Status` and the occurrences/timeslices budget formulas
  timeslices    slice splitting, verdicts and allowance
  burn          burn rates, `AlertTier`, `Alert`, `DEFAULT_TIERS`, `active_alerts`
  transitions   `transitions(before, after)` -> [`Transition`]
  chart         `ChartPoint` (see `Ledger.chart`)
  composite     `composite_check`, `composite_attainment`
  errors        `BudgetInputError(ValueError)` (.field), `IntervalConflict` (.kind)
"""

from .burn import (
    DEFAULT_TIERS,
    PAGE,
    STANDARD_WINDOWS,
    TICKET,
    Alert,
    AlertTier,
    active_alerts,
    burn_rate,
    burn_rate_of,
    parse_tiers,
)
from .chart import ChartPoint
from .composite import composite_attainment, composite_ceiling, composite_check
from .config import OCCURRENCES, TIMESLICES, BudgetConfig, Budgeting, parse_budgeting, parse_target
from .errors import BudgetInputError, IntervalConflict
from .instants import format_duration, parse_duration
from .ledger import (
    CORRECTION,
    DEFAULT_STALE_AFTER,
    DUPLICATE,
    NEW,
    RESTORED,
    Ledger,
    budget_status,
    classify,
    classify_batch,
    classify_correction,
    classify_exclusion,
    classify_restore,
)
from .observations import MAX_INTERVAL_LENGTH, Exclusion, Interval, IntervalRows, check_not_future
from .status import SpanBudget, Status, occurrence_budget, timeslice_budget
from .transitions import (
    ALERT_CLEARED,
    ALERT_RAISED,
    BUDGET_EXHAUSTED,
    BUDGET_RECOVERED,
    OBSERVATIONS_FRESH,
    OBSERVATIONS_STALE,
    Transition,
    transitions,
)
from .windows import CALENDAR_MONTH, CALENDAR_QUARTER, ROLLING, Window, parse_window, window_bounds, window_length

# What the package offers, as imported above (spelled out so that tools can read it).
__all__ = [
    "DEFAULT_TIERS", "PAGE", "STANDARD_WINDOWS", "TICKET", "Alert", "AlertTier", "active_alerts", "burn_rate",
    "burn_rate_of", "parse_tiers",
    "ChartPoint",
    "composite_attainment", "composite_ceiling", "composite_check",
    "OCCURRENCES", "TIMESLICES", "BudgetConfig", "Budgeting", "parse_budgeting", "parse_target",
    "BudgetInputError", "IntervalConflict",
    "format_duration", "parse_duration",
    "CORRECTION", "DEFAULT_STALE_AFTER", "DUPLICATE", "NEW", "RESTORED", "Ledger", "budget_status", "classify",
    "classify_batch", "classify_correction", "classify_exclusion", "classify_restore",
    "MAX_INTERVAL_LENGTH", "Exclusion", "Interval", "IntervalRows", "check_not_future",
    "SpanBudget", "Status", "occurrence_budget", "timeslice_budget",
    "ALERT_CLEARED", "ALERT_RAISED", "BUDGET_EXHAUSTED", "BUDGET_RECOVERED", "OBSERVATIONS_FRESH",
    "OBSERVATIONS_STALE", "Transition", "transitions",
    "CALENDAR_MONTH", "CALENDAR_QUARTER", "ROLLING", "Window", "parse_window", "window_bounds", "window_length",
]
