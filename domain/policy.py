"""The policy stream, `policy-{id}`: versioned error-budget policies.

`AdoptPolicy(policy_id, policy)` records `PolicyAdopted` with version n+1 and the
policy's canonical document. The policy arrives already parsed: the language lives in
`policies/language.py` (the domain imports nothing of ours), and the service parses
the YAML or API input with `parse_policy` before building the command; here the
decider checks the id and records `policy.to_dict()`. Re-adopting the current text
appends nothing. Every version stays in the state: an objective's agreement pins one.

Which versions exist (what an agreement may pin): every version the log adopted, 1..n,
and for the bundled policy (`BUILTIN_POLICY_ID`, "default") also version 0, its
bundled text, which every installation has from its first start. Adopting "default"
records version 1, 2, ...; version 0 stays the bundled text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from domain import codec
from domain.commands import iso, optional_text, require_id
from domain.errors import InvalidInput
from domain.events import Context, NewEvent, RecordedEvent
from domain.records import replace

CATEGORY = "policy"
BUILTIN_POLICY_ID = "default"
BUILTIN_VERSION = 0  # the bundled text of BUILTIN_POLICY_ID, there before any adoption
EVENT_TYPES: tuple[str, ...] = ("PolicyAdopted",)


def stream_id(policy_id: str) -> str:
    return f"{CATEGORY}-{policy_id}"


def _canonical(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class PolicyVersion:
    version: int
    document: str  # canonical JSON of the policy document
    adopted_at: str
    adopted_by: str | None
    note: str | None

    def doc(self) -> dict[str, Any]:
        return json.loads(self.document)


@dataclass(frozen=True)
class PolicyState:
    id: str
    versions: tuple[PolicyVersion, ...]
    version: int  # stream version == latest policy version

    @property
    def current(self) -> PolicyVersion:
        return self.versions[-1]

    def at_version(self, version: int) -> PolicyVersion | None:
        return self.versions[version - 1] if 1 <= version <= len(self.versions) else None


def version_exists(state: PolicyState | None, policy_id: str, version: int) -> bool:
    """May an agreement pin `policy_id` at `version`? (The log's versions, and the bundled 0.)"""
    if policy_id == BUILTIN_POLICY_ID and version == BUILTIN_VERSION:
        return True
    return state is not None and state.at_version(version) is not None


def to_dict(state: PolicyState | None) -> dict[str, Any] | None:
    return None if state is None else codec.encode(state)


def from_dict(data: dict[str, Any] | None) -> PolicyState | None:
    return None if data is None else codec.decode(PolicyState, data)


@dataclass(frozen=True)
class AdoptPolicy:
    policy_id: str
    policy: Any  # a policies.language.Policy (anything with `.id` and `.to_dict()`)
    note: str | None = None

    def stream(self) -> str:
        return stream_id(self.policy_id)

    def reads(self, state: Any = None) -> tuple[str, ...]:
        return ()


COMMANDS: tuple[type, ...] = (AdoptPolicy,)


def decide(command: Any, state: PolicyState | None, ctx: Context) -> list[NewEvent]:
    if not isinstance(command, AdoptPolicy):
        raise TypeError(f"not a policy command: {type(command).__name__}")
    policy_id = require_id(command.policy_id, "policy_id")
    policy = command.policy
    if not hasattr(policy, "to_dict") or not hasattr(policy, "id"):
        raise InvalidInput("policy must be a parsed policy document", field="policy")
    if policy.id != policy_id:
        raise InvalidInput(f"the document's id {policy.id!r} is not {policy_id!r}", field="id")
    note = optional_text(command.note, "note")
    document = policy.to_dict()
    if state is not None and state.current.doc() == document:
        return []  # the text in force already: nothing to adopt
    version = 1 if state is None else state.version + 1
    return [NewEvent("PolicyAdopted", {
        "policy_id": policy_id, "version": version, "document": document, "note": note, "at": iso(ctx.now),
    })]


def evolve(state: PolicyState | None, event: RecordedEvent) -> PolicyState:
    if event.type != "PolicyAdopted":
        raise ValueError(f"unknown policy event type {event.type!r}")
    data = event.data
    pv = PolicyVersion(data["version"], _canonical(data["document"]), data["at"], event.metadata.get("actor"), data.get("note"))
    if state is None:
        return PolicyState(data["policy_id"], (pv,), event.stream_version)
    return replace(state, versions=state.versions + (pv,), version=event.stream_version)
