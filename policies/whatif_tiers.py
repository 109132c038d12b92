"""A candidate policy's alert tiers in the policy what-if: the budget streams as they would
have been recorded with them in force. Pure.

A policy states the burn-rate alert tiers of the objectives that pin it (`alert_tiers`;
none stated: the workbook's): formalizing an agreement copies them into the agreement, and
the budget decider writes them into the stream's `BudgetConfigured` ahead of the data they
apply to. So with the candidate in force an objective it governs would have had the
candidate's tiers, and the burn-rate alerts -- and whatever the policy and the gate read
of them -- that those tiers find in the data.

`Retiering` sits between the log and `PolicyWhatIf.feed` and rewrites exactly that, for
the objectives whose tiers the candidate changes ("retiered", from the first budget event
the candidate governs with other tiers than the stream's config; for good, as the
stream's flags are the candidate's from then on):

  * a recorded `BudgetConfigured` carries the tiers it would have carried: the candidate's
    while it governs the objective, else its agreement's (`decider.objective_config`);
    where that differs from the config in force without one recorded (governance came or
    went with the same recorded tiers), one goes ahead of the command's first data event,
    as the decider would have sent it;
  * the recorded transitions are dropped; after each command's last data event the budget
    reactor's own `decider.judged_at` and `derive_at` run on the stream as folded so far
    (the what-if's fold, which has just folded the command), and the transitions they find
    follow the command, as live appends them. So the alerts come from the ledger's own
    burn-rate judgement under the candidate's tiers, and the policy's walk and the gate's
    view read them as they read recorded ones.

Positions: a derived transition sits in the log just after its command; here it carries
a position between the one before the command's last data event and that event's
(p - 1 + k / (n + 1) for the k-th of n), so it is folded before any decision judged at
or after p and the exhaustions a rule counts keep their order. Nothing else reads them.

Objectives the candidate leaves their tiers pass through untouched, so a candidate whose
tiers are those in force changes nothing (tests/whatif/test_policy_property.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Mapping

from domain import objective, policy as policy_domain
from domain.budget import decider as budget
from domain.budget.burn import check_tiers_fit, parse_tiers
from domain.budget.errors import BudgetInputError
from domain.budget.whatif import Moment
from domain.commands import parse_iso
from domain.errors import InvalidInput
from domain.events import RecordedEvent
from policies.language import Policy

_DATA = frozenset(budget.DATA_EVENTS)
_TRANSITIONS = frozenset(budget.TRANSITION_EVENTS.values())
ALERTS = ("BurnRateAlertRaised", "BurnRateAlertCleared")
_PREFIX = budget.CATEGORY + "-"
_GOVERNANCE = (objective.CATEGORY + "-", policy_domain.CATEGORY + "-")


def stated_tiers(tiers: Any) -> list[dict[str, Any]] | None:
    """What a budget config carries for a policy's (or an agreement's) stated tiers: None
    when it states none (the workbook's apply)."""
    if tiers is None:
        return None
    return [t.to_dict() for t in parse_tiers([_tier(t) for t in tiers])]


def effective_tiers(tiers: Any) -> list[dict[str, Any]]:
    """The tiers in force for what a policy, an agreement or a config states (None: the workbook's)."""
    return [t.to_dict() for t in parse_tiers(None if tiers is None else [_tier(t) for t in tiers])]


def _tier(t: Any) -> dict[str, Any]:
    if isinstance(t, Mapping):
        return dict(t)
    return t.to_dict() if hasattr(t, "to_dict") else {
        "severity": t.severity, "long_window": t.long_window, "short_window": t.short_window,
        "threshold": t.threshold}


@dataclass(frozen=True)
class ObjectiveAlerts:
    """A retiered objective's burn-rate alerts raised and cleared (data time in the period),
    as recorded and under the candidate's tiers, from the position its tiers changed on."""

    objective_id: str
    since_position: int
    actual: tuple[Moment, ...]
    what_if: tuple[Moment, ...]


class Retiering:
    """`events(page)` wraps each page of the log fed to the what-if; `flush()` before it
    finishes. `governs(objective_id)` and `budgets` (objective id -> its folded budget state)
    are the what-if's own, read between the events it is handed."""

    def __init__(self, candidate: Policy, governs: Callable[[str], bool], budgets: Mapping[str, Any],
                 objectives: Mapping[str, Any], start: datetime, end: datetime) -> None:
        self.tiers = stated_tiers(candidate.alert_tiers)
        self.effective = effective_tiers(candidate.alert_tiers)
        self.governs = governs
        self.budgets = budgets
        self.objectives = objectives
        self.retiered: dict[str, int] = {}  # objective id -> the position its tiers changed at
        self._checked: dict[str, Any] = {}  # objective id -> the config last found with the same tiers
        self._pending: RecordedEvent | None = None  # a retiered command's last data event so far
        self._actual: dict[str, list[Moment]] = {}
        self._what_if: dict[str, list[Moment]] = {}
        self._start, self._end = start, end

    def alerts(self) -> tuple[ObjectiveAlerts, ...]:
        return tuple(ObjectiveAlerts(oid, since, tuple(self._actual.get(oid, ())), tuple(self._what_if.get(oid, ())))
                     for oid, since in sorted(self.retiered.items()))

    def events(self, events: Iterable[RecordedEvent]) -> Iterator[RecordedEvent]:
        for e in events:
            p = self._pending
            if p is not None and not (e.stream_id == p.stream_id and (e.type in _TRANSITIONS or (
                    e.type in _DATA and e.metadata.get("command_id") == p.metadata.get("command_id")))):
                self._pending = None
                yield from self._derive(p)
            stream_id = e.stream_id
            if not stream_id.startswith(_PREFIX):
                if stream_id.startswith(_GOVERNANCE):
                    self._checked.clear()  # an agreement or a policy changed: who governs may have
                yield e
                continue
            oid = e.data["objective_id"]
            if oid not in self.retiered:
                if e.type not in _DATA or not self._changes(oid, e):
                    yield e
                    continue
                self.retiered[oid] = e.position
            if e.type in _TRANSITIONS:  # the candidate's tiers derive their own
                if e.type in ALERTS and self._in_period(e.data["at"]):
                    self._actual.setdefault(oid, []).append(Moment(e.type, e.data))
                continue
            yield from self._as_configured(oid, e)
            self._pending = e

    def flush(self) -> list[RecordedEvent]:
        """The transitions of the last command fed, when it was a retiered one."""
        p, self._pending = self._pending, None
        return [] if p is None else self._derive(p)

    # ------------------------------------------------------------------------------------

    def _changes(self, oid: str, e: RecordedEvent) -> bool:
        """Whether the candidate governs the objective with other tiers than the config
        in force after `e` carries (checked again when the config or governance changes)."""
        if e.type == "BudgetConfigured":
            config = e.data
        else:
            state = self.budgets.get(oid)
            config = None if state is None else state.config
        if config is None or self._checked.get(oid) is config:
            return False
        if self.governs(oid) and effective_tiers(config.get("tiers")) != self.effective:
            return True
        self._checked[oid] = config
        return False

    def _wanted(self, oid: str) -> list[dict[str, Any]] | None:
        """The tiers a config of the objective carries now: the candidate's while it
        governs, else the agreement's."""
        if self.governs(oid):
            return self.tiers
        obj = self.objectives.get(oid)
        return None if obj is None else budget.objective_config(obj).get("tiers")

    def _as_configured(self, oid: str, e: RecordedEvent) -> Iterator[RecordedEvent]:
        wanted = self._wanted(oid)
        if e.type == "BudgetConfigured":
            yield dataclasses.replace(e, data=_with_tiers(e.data, wanted))
            return
        state = self.budgets.get(oid)
        if state is not None and state.config is not None and state.config.get("tiers") != wanted:
            yield dataclasses.replace(e, type="BudgetConfigured",
                                      data=_with_tiers({"objective_id": oid, **state.config}, wanted))
        yield e

    def _derive(self, last: RecordedEvent) -> list[RecordedEvent]:
        oid = last.data["objective_id"]
        state = self.budgets.get(oid)
        new = budget.derive_at(state, budget.judged_at(state, last.type, last.data))
        out = []
        for k, n in enumerate(new, 1):
            out.append(RecordedEvent(last.position - 1 + k / (len(new) + 1), "", last.stream_id, last.stream_version,
                                     n.type, n.schema_version, n.data, {}, last.recorded_at))
            if n.type in ALERTS and self._in_period(n.data["at"]):
                self._what_if.setdefault(oid, []).append(Moment(n.type, n.data))
        return out

    def _in_period(self, at: str) -> bool:
        return self._start <= parse_iso(at) < self._end


def _with_tiers(data: Mapping[str, Any], tiers: list[dict[str, Any]] | None) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k != "tiers"}
    if tiers is not None:
        out["tiers"] = [dict(t) for t in tiers]
    return out


