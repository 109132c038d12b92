"""Which policy text governs an objective: the version its agreement pins.

`resolve(policy_state, policy_id, version)`:
  * the pinned version when the log holds it (`PolicyAdopted` version n);
  * otherwise, for the id "default" only, the bundled `default.yaml`, reported as
    version 0 (so an installation works before anyone adopts a policy);
  * otherwise None: the objective names a policy nobody adopted, and only the
    freezes already recorded for it apply.
Parsed versions are cached by their canonical text.
"""

from __future__ import annotations

from functools import lru_cache

from domain.policy import PolicyState
from policies.language import Policy, parse_policy
from policies.loader import DEFAULT_POLICY_ID, default_policy

BUILTIN_VERSION = 0


@lru_cache(maxsize=256)
def _parse(document: str) -> Policy:
    import json

    return parse_policy(json.loads(document))


def resolve(state: PolicyState | None, policy_id: str, version: int) -> tuple[int, Policy] | None:
    pv = state.at_version(version) if state is not None else None
    if pv is not None:
        return version, _parse(pv.document)
    if policy_id == DEFAULT_POLICY_ID:
        return BUILTIN_VERSION, default_policy()
    return None
