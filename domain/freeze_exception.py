"""Freeze exceptions, `exception-{id}`: leadership lets one service (or one change of
it) deploy through a freeze until an expiry.

GrantFreezeException(exception_id, service, expires_at, reason, version=None)
  * leadership only (the permission table);
  * `version` set: the exception covers that one change (service + version) only;
  * expires_at must be after the server time of the command and at most 30 days on;
  * an exception id is used once (Conflict).

RevokeFreezeException(exception_id, reason)
  * leadership only; NotFound for an unknown id, Conflict when already revoked;
  * a revoked exception lets nothing through from its revocation on. Decisions
    recorded before it still replay to their answer: the revocation is an event
    at a later position, beyond the one they were evaluated at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain import codec
from domain.commands import NAME_MAX_LENGTH, iso, optional_text, parse_iso, require_aware, require_id, require_text
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import Context, NewEvent, RecordedEvent
from domain.records import replace

CATEGORY = "exception"
EVENT_TYPES: tuple[str, ...] = ("FreezeExceptionGranted", "FreezeExceptionRevoked")
MAX_DURATION = timedelta(days=30)


def stream_id(exception_id: str) -> str:
    return f"{CATEGORY}-{exception_id}"


@dataclass(frozen=True)
class ExceptionState:
    exception_id: str
    service: str
    version_label: str | None  # the one change it covers, or None: any change of the service
    expires_at: str
    reason: str
    granted_by: str | None
    granted_at: str
    version: int
    revoked_by: str | None = None
    revoked_at: str | None = None
    revocation_reason: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def expires(self) -> datetime:
        return parse_iso(self.expires_at)


def to_dict(state: ExceptionState | None) -> dict[str, Any] | None:
    return None if state is None else codec.encode(state)


def from_dict(data: dict[str, Any] | None) -> ExceptionState | None:
    return None if data is None else codec.decode(ExceptionState, data)


@dataclass(frozen=True)
class GrantFreezeException:
    exception_id: str
    service: str
    expires_at: datetime
    reason: str
    version: str | None = None

    def stream(self) -> str:
        return stream_id(self.exception_id)

    def reads(self, state: Any = None) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class RevokeFreezeException:
    exception_id: str
    reason: str

    def stream(self) -> str:
        return stream_id(self.exception_id)

    def reads(self, state: Any = None) -> tuple[str, ...]:
        return ()


COMMANDS: tuple[type, ...] = (GrantFreezeException, RevokeFreezeException)


def _revoke(command: RevokeFreezeException, state: ExceptionState | None, ctx: Context) -> list[NewEvent]:
    exception_id = require_id(command.exception_id, "exception_id")
    reason = require_text(command.reason, "reason")
    if state is None:
        raise NotFound(f"no freeze exception {exception_id}", exception_id=exception_id)
    if state.revoked:
        raise Conflict(f"exception {exception_id} was already revoked by {state.revoked_by} at {state.revoked_at}",
                       exception_id=exception_id)
    return [NewEvent("FreezeExceptionRevoked", {"exception_id": exception_id, "reason": reason, "at": iso(ctx.now)})]


def decide(command: Any, state: ExceptionState | None, ctx: Context) -> list[NewEvent]:
    if isinstance(command, RevokeFreezeException):
        return _revoke(command, state, ctx)
    if not isinstance(command, GrantFreezeException):
        raise TypeError(f"not an exception command: {type(command).__name__}")
    exception_id = require_id(command.exception_id, "exception_id")
    service = require_text(command.service, "service", max_length=NAME_MAX_LENGTH)
    version = optional_text(command.version, "version", max_length=NAME_MAX_LENGTH)
    reason = require_text(command.reason, "reason")
    expires_at = require_aware(command.expires_at, "expires_at")
    if expires_at <= ctx.now:
        raise InvalidInput(f"expires_at must be in the future (now {iso(ctx.now)})", field="expires_at")
    if expires_at - ctx.now > MAX_DURATION:
        raise InvalidInput("an exception lasts at most 30 days", field="expires_at")
    if state is not None:
        raise Conflict(f"exception {exception_id} was already granted", exception_id=exception_id)
    return [NewEvent("FreezeExceptionGranted", {
        "exception_id": exception_id, "service": service, "version": version,
        "expires_at": iso(expires_at), "reason": reason, "at": iso(ctx.now),
    })]


def evolve(state: ExceptionState | None, event: RecordedEvent) -> ExceptionState:
    d = event.data
    if event.type == "FreezeExceptionRevoked":
        if state is None:
            raise ValueError("FreezeExceptionRevoked before FreezeExceptionGranted")
        return replace(state, revoked_by=event.metadata.get("actor"), revoked_at=d["at"],
                       revocation_reason=d["reason"], version=event.stream_version)
    if event.type != "FreezeExceptionGranted":
        raise ValueError(f"unknown exception event type {event.type!r}")
    return ExceptionState(d["exception_id"], d["service"], d.get("version"), d["expires_at"], d["reason"],
                          event.metadata.get("actor"), d["at"], event.stream_version)
