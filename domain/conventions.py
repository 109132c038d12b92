"""The organisation's naming convention, `convention-naming`: one small stream an admin sets.

The seed's phase 6 wants "naming conventions and tagging standards established before
resources are created", so the convention is not part of an error-budget policy: a
policy is pinned per objective when its agreement is formalized (phase 5), long after
the journey and objective ids were chosen (phases 1 and 3), and different objectives
pin different policies, while names must be uniform across all of them. It is one
organisation-wide setting, recorded as an event so that who set it, when, and what was
in force when a draft was checked stay in the log.

SetNamingConvention(recording_prefix, alert_name, label_prefix, id_pattern, required_labels, note)
  * admin only (the permission table);
  * every field is checked by `domain.monitoring.NamingConvention`; `id_pattern` None
    accepts every valid id (what holds before any convention is set); a pattern must be
    at most 200 characters, and a group it repeats may hold no repetition or choice
    (`(a+)+`, `(a|aa)*`) unless each repetition starts with a literal nothing else in the
    group matches (`[a-z]+(-[a-z]+)*`): the others can take a backtracking engine
    exponential time over a 100-character id;
  * setting the convention in force again appends nothing.

`NamingConventionSet` holds the whole convention (it replaces the previous one).
ProposeJourney and DraftObjective read this stream and refuse ids the pattern does not
match (`check_id`); DraftObjective and LabelObjective refuse an objective that would lack
a required label, on itself or on its journey (`require_labels`), and a LabelJourney that
would leave one of the journey's live objectives without one is refused the same way
(`missing_labels`, by a guard of the service: the journey's stream does not list its
objectives).
Generated rules use the convention in force at the position they are generated at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from domain.commands import ID_PATTERN, actor_of, optional_text, related_state
from domain.errors import InvalidInput
from domain.events import Context, NewEvent, RecordedEvent
from domain.labels import Label
from domain import monitoring
from domain.monitoring import NamingConvention
from domain.promql import LABEL_NAME

CATEGORY = "convention"
STREAM_ID = f"{CATEGORY}-naming"
EVENT_TYPES: tuple[str, ...] = ("NamingConventionSet",)
ANY_ID = ID_PATTERN.pattern  # no convention: every id the log accepts
MAX_PATTERN_LENGTH = 200
_REPEAT = re.compile(r"[*+]|\{\d*,\d*\}|\{\d+\}")
_RISKY = re.compile(r"(?<!\\)(?:[*+|]|\{\d*,\d*\})")
_ATOM = re.compile(r"\\.|\[\^?\]?(?:[^\]\\]|\\.)*\]|.", re.S)
UNSET = NamingConvention(id_pattern=ANY_ID)
# The draft-time checks, offered here beside the convention they check against.
check_id = monitoring.check_id
check_labels = monitoring.check_labels


def stream_id(_: str = "naming") -> str:
    return STREAM_ID


@dataclass(frozen=True)
class ConventionState:
    convention: NamingConvention
    set_by: str | None
    set_at: str  # ISO time of the event
    note: str | None
    version: int


def convention_of(state: ConventionState | None) -> NamingConvention:
    """The convention in force: the one set, or UNSET before any."""
    return UNSET if state is None else state.convention


def in_force(ctx: Context) -> NamingConvention:
    """The convention a draft command is checked against (its `reads` names STREAM_ID)."""
    return convention_of(related_state(ctx, STREAM_ID))


@dataclass(frozen=True)
class SetNamingConvention:
    recording_prefix: str = "slogov"
    alert_name: str = "ErrorBudgetBurn{Severity}"
    label_prefix: str = "slo_"
    id_pattern: str | None = None
    required_labels: tuple[str, ...] = ()
    note: str | None = None

    def stream(self) -> str:
        return STREAM_ID

    def reads(self, state: Any = None) -> tuple[str, ...]:
        return ()


COMMANDS: tuple[type, ...] = (SetNamingConvention,)


def _repeated_groups(pattern: str) -> list[str]:
    """The bodies of the groups `pattern` repeats (`(...)*`, `(...)+`, `(...){2,}`), outermost too."""
    out, stack, i, in_class = [], [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            i += 2 if pattern[i + 1:i + 2] == "]" or pattern[i + 1:i + 3] == "^]" else 1
            continue
        elif c == "(":
            stack.append(i)
        elif c == ")" and stack:
            start = stack.pop()
            if _REPEAT.match(pattern, i + 1):
                out.append(pattern[start + 1:i])
        i += 1
    return out


def _safe_repeat(body: str) -> bool:
    body = body[2:] if body.startswith("?:") else body
    if "(" in body:
        return False  # a group repeated inside a repeated group
    return not _RISKY.search(body) or _separated(body)


def _separated(body: str) -> bool:
    """Does each repetition of the group start with a literal that nothing else in it can
    match, as the `-` of `(-[a-z]+)*`? Then where a repetition starts is never in doubt
    and matching stays linear; otherwise the nested repetition may backtrack exponentially."""
    atoms = _ATOM.findall(body)
    if not atoms or (len(atoms[0]) > 1 and not (atoms[0][0] == "\\" and not atoms[0][1].isalnum())):
        return False
    if len(atoms) > 1 and atoms[1] in ("*", "+", "?", "{"):
        return False  # the first atom itself repeats: (a+)+
    first = atoms[0][-1]
    if first in ".^$|?*+{}[]()":
        return atoms[0][0] == "\\" and not any(_may_match(a, first) for a in atoms[1:])
    return not any(_may_match(a, first) for a in atoms[1:])


def _may_match(atom: str, char: str) -> bool:
    if atom in "|?*+{}()0123456789,":  # syntax (and repetition counts), not characters
        return False
    try:
        return re.fullmatch(atom, char) is not None
    except re.error:
        return True  # unsure: count it as a match (refuse)


def _pattern(value: Any) -> str:
    if value is None:
        return ANY_ID
    if not isinstance(value, str) or not value:
        raise InvalidInput("naming.id_pattern: a regular expression, or null for any valid id", field="naming.id_pattern")
    if len(value) > MAX_PATTERN_LENGTH:
        raise InvalidInput(f"naming.id_pattern: at most {MAX_PATTERN_LENGTH} characters", field="naming.id_pattern")
    if not all(_safe_repeat(body) for body in _repeated_groups(value)):
        raise InvalidInput("naming.id_pattern: a repeated group that repeats inside, such as (a+)+, can take "
                           "exponential time to match; write it without the nesting", field="naming.id_pattern")
    return value


def _convention(cmd: SetNamingConvention) -> NamingConvention:
    labels = cmd.required_labels
    if isinstance(labels, str) or not isinstance(labels, (tuple, list)):
        raise InvalidInput("naming.required_labels: a list of label names", field="naming.required_labels")
    if len(set(labels)) != len(labels):
        raise InvalidInput("naming.required_labels: a label is named twice", field="naming.required_labels")
    for name, value in (("recording_prefix", cmd.recording_prefix), ("alert_name", cmd.alert_name),
                        ("label_prefix", cmd.label_prefix)):
        if not isinstance(value, str):
            raise InvalidInput(f"naming.{name}: a string", field=f"naming.{name}")
    convention = NamingConvention(recording_prefix=cmd.recording_prefix, alert_name=cmd.alert_name,
                                  label_prefix=cmd.label_prefix, id_pattern=_pattern(cmd.id_pattern),
                                  required_labels=tuple(labels))
    clash = set(convention.required_labels) & convention.generated_labels
    if clash:
        raise InvalidInput(f"naming.required_labels: {sorted(clash)[0]!r} is a label slogov sets itself",
                           field="naming.required_labels")
    return convention


def require_labels(convention: NamingConvention, labels: Iterable[Label], field: str = "labels") -> None:
    """An objective carries every label the convention requires, on itself or on its journey
    (`labels`: both, the journey's first)."""
    keys = {label.key for label in labels}
    missing = [name for name in convention.required_labels if name not in keys]
    if missing:
        raise InvalidInput(f"{field}: the naming convention requires {', '.join(missing)} "
                           "(on the objective or on its journey)", field=field)


def missing_labels(convention: NamingConvention, journey: Iterable[Label], objective: Iterable[Label]) -> list[str]:
    """The required labels an objective lacks, on itself and on its journey (in the convention's order)."""
    keys = {label.key for label in (*journey, *objective)}
    return [name for name in convention.required_labels if name not in keys]


def rule_labels(journey: Iterable[Label], objective: Iterable[Label], convention: NamingConvention) -> dict[str, str]:
    """The team labels an objective's rules carry: its journey's, overridden key by key by its
    own; only keys that are Prometheus label names (`openslo.com/owner` is not) and that
    slogov does not set itself; several values of a key joined by ','."""
    values: dict[str, list[str]] = {}
    for source in (journey, objective):
        mine: dict[str, list[str]] = {}
        for label in source:
            mine.setdefault(label.key, []).append(label.value)
        values.update(mine)
    return {k: ",".join(sorted(v)) for k, v in sorted(values.items())
            if LABEL_NAME.fullmatch(k) and not k.startswith("__") and k not in convention.generated_labels}


def to_data(c: NamingConvention) -> dict[str, Any]:
    return {"recording_prefix": c.recording_prefix, "alert_name": c.alert_name, "label_prefix": c.label_prefix,
            "id_pattern": c.id_pattern, "required_labels": list(c.required_labels)}


def decide(command: Any, state: ConventionState | None, ctx: Context) -> list[NewEvent]:
    if not isinstance(command, SetNamingConvention):
        raise TypeError(f"not a convention command: {type(command).__name__}")
    convention = _convention(command)
    note = optional_text(command.note, "note")
    if convention == convention_of(state):
        return []  # the convention in force already
    return [NewEvent("NamingConventionSet", {**to_data(convention), "note": note})]


def evolve(state: ConventionState | None, event: RecordedEvent) -> ConventionState:
    if event.type != "NamingConventionSet":
        raise ValueError(f"unknown convention event type {event.type!r}")
    d = event.data
    convention = NamingConvention(recording_prefix=d["recording_prefix"], alert_name=d["alert_name"],
                                  label_prefix=d["label_prefix"], id_pattern=d["id_pattern"],
                                  required_labels=tuple(d["required_labels"]))
    return ConventionState(convention=convention, set_by=actor_of(event), set_at=event.recorded_at.isoformat(),
                           note=d.get("note"), version=event.stream_version)
