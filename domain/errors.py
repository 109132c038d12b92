"""Refusals. Each carries the GraphQL `extensions.code` it is reported under.

A refused command appends nothing: the service raises these before any write.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    """A value is malformed or out of range (a target of 1.2, good > total)."""

    code = "BAD_USER_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    """A stale expected version, or a command that contradicts recorded history."""

    code = "CONFLICT"


class PolicyViolation(DomainError):
    """The governance process refuses this step now (an open instrumentation gap...)."""

    code = "POLICY_VIOLATION"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Unavailable(DomainError):
    """The database stayed busy (deadlocks, lost connections) through every retry:
    nothing was decided; the same request, sent again later, is safe."""

    code = "UNAVAILABLE"
