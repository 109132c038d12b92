"""What the commands of every stream share.

- the vocabulary both deciders speak (the negotiating parties, the SLI kinds);
- input validation: each helper returns the clean value or raises `InvalidInput`
  naming the offending field, so a decider reads as a list of rules;
- how times travel in event data (ISO 8601 strings, always with a zone);
- `related_state`, the one way a decider reads another stream's state.

Standard library only, like the rest of the domain.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from domain.errors import InvalidInput
from domain.text import check_text

# The four parties of a target negotiation (seed, phase 4), in the order a portal lists them.
PARTIES: tuple[str, ...] = ("product", "sre", "engineering", "leadership")

# What an SLI can measure; instrumentation gaps name one of these too.
SLI_KINDS: tuple[str, ...] = ("availability", "latency", "quality", "freshness")

# Ids are opaque to the domain but travel in stream ids, URLs and log lines,
# so they are kept to a small safe alphabet.
ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,100}")
ID_MAX_LENGTH = 100

NAME_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 5000
MAX_LIST_ITEMS = 100


class MissingRead(LookupError):
    """The caller did not load a stream the command `reads()`.

    This is a wiring bug, not a user error, so it is not a `DomainError`: a decider
    must never quietly skip a rule (an instrumentation-gap check, say) because the
    state it needs was not handed to it.
    """


def related_state(ctx: Any, stream: str) -> Any:
    """The folded state of `stream` from `ctx.related` (None when the stream does not exist)."""
    if stream not in ctx.related:
        raise MissingRead(f"the decider needs the state of {stream} in ctx.related")
    return ctx.related[stream]


# --- ids and text ----------------------------------------------------------


def require_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{field} must be a non-empty string", field=field)
    if len(value) > ID_MAX_LENGTH:
        raise InvalidInput(f"{field} must be at most {ID_MAX_LENGTH} characters", field=field)
    if not ID_PATTERN.fullmatch(value):
        raise InvalidInput(
            f"{field} may contain only letters, digits, '.', '_' and '-' (got {value!r})",
            field=field,
        )
    return value


def require_text(value: Any, field: str, *, max_length: int = TEXT_MAX_LENGTH) -> str:
    """Non-blank text, stripped of surrounding whitespace, without control characters (`domain.text`)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} must not be empty", field=field)
    text = value.strip()
    if len(text) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", field=field)
    return check_text(text, field)


def optional_text(value: Any, field: str, *, max_length: int = TEXT_MAX_LENGTH) -> str | None:
    """Text or None; blank text counts as absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return require_text(value, field, max_length=max_length)


def require_texts(
    values: Any,
    field: str,
    *,
    min_items: int = 0,
    max_items: int = MAX_LIST_ITEMS,
    max_length: int = NAME_MAX_LENGTH,
) -> tuple[str, ...]:
    """A tuple (or list) of non-blank texts."""
    # A bare string is iterable too; taking it letter by letter would be a silent bug.
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidInput(f"{field} must be a list of texts", field=field)
    items = tuple(require_text(v, f"{field}[{i}]", max_length=max_length) for i, v in enumerate(values))
    if len(items) < min_items:
        raise InvalidInput(f"{field} needs at least {min_items} item(s)", field=field)
    if len(items) > max_items:
        raise InvalidInput(f"{field} may hold at most {max_items} items", field=field)
    return items


def require_choice(value: Any, field: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise InvalidInput(f"{field} must be one of {', '.join(choices)} (got {value!r})", field=field)
    return value


def optional_choice(value: Any, field: str, choices: Iterable[str]) -> str | None:
    return None if value is None else require_choice(value, field, choices)


def require_parties(values: Any, field: str) -> tuple[str, ...]:
    """A non-empty set of parties, returned without duplicates in the canonical order."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidInput(f"{field} must be a list of parties", field=field)
    given = [require_choice(v, f"{field}[{i}]", PARTIES) for i, v in enumerate(values)]
    if not given:
        raise InvalidInput(f"{field} must name at least one party", field=field)
    return tuple(p for p in PARTIES if p in given)


