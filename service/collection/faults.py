"""A source's failure as what the caller shows: a domain error with a code for a
request (measureBaseline), a fault reason for the collector's record."""

from __future__ import annotations

from domain.errors import DomainError, InvalidInput, Unavailable
from service.sources.errors import SourceError, SourceFailed, SourceMisconfigured, SourceUnreachable

MAX_MESSAGE = 500


def short(message: str) -> str:
    """A message fit for an event: printable, one line, bounded."""
    text = "".join(c if c.isprintable() else " " for c in message).strip()
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def as_domain_error(exc: SourceError, source_name: str) -> DomainError:
    """Unreachable or failing (5xx): UNAVAILABLE, try again later; a refused query, bad
    data, several series or a missing header variable: BAD_USER_INPUT, fix the definition."""
    message = f"data source {source_name!r}: {short(exc.message)}"
    if isinstance(exc, (SourceUnreachable, SourceFailed)):
        return Unavailable(message, source=source_name, reason=exc.reason)
    if isinstance(exc, SourceMisconfigured):
        return InvalidInput(message, field="source", reason=exc.reason)
    return InvalidInput(message, field="sli", reason=exc.reason)