def may_change_tiers(candidate: Policy, policy_state: Any, objective_ids: Any) -> bool:
    """Whether the candidate could govern an objective with other tiers than those in force:
    False when it governs only objectives pinning its id (no `objective_ids`) and states the
    tiers every version of that id states (the bundled version 0 states the workbook's),
    so no budget event need be looked at for it."""
    if objective_ids is not None:
        return True
    said = [pv.doc().get("alert_tiers") for pv in (policy_state.versions if policy_state is not None else ())]
    if candidate.id == policy_domain.BUILTIN_POLICY_ID:
        said.append(None)
    mine = effective_tiers(candidate.alert_tiers)
    return any(effective_tiers(s) != mine for s in said)


def check_candidate_fits(candidate: Policy, windows: Mapping[str, Any]) -> None:
    """Refuse a candidate whose stated tiers do not fit the window of an objective it may
    govern (`windows`: objective id -> its budget window), as formalizing an agreement that
    pins a version refuses them (domain/objective/agreement.py: the same `check_tiers_fit`,
    field `alert_tiers[i].long_window`). A candidate that states none gets the workbook's,
    which formalizing does not check either."""
    if candidate.alert_tiers is None:
        return
    tiers = parse_tiers(candidate.alert_tiers)
    for objective_id in sorted(windows):
        try:
            check_tiers_fit(tiers, windows[objective_id], field="alert_tiers")
        except BudgetInputError as error:
            raise InvalidInput(f"policy {candidate.id} (the candidate) would govern objective {objective_id}: "
                               f"{error}", field=error.field, objective_id=objective_id) from None
