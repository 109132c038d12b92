"""The auditor's side of the API.

Queries: ``events`` (the log, filtered, as a Relay connection), ``event(position)``,
``auditIntegrity`` (the hash chain recomputed), ``logCheckpoints`` and ``checkpointKey``
(signed checkpoints and the key that signs them). Subscription: ``events(filter, after)``,
new events as they are appended, over graphql-transport-ws (authenticated at
``connection_init``, see ``api.http``). Each event shows its actor, role, reason,
causation and correlation, and walks the causation chain with ``causes`` and
``consequences``. The as-of point of every query (``AsOf``) is in ``api.schema.shared``.

Everything is read through ``service.audit``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, AsyncGenerator

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.auth import current_principal, require_roles
from api.schema.connections import Connection, Edge, PageInfo, decode_cursor, encode_cursor, page_size
from service import audit, checkpoints

# Recomputing the chain reads the whole log: only for those whose job it is.
INTEGRITY_ROLES = ("auditor", "admin", "sre", "leadership")


@strawberry.input(description="Which events: every given condition must hold.")
class EventFilter:
    stream_id: str | None = strawberry.field(default=None, description='A stream, e.g. "objective-checkout-availability".')
    types: list[str] | None = strawberry.field(default=None, description='Event types, e.g. ["DeployFreezeStarted"].')
    actor: str | None = None
    correlation_id: str | None = strawberry.field(
        default=None, description="Every event of one request (its X-Request-Id) and what it caused."
    )
    causation_id: str | None = strawberry.field(
        default=None, description="Events caused by this event id, or appended by this command id."
    )
    since: datetime | None = strawberry.field(default=None, description="Recorded at or after.")
    until: datetime | None = strawberry.field(default=None, description="Recorded at or before.")


def _filter(f: EventFilter | None) -> audit.EventFilter:
    if f is None:
        return audit.EventFilter()
    return audit.EventFilter(
        stream_id=f.stream_id,
        types=None if f.types is None else tuple(f.types),
        actor=f.actor,
        correlation_id=f.correlation_id,
        causation_id=f.causation_id,
        since=None if f.since is None else audit.utc(f.since),
        until=None if f.until is None else audit.utc(f.until),
    )


@strawberry.type(description="One event of the log, as stored (the bytes its hash covers).")
class AuditEvent:
    position: int = strawberry.field(description="Global log position (contiguous from 1).")
    event_id: strawberry.ID
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    recorded_at: datetime = strawberry.field(description="Server time; never goes backwards along the log.")
    data: JSON
    metadata: JSON = strawberry.field(description="Everything the event's metadata holds, as stored.")
    actor: str | None = strawberry.field(description='Who: a token\'s actor, or "slogov" for derived events.')
    role: str | None = strawberry.field(description='The role they acted in ("system" for derived events).')
    reason: str | None
    command: str | None = strawberry.field(description="The command that appended it (null for derived events).")
    command_id: str | None
    causation_id: str | None = strawberry.field(
        description="Derived events: the causing event's eventId. Command events: their commandId."
    )
    correlation_id: str | None = strawberry.field(description="Shared by a request's events and all they caused.")
    idempotency_key: str | None
    hash: str = strawberry.field(description="sha256 chaining this event to prevHash (README, docs/audit-export.md).")
    prev_hash: str

    @strawberry.field(
        description="The event that caused this one (empty for an event a command appended). With transitive, "
        "its cause too, and so on back to the command's event: nearest first."
    )
    async def causes(self, info: Info, transitive: bool = False) -> list["AuditEvent"]:
        return [from_entry(e) for e in await audit.causes(info.context["container"], self._entry, transitive)]

    @strawberry.field(
        description="The events this one caused (derived in the same transaction), oldest first. With "
        f"transitive, what those caused too (at most {audit.MAX_WALK})."
    )
    async def consequences(self, info: Info, transitive: bool = False) -> list["AuditEvent"]:
        return [from_entry(e) for e in await audit.consequences(info.context["container"], self._entry, transitive)]

    _entry: strawberry.Private[Any] = None


def from_entry(e: audit.LogEntry) -> AuditEvent:
    m = e.metadata

    def text(key: str) -> str | None:
        value = m.get(key)
        return None if value is None else str(value)

    return AuditEvent(
        position=e.position,
        event_id=strawberry.ID(e.event_id),
        stream_id=e.stream_id,
        stream_version=e.stream_version,
        type=e.type,
        schema_version=e.schema_version,
        recorded_at=e.recorded_at,
        data=e.data,
        metadata=m,
        actor=text("actor"),
        role=text("role"),
        reason=text("reason"),
        command=text("command"),
        command_id=text("command_id"),
        causation_id=text("causation_id"),
        correlation_id=text("correlation_id"),
        idempotency_key=text("idempotency_key"),
        hash=e.hash,
        prev_hash=e.prev_hash,
        _entry=e,
    )


@strawberry.type(description="The hash chain recomputed from the stored events (as `slogov audit verify`).")
class IntegrityReport:
    ok: bool = strawberry.field(description="No event altered, removed or reordered; the head matches.")
    events_checked: int = strawberry.field(description="Events whose hash was recomputed before any break.")
    head_position: int
    head_hash: str = strawberry.field(description="The log head's hash: compare with an export's last line.")
    first_broken_position: int | None = strawberry.field(description="The first position that fails, if any.")
    problem: str | None


@strawberry.type(description="A signed checkpoint: the log's head (position and chain hash) at a time, signed with "
                 "the server's Ed25519 key (docs/audit-checkpoints.md). Keep `line` in your own file.")
class LogCheckpoint:
    position: int
    head_hash: str = strawberry.field(description="The chain hash of the event at `position`.")
    at: str = strawberry.field(description="When it was signed, as signed (ISO 8601, UTC, microseconds).")
    public_key: str = strawberry.field(description="The signing key (hex of the raw Ed25519 public key).")
    signature: str = strawberry.field(description="Ed25519 over the canonical JSON of at, head_hash, position, "
                                      "public_key (hex).")
    line: str = strawberry.field(description="The checkpoint as one JSON line, exactly what "
                                 "`slogov audit verify --checkpoint` and docs/verify_export.py read.")


@strawberry.type(description="The public key that signs checkpoints; check it against the one you were given.")
class CheckpointKey:
    public_key: str = strawberry.field(description="Hex of the raw 32-byte Ed25519 public key.")
    public_key_pem: str = strawberry.field(description="The same key as PEM, for `openssl pkeyutl -verify`.")


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="Signed checkpoints of the log, oldest first (a copy kept for publishing: the proof is the copy "
        "an auditor keeps). Cursors are positions: pass the last one you keep to fetch only newer ones."
    )
    async def log_checkpoints(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[LogCheckpoint]:
        current_principal(info)
        container = info.context["container"]
        size = page_size(first, container.settings.max_page_size)
        items, has_next, total = await checkpoints.checkpoint_page(container, decode_cursor(after), size)
        edges = [
            Edge(cursor=encode_cursor(c.position), node=LogCheckpoint(
                position=c.position, head_hash=c.head_hash, at=c.at, public_key=c.public_key,
                signature=c.signature, line=c.line))
            for c in items
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
            total_count=total,
        )

    @strawberry.field(description="The public key checkpoints are signed with; null before the first checkpoint.")
    async def checkpoint_key(self, info: Info) -> CheckpointKey | None:
        current_principal(info)
        found = await checkpoints.published_key(info.context["container"])
        return None if found is None else CheckpointKey(public_key=found, public_key_pem=checkpoints.public_pem(found))

    @strawberry.field(
        description="The event log, oldest first, filtered; any role may read it. Cursors are positions, so a "
        "page never skips or repeats an event."
    )
    async def events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: EventFilter | None = None,
    ) -> Connection[AuditEvent]:
        current_principal(info)
        container = info.context["container"]
        size = page_size(first, container.settings.max_page_size)
        page = await audit.event_page(container, _filter(filter), size, decode_cursor(after))
        edges = [Edge(cursor=encode_cursor(e.position), node=from_entry(e)) for e in page.items]
        return Connection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None),
            total_count=page.total,
        )

    @strawberry.field(description="The event at a log position, or null.")
    async def event(self, info: Info, position: int) -> AuditEvent | None:
        current_principal(info)
        found = await audit.entries_at(info.context["container"], [position])
        return from_entry(found[0]) if found else None

    @strawberry.field(
        description="Recompute the hash chain over the whole log and report the first broken position, if "
        f"any. Reads every event: roles {', '.join(INTEGRITY_ROLES)}."
    )
    async def audit_integrity(self, info: Info) -> IntegrityReport:
        require_roles(info, *INTEGRITY_ROLES)
        r = await audit.integrity(info.context["container"])
        return IntegrityReport(
            ok=r.ok,
            events_checked=r.events_checked,
            head_position=r.head_position,
            head_hash=r.head_hash,
            first_broken_position=r.first_broken_position,
            problem=r.problem,
        )


@strawberry.type
class AuditSubscription:
    @strawberry.subscription(
        description="Events matching the filter as they are appended, in log order, from `after` (default: the "
        "head when subscribing; pass the last position seen to resume without a gap). Websocket only."
    )
    async def events(
        self, info: Info, filter: EventFilter | None = None, after: int | None = None
    ) -> AsyncGenerator[AuditEvent, None]:
        current_principal(info)
        container = info.context["container"]
        wanted = _filter(filter)
        if after is None:
            after, _ = await container.store.head()
        async for entry in audit.tail(container, after):
            if wanted.matches(entry):
                yield from_entry(entry)
