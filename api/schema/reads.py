"""Reading journeys and objectives from the read models (``rm_*`` tables).

Each row's ``doc`` is the canonical JSON of the folded state, decoded here with
the domain's own ``from_dict``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Iterable, TypeVar

import orjson
from sqlalchemy import func, or_, select

from domain import journey as journeys_domain
from domain import objective as objectives_domain
from domain import sources as sources_domain
from projections.tables import data_sources, journey_dependencies, journey_labels, journeys, objective_labels, objectives

S = TypeVar("S")


@dataclass(frozen=True)
class Page(Generic[S]):
    items: list[tuple[int, S]]  # (created_position, state)
    has_next: bool
    total: int


async def journey_by_id(container: Any, journey_id: str) -> journeys_domain.JourneyState | None:
    async with container.read_engine.connect() as conn:
        doc = (await conn.execute(select(journeys.c.doc).where(journeys.c.id == journey_id))).scalar()
    return None if doc is None else journeys_domain.from_dict(orjson.loads(doc))


async def objective_by_id(container: Any, objective_id: str) -> objectives_domain.ObjectiveState | None:
    async with container.read_engine.connect() as conn:
        doc = (await conn.execute(select(objectives.c.doc).where(objectives.c.id == objective_id))).scalar()
    return None if doc is None else objectives_domain.from_dict(orjson.loads(doc))


def _depends_on(service: str):
    return select(journey_dependencies.c.journey_id).where(journey_dependencies.c.service == service)


# A label selector: (key, value) needs that pair, (key, None) the key with any value.
Selector = tuple[str, "str | None"]


def _labeled(table, key_column: str, id_column, selectors: Iterable[Selector]) -> list[Any]:
    """One IN (subquery) per selector: every one must hold (the index is on key, value)."""
    out = []
    for key, value in selectors:
        query = select(table.c[key_column]).where(table.c.key == key)
        if value is not None:
            query = query.where(table.c.value == value)
        out.append(id_column.in_(query))
    return out


def journey_conditions(
    *, tier: int | None = None, status: str | None = None, owner: str | None = None, depends_on: str | None = None,
    labels: Iterable[Selector] = (),
) -> list[Any]:
    conditions: list[Any] = []
    if tier is not None:
        conditions.append(journeys.c.tier == tier)
    if status is not None:
        conditions.append(journeys.c.status == status)
    if owner is not None:
        conditions.append(journeys.c.owner == owner)
    if depends_on is not None:
        conditions.append(journeys.c.id.in_(_depends_on(depends_on)))
    conditions += _labeled(journey_labels, "journey_id", journeys.c.id, labels)
    return conditions


def objective_conditions(
    *,
    journey_id: str | None = None,
    status: str | None = None,
    owner: str | None = None,
    depends_on: str | None = None,
    informational: bool | None = None,
    slo: str | None = None,
    labels: Iterable[Selector] = (),
) -> list[Any]:
    conditions: list[Any] = []
    if journey_id is not None:
        conditions.append(objectives.c.journey_id == journey_id)
    if status is not None:
        conditions.append(objectives.c.status == status)
    if owner is not None:
        conditions.append(or_(objectives.c.product_owner == owner, objectives.c.sre_owner == owner))
    if depends_on is not None:
        conditions.append(objectives.c.journey_id.in_(_depends_on(depends_on)))
    if informational is not None:
        conditions.append(objectives.c.informational == informational)
    if slo is not None:
        conditions.append(objectives.c.slo == slo)
    conditions += _labeled(objective_labels, "objective_id", objectives.c.id, labels)
    return conditions


async def _page(container: Any, table, decode, conditions: list[Any], first: int, after: int) -> Page:
    query = select(table.c.created_position, table.c.doc).where(*conditions)
    if after:
        query = query.where(table.c.created_position > after)
    query = query.order_by(table.c.created_position).limit(first + 1)
    count = select(func.count()).select_from(table).where(*conditions)
    async with container.read_engine.connect() as conn:
        rows = (await conn.execute(query)).all()
        total = (await conn.execute(count)).scalar_one()
    items = [(row.created_position, decode(orjson.loads(row.doc))) for row in rows[:first]]
    return Page(items=items, has_next=len(rows) > first, total=int(total))


async def journey_page(container: Any, conditions: list[Any], first: int, after: int) -> Page:
    return await _page(container, journeys, journeys_domain.from_dict, conditions, first, after)


async def objective_page(container: Any, conditions: list[Any], first: int, after: int) -> Page:
    return await _page(container, objectives, objectives_domain.from_dict, conditions, first, after)


async def data_source_page(container: Any, first: int, after: int) -> Page:
    return await _page(container, data_sources, sources_domain.from_dict, [], first, after)
