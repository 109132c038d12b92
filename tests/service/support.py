"""Small builders for service-level tests: commands as the people who send them."""

from __future__ import annotations

from domain import journey
from service.envelope import Envelope


def propose(journey_id: str, tier: int = 2, **extra) -> journey.ProposeJourney:
    return journey.ProposeJourney(
        journey_id, f"Journey {journey_id}", "what the user does", ("start", "finish"),
        "landing page", "done page", "the user finishes", "team-a", tier, **extra,
    )


def as_role(command, role: str = "product", actor: str | None = None, **guards) -> Envelope:
    return Envelope(command, actor or f"{role}-person", frozenset({role}), **guards)