# --- numbers ----------------------------------------------------------------


def require_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false", field=field)
    return value


def require_int(value: Any, field: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    # bool is an int subclass in Python; True is not a priority.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be a whole number", field=field)
    if minimum is not None and value < minimum:
        raise InvalidInput(f"{field} must be at least {minimum} (got {value})", field=field)
    if maximum is not None and value > maximum:
        raise InvalidInput(f"{field} must be at most {maximum} (got {value})", field=field)
    return value


def optional_int(value: Any, field: str, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
    return None if value is None else require_int(value, field, minimum=minimum, maximum=maximum)


def require_number(
    value: Any,
    field: str,
    *,
    above: float | None = None,
    at_least: float | None = None,
    below: float | None = None,
    at_most: float | None = None,
) -> float:
    """A finite float within the given open (`above`/`below`) or closed bounds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"{field} must be a finite number", field=field)
    number = float(value)
    if above is not None and not number > above:
        raise InvalidInput(f"{field} must be greater than {above:g} (got {number:g})", field=field)
    if at_least is not None and not number >= at_least:
        raise InvalidInput(f"{field} must be at least {at_least:g} (got {number:g})", field=field)
    if below is not None and not number < below:
        raise InvalidInput(f"{field} must be less than {below:g} (got {number:g})", field=field)
    if at_most is not None and not number <= at_most:
        raise InvalidInput(f"{field} must be at most {at_most:g} (got {number:g})", field=field)
    return number


def require_fraction(value: Any, field: str) -> float:
    """A fraction in [0, 1]: 0.999, never 99.9."""
    return require_number(value, field, at_least=0.0, at_most=1.0)


# --- time -------------------------------------------------------------------

# The instants an input may name: from the Unix epoch up to the start of year 9999, UTC.
# Every window, quarter and lookback computed from one (a year and a quarter at most,
# either way) then stays inside what a datetime can hold; before, an interval in year 1
# or a review for "9999-Q4" overflowed into an internal error.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9999, 1, 1, tzinfo=timezone.utc)
TIME_RANGE = "from 1970-01-01T00:00:00Z up to 9999-01-01T00:00:00Z"


def in_time_range(at: datetime) -> bool:
    """Whether `at` (naive: taken as UTC) lies in [EARLIEST, LATEST)."""
    try:
        naive = at.replace(tzinfo=None) - (at.utcoffset() or timedelta(0))
    except OverflowError:  # an offset pushes it beyond year 1 or 9999
        return False
    return EARLIEST.replace(tzinfo=None) <= naive < LATEST.replace(tzinfo=None)


def require_aware(value: Any, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(f"{field} must be a date-time", field=field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field} must carry a time zone (e.g. 2025-01-31T00:00:00Z)", field=field)
    return value


def require_moment(value: Any, field: str) -> datetime:
    """A zoned datetime, or a date taken as its midnight in UTC."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return require_aware(value, field)


def iso(at: datetime) -> str:
    """How times travel in event data: ISO 8601 in UTC, so the log reads the same everywhere."""
    return at.astimezone(timezone.utc).isoformat()


def parse_iso(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(f"naive datetime in event data: {text!r}")
    return at


def parse_optional_iso(text: str | None) -> datetime | None:
    return None if text is None else parse_iso(text)


# --- reading events -----------------------------------------------------------


def actor_of(event: Any) -> str | None:
    metadata: Mapping[str, Any] = event.metadata or {}
    return metadata.get("actor")


def role_of(event: Any) -> str | None:
    metadata: Mapping[str, Any] = event.metadata or {}
    return metadata.get("role")


def percent(fraction: float) -> str:
    """0.999 -> '99.9%': how targets read in negotiation history."""
    return f"{fraction * 100:.6g}%"
