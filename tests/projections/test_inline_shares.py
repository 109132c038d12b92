"""The inline projections' shares of a transaction's events: asked once per stream and
remembered, they are what asking every projection about every event gives."""

from __future__ import annotations

from datetime import datetime, timezone

from domain.events import RecordedEvent
from projections import runner
from projections.catalog import inline_projections
from projections.runner import ProjectionSet

_STREAMS = ("budget-o1", "objective-o1", "journey-checkout", "policy-p1", "actions-a1", "exception-x1",
            "source-s1", "deploy-d1", "budget-o2", "freeze-f1", "gate-g1")


def _events(first: int) -> list[RecordedEvent]:
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return [RecordedEvent(first + i, f"e{first + i}", stream, 1, "Anything", 1, {}, {}, at)
            for i, stream in enumerate(_STREAMS + _STREAMS[::-1])]


def test_shares_are_what_asking_every_projection_gives(monkeypatch):
    monkeypatch.setattr(runner, "ROUTES_KEPT", 5)  # also starts over when full
    projections = ProjectionSet(None, inline_projections(None))  # type: ignore[arg-type]
    for first in (1, 100, 200):  # the second and third batches answered from memory
        events = _events(first)
        assert projections.shares(events) == [[e for e in events if p.handles(e)] for p in projections.inline]
