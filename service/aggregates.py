"""Which decider owns which stream: the category is the stream id's prefix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from domain import collection, conventions, freeze_exception, gate, journey, objective, policy, policy_actions, sources
from domain.budget import decider as budget
from domain.errors import InvalidInput


@dataclass(frozen=True)
class Aggregate:
    category: str
    decide: Callable[..., list]
    evolve: Callable[[Any, Any], Any]


AGGREGATES: dict[str, Aggregate] = {
    module.CATEGORY: Aggregate(module.CATEGORY, module.decide, module.evolve)
    for module in (journey, objective, budget, policy, policy_actions, freeze_exception, gate, conventions, collection,
                   sources)
}


def category_of(stream_id: str) -> str:
    return stream_id.split("-", 1)[0]


def aggregate_for(stream_id: str) -> Aggregate:
    try:
        return AGGREGATES[category_of(stream_id)]
    except KeyError:
        raise InvalidInput(f"no aggregate owns stream {stream_id!r}", field="stream") from None


def fold(evolve: Callable[[Any, Any], Any], state: Any, events: Iterable[Any]) -> Any:
    for event in events:
        state = evolve(state, event)
    return state
