"""What every area of the schema shares; it imports no area module.

``run_command`` checks the caller, builds the command, sends it through the command
bus in an ``Envelope`` (actor, roles, guards, correlation id), counts the outcome and
returns the result; an area's payload then reads the entity back from the read model
(inline projections commit with the events, so this is read-your-writes) through
``readable``. ``measured`` counts the outcome of any other call (the budget service,
the deploy gate). Domain errors propagate: ``ErrorCodesExtension`` gives them their code.

``AsOf`` and ``as_of_reads`` are the as-of point of a query; ``page_as_of`` pages
entities as they stood then, ``page_connection`` pages them from a read model.
``EventRef`` is what every mutation payload lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Awaitable, Callable, TypeVar

import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.errors import INTERNAL_SERVER_ERROR
from api.metrics import record_command
from api.schema import inputs as i
from api.schema import reads
from api.schema.connections import Connection, Edge, PageInfo, decode_cursor, encode_cursor, page_size
from domain.errors import DomainError, InvalidInput, NotFound
from service import audit
from service.as_of import AsOfReads
from service.envelope import CommandResult, Envelope
from service.envelope import EventRef as DomainEventRef

IDEMPOTENCY_KEY_MAX_LENGTH = 200

T = TypeVar("T")


# --- running a command, counting outcomes ------------------------------------------------


def check_guards(guards: i.CommandGuards) -> None:
    if guards.expected_version is not None and guards.expected_version < 0:
        raise InvalidInput("expectedVersion must not be negative", field="expectedVersion")
    key = guards.idempotency_key
    if key is not None and not (0 < len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH):
        raise InvalidInput(
            f"idempotencyKey must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters", field="idempotencyKey"
        )


async def measured(name: str, action: Callable[[], Awaitable[T]]) -> T:
    """Run ``action``; count its outcome under ``name`` (ok, or the refusal's code)."""
    try:
        result = await action()
    except DomainError as error:
        record_command(name, error.code)
        raise
    except Exception:
        record_command(name, INTERNAL_SERVER_ERROR)
        raise
    record_command(name, "ok")
    return result


def envelope_for(info: Info, guards: i.CommandGuards, command: Any) -> Envelope:
    """The caller's command in its envelope (actor, roles, guards, correlation id)."""
    principal = current_principal(info)
    check_guards(guards)
    return Envelope(
        command=command,
        actor=principal.actor,
        roles=principal.roles,
        expected_version=guards.expected_version,
        idempotency_key=guards.idempotency_key,
        reason=guards.reason,
        correlation_id=info.context.get("correlation_id"),
    )


async def run_command(info: Info, name: str, guards: i.CommandGuards, build: Callable[[], Any]) -> CommandResult:
    """Authenticate, build and execute one command; count its outcome under ``name``."""
    context = info.context

    async def execute() -> CommandResult:
        current_principal(info)
        check_guards(guards)
        return await context["container"].bus.execute(envelope_for(info, guards, build()))

    return await measured(name, execute)


def texts(values: list[str] | None) -> tuple[str, ...]:
    """An optional list input as the command's tuple."""
    return tuple(values or ())


# --- loading an entity ---------------------------------------------------------------------


def readable(state: T | None, what: str, **ids: str) -> T:
    """The entity a command just wrote, read back. Missing only if the read model lags
    (a read replica): NOT_FOUND, naming it."""
    if state is None:
        raise NotFound(f"{what} is not readable yet", **ids)
    return state


@strawberry.type(description="An event a command appended (or, replayed, had appended).")
class EventRef:
    position: int = strawberry.field(description="Global log position.")
    type: str
    stream_id: str
    stream_version: int


def event_refs(events: tuple[DomainEventRef, ...]) -> list[EventRef]:
    return [EventRef(position=e.position, type=e.type, stream_id=e.stream_id, stream_version=e.stream_version) for e in events]


# --- connections ------------------------------------------------------------------------------


def page_connection(page: reads.Page, convert: Callable[[Any], Any]) -> Connection:
    """A read model's page (``api.schema.reads``) as a Relay connection of ``convert(state)``."""
    edges = [Edge(cursor=encode_cursor(pos), node=convert(state)) for pos, state in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None),
        total_count=page.total,
    )


# --- as-of reads ------------------------------------------------------------------------------


@strawberry.input(description="A moment in the log's history: exactly one of a log position or a time.")
class AsOf:
    position: int | None = strawberry.field(
        default=None, description="State after the event at this position (0: before the first event)."
    )
    time: datetime | None = strawberry.field(
        default=None, description="State after the last event recorded at or before this time."
    )


async def as_of_reads(info: Info, as_of: AsOf | None) -> AsOfReads | None:
    """The reads behind a query with `asOf` (None: at the head)."""
    if as_of is None:
        return None
    container = info.context["container"]
    return AsOfReads(container, await audit.resolve_as_of(container, as_of.position, as_of.time))


async def page_as_of(
    info: Info, table: Any, category: str, first: int | None, after: str | None, reads: AsOfReads, keep: Any,
    convert: Any, *where: Any,
) -> Connection:
    """Entities that existed at `position`, folded as they stood then, filtered on that
    state (`keep`), paged by creation position. Without a filter only the page is folded;
    with one, every entity created by then is (to filter and count them)."""
    container = info.context["container"]
    size = page_size(first, container.settings.max_page_size)
    start = decode_cursor(after)
    position = reads.position
    if keep is None:
        rows, has_next, total = await audit.created_by(container, table, position, start, size, *where)
        items = [(created, await reads.state(f"{category}-{entity_id}")) for entity_id, created in rows]
    else:
        rows, _, _ = await audit.created_by(container, table, position, 0, 10**9, *where)
        matched = []
        for entity_id, created in rows:
            state = await reads.state(f"{category}-{entity_id}")
            if state is not None and await keep(state):
                matched.append((created, state))
        total = len(matched)
        rest = [m for m in matched if m[0] > start]
        items, has_next = rest[:size], len(rest) > size
    edges = [
        Edge(cursor=encode_cursor(created), node=convert(state, reads)) for created, state in items if state is not None
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
        total_count=total,
    )
