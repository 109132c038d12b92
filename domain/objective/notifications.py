"""Notification targets, per alert tier: who an objective's burn-rate alerts notify (OpenSLO's
AlertNotificationTarget, named by an AlertPolicy's `notificationTargets`).

`SetNotificationTargets` replaces the objective's routes, one per tier (by the tier key,
`page_1h_5m`, as the agreement's runbooks and the generated alerts' tier label name it),
and appends `NotificationTargetsSet`, or nothing when they are already in force (a spec
imported again appends nothing). No routes: none named. They are recorded as data on the
objective's stream beside its agreement, read back at any log position by what generates
from the agreed state (the OpenSLO export; an Alertmanager route): slogov itself sends
nothing. Like labels they change directly, agreed objective or not: they say who is told
when the agreed tiers fire, not what is agreed to.

A route names a tier key whether or not that tier is in force: tiers change on the budget
(ConfigureAlerts, the policy's), and a route for a tier not in force notifies no one until
it is. A target is text (`pagerduty`, `slack`, an address); one written as a URL must carry
no credentials, as a runbook link must not (`domain.runbooks.check_url`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from domain.budget.errors import BudgetInputError
from domain.budget.instants import canonical_label
from domain.commands import NAME_MAX_LENGTH, optional_text, require_id, require_text
from domain.errors import InvalidInput
from domain.events import Context, NewEvent, RecordedEvent
from domain.objective.state import AlertRoute, NotificationTarget, ObjectiveCommand, ObjectiveState
from domain.records import replace
from domain.runbooks import check_url

MAX_ROUTES = 32
MAX_TARGETS = 16
TARGET_MAX_LENGTH = 500


@dataclass(frozen=True)
class SetNotificationTargets(ObjectiveCommand):
    objective_id: str
    routes: tuple[AlertRoute, ...] = ()  # the objective's routes from now on (empty: none)


def check_tier_key(value: Any, field: str) -> str:
    """A tier key, `severity_long_short` with both windows in their canonical form (`page_1h_5m`)."""
    parts = value.rsplit("_", 2) if isinstance(value, str) else []
    try:
        valid = len(parts) == 3 and bool(parts[0]) and all(canonical_label(w, field) == w for w in parts[1:])
    except BudgetInputError:
        valid = False
    if not valid:
        raise InvalidInput(f"{field}: a tier key is severity_longwindow_shortwindow, e.g. page_1h_5m, "
                           f"got {value!r}", field=field)
    return value


def _target(value: Any, field: str) -> NotificationTarget:
    if not isinstance(value, NotificationTarget):
        raise InvalidInput(f"{field} must be a NotificationTarget", field=field)
    target = require_text(value.target, f"{field}.target", max_length=TARGET_MAX_LENGTH)
    if "://" in target:
        try:
            check_url(target, f"{field}.target")
        except InvalidInput as e:  # the runbook rule, said of a target
            raise InvalidInput(e.message.replace("in every rules file", "in every export").replace(
                "link the runbook", "name the target"), field=f"{field}.target") from None
    return NotificationTarget(
        require_id(value.name, f"{field}.name"), target,
        optional_text(value.display_name, f"{field}.display_name", max_length=NAME_MAX_LENGTH),
        optional_text(value.description, f"{field}.description"))


def routes_of(value: Any, field: str = "routes") -> tuple[AlertRoute, ...]:
    """The routes checked and in their normal form: sorted by tier, targets by name."""
    if not isinstance(value, (tuple, list)):
        raise InvalidInput(f"{field} must be a list of routes", field=field)
    if len(value) > MAX_ROUTES:
        raise InvalidInput(f"{field}: at most {MAX_ROUTES} routes", field=field)
    routes: dict[str, AlertRoute] = {}
    for i, route in enumerate(value):
        at = f"{field}[{i}]"
        if not isinstance(route, AlertRoute):
            raise InvalidInput(f"{at} must be an AlertRoute", field=at)
        tier = check_tier_key(route.tier, f"{at}.tier")
        if tier in routes:
            raise InvalidInput(f"{at}.tier: {tier} is routed twice; give one route its targets", field=f"{at}.tier")
        if not isinstance(route.targets, (tuple, list)) or not 1 <= len(route.targets) <= MAX_TARGETS:
            raise InvalidInput(f"{at}.targets: 1 to {MAX_TARGETS} targets (no targets: leave the tier out)",
                               field=f"{at}.targets")
        targets: dict[str, NotificationTarget] = {}
        for j, t in enumerate(route.targets):
            target = _target(t, f"{at}.targets[{j}]")
            if target.name in targets:
                raise InvalidInput(f"{at}.targets[{j}].name: {target.name} appears twice in one route",
                                   field=f"{at}.targets[{j}].name")
            targets[target.name] = target
        routes[tier] = AlertRoute(tier, tuple(targets[n] for n in sorted(targets)))
    return tuple(routes[k] for k in sorted(routes))


def routes_data(routes: tuple[AlertRoute, ...]) -> list[dict[str, Any]]:
    return [{"tier": r.tier, "targets": [{"name": t.name, "target": t.target, "display_name": t.display_name,
                                          "description": t.description} for t in r.targets]} for r in routes]


def routes_from_data(data: list[dict[str, Any]]) -> tuple[AlertRoute, ...]:
    return tuple(AlertRoute(r["tier"], tuple(NotificationTarget(t["name"], t["target"], t.get("display_name"),
                                                                t.get("description")) for t in r["targets"]))
                 for r in data)


def _set(cmd: SetNotificationTargets, state: ObjectiveState, ctx: Context) -> list[NewEvent]:
    routes = routes_of(cmd.routes)
    if routes == state.notification_routes:
        return []
    return [NewEvent("NotificationTargetsSet", {"objective_id": state.id, "routes": routes_data(routes)})]


def _set_event(state: ObjectiveState, event: RecordedEvent) -> ObjectiveState:
    return replace(state, notification_routes=routes_from_data(event.data["routes"]))


DECIDERS: dict[type, Callable[[Any, Any, Context], list[NewEvent]]] = {SetNotificationTargets: _set}
EVOLVERS: dict[str, Callable[[ObjectiveState, RecordedEvent], ObjectiveState]] = {"NotificationTargetsSet": _set_event}
