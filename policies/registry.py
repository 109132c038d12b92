"""Which policy text governs an objective: the version its agreement pins.

The story (README, "Policies"): every installation has policy "default" at version 0,
the bundled `default.yaml`, from its first start; adopting a policy records versions
1, 2, ... in the log. An agreement may pin only a version that exists (the objective's
decider checks `domain.policy.version_exists`), and a decision cites `id@version` of
the text whose rules it applied.

`resolve(policy_state, policy_id, version)`:
  * the pinned version when the log holds it (`PolicyAdopted` version n);
  * version 0 of "default": the bundled text;
  * an agreement recorded before pins were checked may name a "default" version the
    log does not hold (yet): the bundled text applies, cited as version 0, as it
    always was for such agreements (so their recorded decisions still replay);
  * otherwise None: the objective names a policy nobody adopted, and only the
    freezes already recorded for it apply.
`installation_policy(policy_state)`: the policy that judges what no objective covers
(unknown services): "default" at its latest adopted version, else the bundled text.
Parsed versions are cached by their canonical text.
"""

from __future__ import annotations

import json
from functools import lru_cache

from domain.policy import BUILTIN_POLICY_ID, BUILTIN_VERSION, PolicyState
from policies.language import Policy, parse_policy
from policies.loader import default_policy


@lru_cache(maxsize=256)
def _parse(document: str) -> Policy:
    return parse_policy(json.loads(document))


def resolve(state: PolicyState | None, policy_id: str, version: int) -> tuple[int, Policy] | None:
    pv = state.at_version(version) if state is not None else None
    if pv is not None:
        return version, _parse(pv.document)
    if policy_id == BUILTIN_POLICY_ID:
        return BUILTIN_VERSION, default_policy()
    return None


def installation_policy(state: PolicyState | None) -> tuple[int, Policy]:
    """("default" version, its text): the latest adopted, or the bundled version 0."""
    if state is not None and state.versions:
        latest = state.current
        return latest.version, _parse(latest.document)
    return BUILTIN_VERSION, default_policy()


@lru_cache(maxsize=1)
def bundled_document() -> str:
    """The bundled default's canonical document (as `PolicyAdopted` would keep it)."""
    return json.dumps(default_policy().to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
