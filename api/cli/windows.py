"""A compliance window written on a command line, read into the budget's form and checked by
the one parser every window goes through (`domain.budget.windows.parse_window`, which also
reads GraphQL's WindowInput and the windows spec files map to):

  28d, 4w, 90m, 12h, 120d     rolling (whole days up to 90 keep the `days` form, as ever)
  rolling 4w                  the same, spelled out
  calendar_month              the UTC calendar month; calendar_quarter likewise
  calendar 1M 2026-01-01T00:00:00 Europe/Berlin
                              a calendar period (1w, 1M, 1Q, 1Y...) from a local start in an IANA zone
  {"kind": "calendar", "duration": "1Q", "start": "...", "timeZone": "..."}
                              the object GraphQL's WindowInput takes (time_zone or timeZone)
"""

from __future__ import annotations

import json
import re
from typing import Any

from domain.budget.errors import BudgetInputError
from domain.budget.windows import CALENDAR, ROLLING, parse_window

_DAYS = re.compile(r"(\d+)d")
MAX_DAYS_FORM = 90  # the `days` form's range (domain/objective/sli.py)


class WindowTextError(ValueError):
    """The text is no window: the message says what was expected or what the parser refused."""


def window_from_text(text: str) -> dict[str, Any]:
    """The window `text` writes, as {"kind", ...} in the budget's canonical form."""
    words = text.split()
    if text.lstrip().startswith("{"):
        window = _from_json(text)
    elif len(words) == 1 and words[0] in ("calendar_month", "calendar_quarter"):
        window = {"kind": words[0]}
    elif len(words) == 1 or (len(words) == 2 and words[0] == ROLLING):
        window = _rolling(words[-1])
    elif len(words) == 4 and words[0] == CALENDAR:
        window = {"kind": CALENDAR, "duration": words[1], "start": words[2], "time_zone": words[3]}
    else:
        raise WindowTextError(
            f"expected a rolling duration (28d, 4w), calendar_month, calendar_quarter, "
            f"'calendar DURATION START ZONE' or a JSON window object, got {text!r}")
    try:
        return parse_window(window).to_dict()
    except BudgetInputError as e:
        raise WindowTextError(f"{e.field}: {e.message}") from None


def _rolling(duration: str) -> dict[str, Any]:
    days = _DAYS.fullmatch(duration)
    if days is not None and 1 <= int(days.group(1)) <= MAX_DAYS_FORM:
        return {"kind": ROLLING, "days": int(days.group(1))}
    return {"kind": ROLLING, "duration": duration}


def _from_json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise WindowTextError(f"not a JSON object: {e.msg} at column {e.colno}") from None
    if not isinstance(value, dict):
        raise WindowTextError("expected a JSON object with a kind")
    if "timeZone" in value:
        value["time_zone"] = value.pop("timeZone")
    if isinstance(value.get("kind"), str):
        value["kind"] = value["kind"].lower()  # GraphQL's enum spells it CALENDAR_MONTH
    return value
