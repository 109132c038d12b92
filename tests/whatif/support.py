"""A history under the bundled default policy for the policy what-if tests."""

from __future__ import annotations

from datetime import timedelta

from policies.loader import POLICY_DIR
from tests.policies.support import Clock, active_objective, deploy, minute, observe

DEFAULT_TEXT = (POLICY_DIR / "default.yaml").read_text()
APPROVAL_ONLY = """
id: default
name: approval instead of a freeze
alert_tiers:
  - {severity: page, long_window: 1h, short_window: 5m, threshold: 14.4}
  - {severity: page, long_window: 6h, short_window: 30m, threshold: 6}
  - {severity: ticket, long_window: 3d, short_window: 6h, threshold: 1}
rules:
  - id: approve-when-exhausted
    when: {budget_remaining_at_most: 0.0}
    actions: [{type: require_approval, role: leadership}]
    exempt: [rollback]
"""


async def burn_out(container) -> Clock:
    """An hour healthy, ten minutes down (exhausted: a freeze, a postmortem), then recovered;
    deploys run-0..run-3 between (ALLOW, DENY, ALLOW (a rollback), ALLOW)."""
    clock = Clock()
    clock.now = minute(90)  # decisions in the data's own hours: one period holds both
    container.store.clock = clock
    await active_objective(container)  # the bundled default, version 0
    await observe(container, 0, 60, 1000, 1000)
    assert (await deploy(container, "feature", "run-0")).outcome == "ALLOW"
    await observe(container, 60, 70, 0, 1000)  # exhausted: a freeze
    assert (await deploy(container, "feature", "run-1")).outcome == "DENY"
    assert (await deploy(container, "rollback", "run-2")).outcome == "ALLOW"
    await observe(container, 70, 80, 1_000_000, 1_000_000)  # recovered: lifted
    assert (await deploy(container, "feature", "run-3")).outcome == "ALLOW"
    clock.advance(timedelta(minutes=1))
    return clock
