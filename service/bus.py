"""The command bus: decide, check and append commands with group commit.

Commands are queued in the process; one writer task takes every command
waiting (and, for a few milliseconds at most, those the last round saw that
are still on their way: `_gather`), opens one transaction under the global
append lock, and handles them in order. Each command is still checked on its own (role, expected version,
idempotency key, its decider's rules) against the log plus the commands
before it in the batch; a refused command appends nothing and does not affect
the others. Reactors run in the same transaction, so derived events commit
(or not) with their causes. Inline projections update in it too, which gives
read-your-writes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Mapping, NamedTuple, Protocol, Sequence

import orjson

from domain.errors import Conflict, DomainError
from domain.events import Context, NewEvent, RecordedEvent
from domain.permissions import authorize
from eventstore.ids import new_id
from eventstore.store import AppendTransaction, EventStore
from service.aggregates import aggregate_for, fold
from service.envelope import CommandResult, Envelope, EventRef, request_hash
from service.retry import retrying

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "slogov"
SYSTEM_ROLE = "system"
MAX_REACTION_DEPTH = 8
# The longest a batch waits for more commands before it starts (see CommandBus._gather).
GATHER_MAX_SECONDS = 0.005


class InlineProjections(Protocol):
    async def apply_inline(self, conn: Any, events: Sequence[RecordedEvent]) -> None: ...


class StateView:
    """Folded stream states as seen inside one transaction (log + batch so far)."""

    def __init__(self, tx: AppendTransaction, cache: "StateCache") -> None:
        self.tx = tx
        self._cache = cache
        # Shared with the transaction, so inline projections can use these states.
        self.changed: dict[str, tuple[int, Any]] = tx.folded

    async def state(self, stream_id: str) -> Any:
        if not self.tx.knows(stream_id):
            await self.tx.load_versions([stream_id])
        version = self.tx.version(stream_id)
        if stream_id in self.changed:
            return self.changed[stream_id][1]
        if version == 0:
            return None
        cached = self._cache.get(stream_id)
        base_version, state = cached if cached and cached[0] <= version else (0, None)
        if base_version < version:
            events = await self.tx.read_stream(stream_id, base_version)
            state = fold(aggregate_for(stream_id).evolve, state, events)
        self.changed[stream_id] = (version, state)
        return state

    def evolve(self, stream_id: str, state: Any, events: Iterable[RecordedEvent]) -> Any:
        state = fold(aggregate_for(stream_id).evolve, state, events)
        self.changed[stream_id] = (self.tx.version(stream_id), state)
        return state


class StateCache:
    """Recently folded states by stream, valid for the version they were folded at."""

    def __init__(self, size: int = 10_000) -> None:
        self._items: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self._size = size

    def get(self, stream_id: str) -> tuple[int, Any] | None:
        item = self._items.get(stream_id)
        if item is not None:
            self._items.move_to_end(stream_id)
        return item

    def put_all(self, items: dict[str, tuple[int, Any]]) -> None:
        for stream_id, item in items.items():
            self._items[stream_id] = item
            self._items.move_to_end(stream_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def forget(self, stream_ids: Iterable[str]) -> None:
        for stream_id in stream_ids:
            self._items.pop(stream_id, None)

    def clear(self) -> None:
        self._items.clear()


def _touched_streams(envelopes: Iterable[Envelope], cache: "StateCache") -> list[str]:
    """Streams a batch writes, and those its commands read as far as the cache
    can tell, so one query loads all their versions (not one per command)."""
    out: list[str] = []
    for envelope in envelopes:
        try:
            stream_id = envelope.command.stream()
            out.append(stream_id)
            cached = cache.get(stream_id)
            out.extend(envelope.command.reads(cached[1] if cached else None))
        except Exception:  # a malformed command fails on its own, in _handle
            continue
    return out


class _Decided(NamedTuple):
    envelope: Envelope
    stream_id: str
    role: str
    fingerprint: str
    state: Any
    new_events: list[NewEvent]


class _GroupAborted(Exception):
    """A group's command failed after others of it were appended: roll the batch back."""

    def __init__(self, cause: DomainError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _Sequence(list):
    """A group whose commands are decided one after the other, each seeing the ones before
    it (a journey proposed, then an objective drafted on it); `dry_run`: rolled back."""

    dry_run = False


class SequenceRefused(DomainError):
    """A command of a sequence was refused: nothing of the sequence was appended.
    `index` is the refused command's place in the sequence, `cause` the refusal."""

    def __init__(self, index: int, cause: DomainError) -> None:
        super().__init__(cause.message, **cause.details)
        self.code = cause.code
        self.index = index
        self.cause = cause


class DryRun(Exception):
    """A sequence decided and appended in full, then rolled back: what it would have done."""

    def __init__(self, results: list[CommandResult]) -> None:
        super().__init__("dry run: rolled back")
        self.results = results


# A guard checks what a command's decider cannot see from the streams it reads: who else
# refers to the stream it writes (the objectives naming a data source it retires). It runs
# inside the append transaction, under the append lock, after the decider accepted the
# command, and refuses it by raising a DomainError (nothing of it is appended). It reads
# the read models on `view.tx.conn` and, for what this batch changed before it, `view.changed`.
Guard = Callable[[Any, "StateView"], Awaitable[None]]

# A reactor sees each newly recorded event and may derive more, per stream: a list of
# (stream id, events), or an async iterator of them whose items are appended as they come
# (so it reads its own earlier items' effects), each optionally with a third member, the
# recorded event that caused them (default: the event it reacts to). A coroutine reactor
# may also return such an iterator: it settles whether it has work before starting one.
Reaction = tuple[str, list[NewEvent]] | tuple[str, list[NewEvent], RecordedEvent]
Reactor = Callable[[RecordedEvent, StateView],
                   Awaitable[list[Reaction] | AsyncIterator[Reaction]] | AsyncIterator[Reaction]]


BatchObserver = Callable[[int], None]


def _replayed(envelope: Envelope, fingerprint: str, stored: tuple[str, str, bytes]) -> CommandResult:
    """A used idempotency key's first result, or CONFLICT when it was another command's."""
    stored_hash, _, result = stored
    if stored_hash != fingerprint:
        raise Conflict("this idempotency key was already used for a different command",
                       idempotency_key=envelope.idempotency_key)
    return CommandResult.from_json(orjson.loads(result), replayed=True)


class CommandBus:
    def __init__(
        self,
        store: EventStore,
        projections: InlineProjections | None = None,
        reactors: Sequence[Reactor] = (),
        max_batch: int = 256,
        on_batch: BatchObserver | None = None,
        gather_max: float = GATHER_MAX_SECONDS,
        guards: Mapping[type, Guard] | None = None,
    ) -> None:
        self.store = store
        self.guards = dict(guards or {})
        self.projections = projections
        self.reactors = list(reactors)
        self.max_batch = max_batch
        self.gather_max = gather_max
        # Callers seen in the last round (its batch and those that queued while it ran):
        # as many are likely to come back for the next one. See `_gather`.
        self._expected = 1
        self._last_duration = 0.0
        self._arrived = asyncio.Event()
        self.cache = StateCache()
        self._on_batch = on_batch
        self._queue: asyncio.Queue[tuple[list[Envelope], asyncio.Future]] = asyncio.Queue()
        self._worker: asyncio.Task | None = None

    # ---- lifecycle -----------------------------------------------------

    def _ensure_worker(self) -> None:
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="command-bus")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None

    # ---- entry point ---------------------------------------------------

    async def execute(self, envelope: Envelope) -> CommandResult:
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(([envelope], future))
        self._arrived.set()
        self._ensure_worker()
        return (await future)[0]

    async def recorded(self, envelope: Envelope) -> CommandResult | None:
        """The result a retry of `envelope` would get from the record, without queueing it:
        None when its idempotency key is new (or it has none); CONFLICT when the key was used
        for another command. Lets a caller skip work done before the first attempt (asking a
        data source) when the command is already recorded. The caller checks the roles."""
        key = envelope.idempotency_key
        if not key:
            return None
        stored = await self.store.idempotent_result(key)
        return None if stored is None else _replayed(envelope, request_hash(envelope), stored)

    async def execute_all(self, envelopes: Sequence[Envelope]) -> list[CommandResult]:
        """Several commands as one all-or-nothing unit, in one transaction.

        Every command is decided before any is appended; the first refusal is raised
        and nothing of the group is appended. The commands must write distinct streams,
        none of which another command of the group reads (so deciding all first is the
        same as deciding each after the one before). Used by batch writes that span
        streams (one budget stream per objective in `recordObservations`).
        """
        envelopes = list(envelopes)
        if not envelopes:
            return []
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((envelopes, future))
        self._arrived.set()
        self._ensure_worker()
        return await future

    async def execute_sequence(self, envelopes: Sequence[Envelope], *, dry_run: bool = False) -> list[CommandResult]:
        """Several commands as one all-or-nothing unit, each decided after the one before
        is appended (unlike `execute_all`, they may write and read the same streams).

        A refusal raises `SequenceRefused` (with the command's index) and appends nothing
        of the sequence. With `dry_run` the whole sequence is decided and appended, its
        reactors run, and the transaction is rolled back: the results say what it would
        append (the positions too, as of now), and the log is untouched.
        """
        group = _Sequence(envelopes)
        group.dry_run = dry_run
        if not group:
            return []
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((group, future))
        self._arrived.set()
        self._ensure_worker()
        try:
            return await future
        except DryRun as done:
            return done.results

    # ---- the writer ----------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            # One turn of the loop first: callers woken by the previous batch's results
            # queue their next commands in it, and ride in this transaction.
            await asyncio.sleep(0)
            size = self._drain(batch, len(batch[0][0]))
            size = await self._gather(batch, size)
            started = loop.time()
            await self._process(batch)
            self._last_duration = loop.time() - started
            self._expected = len(batch) + self._queue.qsize()

    def _drain(self, batch: list[tuple[list[Envelope], asyncio.Future]], size: int) -> int:
        while size < self.max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())
            size += len(batch[-1][0])
        return size

    async def _gather(self, batch: list[tuple[list[Envelope], asyncio.Future]], size: int) -> int:
        """Let a batch fill up with the callers the last round saw, for a short while.

        Under steady concurrent load the callers a batch answers come back while the
        next batch is already running, so without a wait they split into two groups
        that take turns, each paying a whole transaction (lock, round trips, commit)
        for half the commands. Waiting for them is bounded by half the last
        transaction's time (never more than `gather_max`), so a lone caller, who is
        the whole of what the last round saw, never waits.
        """
        window = min(self.gather_max, self._last_duration / 2)
        if len(batch) >= self._expected or window <= 0:
            return size
        loop = asyncio.get_running_loop()
        deadline = loop.time() + window
        while len(batch) < self._expected and size < self.max_batch:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            # Wait on a signal, not on queue.get(): a timed-out get could lose its item.
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:
                pass
            size = self._drain(batch, size)
        return size

    async def _process(self, batch: list[tuple[list[Envelope], asyncio.Future]]) -> None:
        groups = [group for group, _ in batch]
        try:
            # A deadlock or serialization failure undid the whole transaction: decide it again.
            outcomes = await retrying(lambda: self._attempt(groups), idempotent=False, what="append")
        except Exception as exc:  # the database failed, or a bug: nothing was committed
            if len(batch) > 1:
                # Isolate: one command's failure must not sink the others.
                for item in batch:
                    await self._process([item])
                return
            if not isinstance(exc, (DomainError, DryRun, _GroupAborted)):  # refusals, not failures
                log.exception("command failed")
            outcomes = [exc.cause if isinstance(exc, _GroupAborted) else exc]
        if self._on_batch is not None:
            self._on_batch(sum(len(group) for group, _ in batch))
        for (_, future), outcome in zip(batch, outcomes):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    async def _attempt(self, groups: list[list[Envelope]]) -> list[list[CommandResult] | Exception]:
        outcomes: list[list[CommandResult] | Exception] = []
        view: StateView | None = None
        envelopes = [e for group in groups for e in group]
        try:
            # Loaded under the lock, with the head: the versions _handle would load one by one.
            async with self.store.transaction(_touched_streams(envelopes, self.cache)) as tx:
                keys = [e.idempotency_key for e in envelopes if e.idempotency_key]
                known = await tx.find_idempotent(keys)
                view = StateView(tx, self.cache)
                for group in groups:
                    try:
                        if isinstance(group, _Sequence):
                            outcomes.append(await self._handle_sequence(tx, view, group, known))
                        elif len(group) == 1:
                            outcomes.append([await self._handle(tx, view, group[0], known)])
                        else:
                            outcomes.append(await self._handle_group(tx, view, group, known))
                    except DomainError as err:
                        outcomes.append(err)
                if self.projections is not None and tx.appended:
                    await self.projections.apply_inline(tx.conn, tx.appended)
        except BaseException:
            # Nothing committed: forget every state this batch touched, in case
            # an evolve changed a cached object in place (large ledgers do).
            if view is not None:
                self.cache.forget(view.changed)
            raise
        self.cache.put_all(view.changed)
        return outcomes

    async def _handle(
        self,
        tx: AppendTransaction,
        view: StateView,
        envelope: Envelope,
        known: dict[str, tuple[str, str, bytes]],
    ) -> CommandResult:
        decided = await self._decide(tx, view, envelope, known)
        if isinstance(decided, CommandResult):
            return decided
        appended = len(tx.appended)
        try:
            return await self._commit(tx, view, decided, known)
        except DomainError as err:
            if len(tx.appended) == appended:  # refused before anything of it was appended
                raise
            # Refused after some of its events were appended (a reactor, or the log refusing
            # a derived event): an answer that is an error must not commit, so the whole
            # transaction is undone and the batch retried one group at a time.
            raise _GroupAborted(err) from err

    async def _handle_group(
        self,
        tx: AppendTransaction,
        view: StateView,
        group: list[Envelope],
        known: dict[str, tuple[str, str, bytes]],
    ) -> list[CommandResult]:
        """Decide every command, then append them all: a refusal appends nothing."""
        writes = [e.command.stream() for e in group]
        reads = {s for e in group for s in e.command.reads(None)}
        if len(set(writes)) != len(writes) or reads & set(writes):
            raise ValueError("the commands of a group must write distinct streams that none of them reads")
        decided = [await self._decide(tx, view, envelope, known) for envelope in group]
        out: list[CommandResult] = []
        for item in decided:
            if isinstance(item, CommandResult):
                out.append(item)
                continue
            try:
                out.append(await self._commit(tx, view, item, known))
            except DomainError as err:
                # A reactor refused after earlier commands were appended: undo the
                # whole transaction (the batch is then retried one group at a time).
                raise _GroupAborted(err) from err
        return out

    async def _handle_sequence(
        self,
        tx: AppendTransaction,
        view: StateView,
        group: "_Sequence",
        known: dict[str, tuple[str, str, bytes]],
    ) -> list[CommandResult]:
        """Decide and append each command in turn; a refusal undoes the whole batch (which
        is then retried one group at a time, so this one fails alone)."""
        appended = len(tx.appended)
        out: list[CommandResult] = []
        for index, envelope in enumerate(group):
            try:
                decided = await self._decide(tx, view, envelope, known)
                out.append(decided if isinstance(decided, CommandResult) else await self._commit(tx, view, decided, known))
            except DomainError as err:
                refused = SequenceRefused(index, err)
                if len(tx.appended) == appended:
                    raise refused from err
                raise _GroupAborted(refused) from err
        if group.dry_run:
            raise DryRun(out)  # undoes the transaction; alone in its batch, it reaches the caller
        return out

    async def _decide(
        self,
        tx: AppendTransaction,
        view: StateView,
        envelope: Envelope,
        known: dict[str, tuple[str, str, bytes]],
    ) -> "CommandResult | _Decided":
        """Check and decide one command (nothing appended): its events, or a replayed result."""
        command = envelope.command
        role = authorize(command, envelope.roles)
        stream_id = command.stream()
        key = envelope.idempotency_key
        fingerprint = request_hash(envelope) if key else ""
        if key and key in known:
            return _replayed(envelope, fingerprint, known[key])

        if not tx.knows(stream_id):
            await tx.load_versions([stream_id])
        if envelope.expected_version is not None and envelope.expected_version != tx.version(stream_id):
            raise Conflict(
                f"{stream_id} is at version {tx.version(stream_id)}, "
                f"not the expected {envelope.expected_version}",
                stream_id=stream_id,
                expected_version=envelope.expected_version,
                actual_version=tx.version(stream_id),
            )
        state = await view.state(stream_id)
        # Which other streams a decider needs can depend on its own state
        # (a target proposal reads the objective's journey).
        related = {}
        for sid in command.reads(state):  # a loop: an async comprehension is a coroutine of its own
            related[sid] = await view.state(sid)
        context = Context(now=tx.now, actor=envelope.actor, roles=envelope.roles, related=related)
        new_events = aggregate_for(stream_id).decide(command, state, context)
        guard = self.guards.get(type(command))
        if guard is not None and new_events:
            await guard(command, view)
        return _Decided(envelope, stream_id, role, fingerprint, state, new_events)

    async def _commit(
        self,
        tx: AppendTransaction,
        view: StateView,
        decided: "_Decided",
        known: dict[str, tuple[str, str, bytes]],
    ) -> CommandResult:
        """Append a decided command's events, fold them, and let reactors derive more."""
        envelope, stream_id = decided.envelope, decided.stream_id
        key = envelope.idempotency_key
        command_id = new_id()
        # A command that names no conversation starts its own, named by its id.
        correlation_id = envelope.correlation_id or command_id
        metadata = {
            "actor": envelope.actor,
            "role": decided.role,
            "command": type(envelope.command).__name__,
            "command_id": command_id,
            "correlation_id": correlation_id,
            "causation_id": command_id,
            "reason": envelope.reason,
            "idempotency_key": key,
        }
        recorded = tx.append(stream_id, decided.new_events, metadata, envelope.expected_version)
        view.evolve(stream_id, decided.state, recorded)
        derived = await self._react(tx, view, recorded, correlation_id)

        result = CommandResult(
            stream_id=stream_id,
            version=tx.version(stream_id),
            events=tuple(
                EventRef(e.position, e.type, e.stream_id, e.stream_version) for e in recorded + derived
            ),
        )
        if key:
            encoded = orjson.dumps(result.to_json())
            tx.remember(key, decided.fingerprint, stream_id, encoded)
            known[key] = (decided.fingerprint, stream_id, encoded)
        return result

    async def _react(
        self, tx: AppendTransaction, view: StateView, events: list[RecordedEvent], correlation_id: str
    ) -> list[RecordedEvent]:
        """Let reactors derive events from `events`, and from what they derive, in turn."""
        derived_all: list[RecordedEvent] = []
        frontier, depth = events, 0
        while frontier and self.reactors:
            depth += 1
            if depth > MAX_REACTION_DEPTH:
                raise RuntimeError("reactors did not settle: a reaction loop")
            next_frontier: list[RecordedEvent] = []
            for event in frontier:
                for reactor in self.reactors:
                    # Iterated here, not through a wrapping async generator: every event
                    # meets every reactor, and each generator costs its creation and hooks.
                    out = reactor(event, view)
                    if not hasattr(out, "__aiter__"):
                        # A coroutine: its reactions, or an async iterator of them (from a
                        # reactor that settles cheaply whether it has any before starting one).
                        out = await out
                    if hasattr(out, "__aiter__"):
                        async for reaction in out:
                            await self._append_reaction(tx, view, event, reaction, correlation_id, next_frontier)
                    else:
                        for reaction in out:
                            await self._append_reaction(tx, view, event, reaction, correlation_id, next_frontier)
            derived_all.extend(next_frontier)
            frontier = next_frontier
        return derived_all

    @staticmethod
    async def _append_reaction(
        tx: AppendTransaction, view: StateView, event: RecordedEvent, reaction: Reaction, correlation_id: str,
        out: list[RecordedEvent],
    ) -> None:
        """Append one reaction's events (caused by its third member, else by `event`) to `out`."""
        stream_id, new_events, *cause = reaction
        if not new_events:
            return
        state = await view.state(stream_id)
        metadata = {
            "actor": SYSTEM_ACTOR,
            "role": SYSTEM_ROLE,
            "causation_id": (cause[0] if cause else event).event_id,
            "correlation_id": correlation_id,
        }
        recorded = tx.append(stream_id, new_events, metadata)
        view.evolve(stream_id, state, recorded)
        out.extend(recorded)
