"""The data-source stream, `source-{name}`: where SLI queries are sent.

`DefineDataSource` records `DataSourceDefined` with the source's plain form
(`domain.data_source`: name, kind, URL, headers named by environment variables --
never a secret); `ChangeDataSource` records `DataSourceChanged` (a new URL or new
headers; the name and stream stay, so every SLI definition naming the source follows
it); `RetireDataSource` records `DataSourceRetired`, after which no SLI definition may name
it; while a live objective's definition (or its open proposal's) names it, the retirement
is refused by a guard in the append transaction (`service/references.py`: this stream
does not list who names it). Definitions recorded before that guard may still name a
retired source: the log says what they read, and the collector leaves them out.
Re-stating the current settings appends nothing new: it is refused as a CONFLICT, so a
client learns that nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from domain import codec
from domain.commands import actor_of, require_id, require_text
from domain.data_source import DataSource, parse_source
from domain.errors import Conflict, NotFound
from domain.events import Context, NewEvent, RecordedEvent
from domain.records import replace

CATEGORY = "source"
EVENT_TYPES: tuple[str, ...] = ("DataSourceDefined", "DataSourceChanged", "DataSourceRetired")


def stream_id(name: str) -> str:
    return f"{CATEGORY}-{name}"


@dataclass(frozen=True)
class SourceState:
    name: str
    kind: str
    url: str
    headers_from_env: dict[str, str]  # header -> the environment variable holding its value
    retired: bool
    retirement_reason: str | None
    defined_by: str | None
    defined_at: datetime
    updated_at: datetime
    version: int

    def source(self) -> DataSource:
        """The value the adapters connect with."""
        return DataSource(self.name, self.kind, self.url, tuple(sorted(self.headers_from_env.items(), key=lambda kv: kv[0].lower())))


# --- commands -------------------------------------------------------------------


class _SourceCommand:
    name: str

    def stream(self) -> str:
        return stream_id(self.name)

    def reads(self, state: Any = None) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class DefineDataSource(_SourceCommand):
    name: str
    kind: str
    url: str
    headers_from_env: Mapping[str, str] | None = None


@dataclass(frozen=True)
class ChangeDataSource(_SourceCommand):
    name: str
    kind: str
    url: str
    headers_from_env: Mapping[str, str] | None = None


@dataclass(frozen=True)
class RetireDataSource(_SourceCommand):
    name: str
    reason: str


COMMANDS: tuple[type, ...] = (DefineDataSource, ChangeDataSource, RetireDataSource)


# --- decide ---------------------------------------------------------------------


def _parsed(cmd: DefineDataSource | ChangeDataSource) -> dict[str, Any]:
    # Field names as the API spells them ("url", "headers_from_env"), no prefix.
    source = parse_source(
        {"name": cmd.name, "kind": cmd.kind, "url": cmd.url, "headers_from_env": cmd.headers_from_env}, "source"
    )
    return source.to_dict()


def _define(cmd: DefineDataSource, state: SourceState | None, ctx: Context) -> list[NewEvent]:
    data = _parsed(cmd)
    if state is not None:
        raise Conflict(f"data source {data['name']} already exists: change it instead", name=data["name"])
    return [NewEvent("DataSourceDefined", data)]


def _change(cmd: ChangeDataSource, state: SourceState | None, ctx: Context) -> list[NewEvent]:
    data = _parsed(cmd)
    live = _live(state, data["name"])
    if live.source().to_dict() == data:
        raise Conflict(f"data source {live.name} already has these settings", name=live.name)
    return [NewEvent("DataSourceChanged", data)]


def _retire(cmd: RetireDataSource, state: SourceState | None, ctx: Context) -> list[NewEvent]:
    live = _live(state, require_id(cmd.name, "name"))
    return [NewEvent("DataSourceRetired", {"name": live.name, "reason": require_text(cmd.reason, "reason")})]


def _live(state: SourceState | None, name: str) -> SourceState:
    if state is None:
        raise NotFound(f"data source {name} does not exist", field="name", name=name)
    if state.retired:
        raise Conflict(f"data source {name} is retired", name=name)
    return state


_DECIDERS: dict[type, Callable[[Any, Any, Context], list[NewEvent]]] = {
    DefineDataSource: _define,
    ChangeDataSource: _change,
    RetireDataSource: _retire,
}


def decide(command: Any, state: SourceState | None, ctx: Context) -> list[NewEvent]:
    handler = _DECIDERS.get(type(command))
    if handler is None:
        raise TypeError(f"not a data-source command: {type(command).__name__}")
    require_id(command.name, "name")
    return handler(command, state, ctx)


# --- evolve ---------------------------------------------------------------------


def evolve(state: SourceState | None, event: RecordedEvent) -> SourceState:
    d = event.data
    if event.type == "DataSourceDefined":
        if state is not None:
            raise ValueError(f"{event.stream_id} was defined twice (version {event.stream_version})")
        return SourceState(
            name=d["name"], kind=d["kind"], url=d["url"], headers_from_env=dict(d["headers_from_env"]),
            retired=False, retirement_reason=None, defined_by=actor_of(event), defined_at=event.recorded_at,
            updated_at=event.recorded_at, version=event.stream_version,
        )
    if state is None:
        raise ValueError(f"{event.type} before DataSourceDefined in {event.stream_id}")
    if event.type == "DataSourceChanged":
        new = replace(state, kind=d["kind"], url=d["url"], headers_from_env=dict(d["headers_from_env"]))
    elif event.type == "DataSourceRetired":
        new = replace(state, retired=True, retirement_reason=d["reason"])
    else:
        raise ValueError(f"unknown data-source event type {event.type!r}")
    return replace(new, version=event.stream_version, updated_at=event.recorded_at)


def initial_state() -> SourceState | None:
    return None


def to_dict(state: SourceState | None) -> dict[str, Any] | None:
    return None if state is None else codec.encode(state)


def from_dict(data: dict[str, Any] | None) -> SourceState | None:
    return None if data is None else codec.decode(SourceState, data)
