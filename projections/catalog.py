"""Every projection the application runs inline, in the order they apply."""

from __future__ import annotations

from projections import budgets, journeys, objectives, policy_actions
from projections.runner import Projection


def inline_projections() -> list[Projection]:
    return [journeys.projection(), objectives.projection(), budgets.projection(), *policy_actions.projections()]
