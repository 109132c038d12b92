"""Notification targets in the API (domain/objective/notifications.py): who each alert tier of
an objective notifies, shown on `Objective.notificationRoutes` and set with
`setNotificationTargets` (sre, admin). OpenSLO's AlertNotificationTarget, carried as data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Iterable

import strawberry
from strawberry.types import Info

from api.schema import inputs as i
from domain import objective as od

if TYPE_CHECKING:
    from api.schema.objectives import ObjectivePayload


@strawberry.type(description="Where a tier's alerts go (OpenSLO AlertNotificationTarget), kept as data: slogov "
                             "sends nothing itself; a generator (an Alertmanager route) reads it.")
class NotificationTarget:
    name: str
    target: str = strawberry.field(description="As the spec writes it: a system (pagerduty, slack, email) or "
                                               "an address.")
    display_name: str | None
    description: str | None


@strawberry.type(description="One alert tier's notification targets, sorted by name.")
class AlertRoute:
    tier: str = strawberry.field(description="The tier key, severity_longwindow_shortwindow (page_1h_5m), as the "
                                             "runbooks and the generated alerts' tier label name it.")
    targets: list[NotificationTarget]


def routes_out(routes: Iterable[od.AlertRoute]) -> list[AlertRoute]:
    return [AlertRoute(tier=r.tier, targets=[NotificationTarget(name=t.name, target=t.target,
                                                                display_name=t.display_name,
                                                                description=t.description) for t in r.targets])
            for r in routes]


@strawberry.input
class NotificationTargetInput:
    name: str = strawberry.field(description="1-100 of A-Z a-z 0-9 . _ -, unique within its route.")
    target: str = strawberry.field(description="Up to 500 characters; a URL must carry no credentials.")
    display_name: str | None = None
    description: str | None = None


@strawberry.input
class AlertRouteInput:
    tier: str = strawberry.field(description="A tier key, e.g. page_1h_5m.")
    targets: list[NotificationTargetInput] = strawberry.field(description="1 to 16.")


@i.command_input
class SetNotificationTargetsInput:
    objective_id: strawberry.ID
    routes: list[AlertRouteInput] = strawberry.field(
        description="The objective's routes from now on, one per tier (empty: none). The same routes again "
                    "append nothing.")


@strawberry.type
class NotificationsMutation:
    @strawberry.mutation(description="Replace who each alert tier of an objective notifies (sre, admin). OpenSLO "
                                     "AlertNotificationTargets, as a specs import records them.")
    async def set_notification_targets(
        self, info: Info, input: SetNotificationTargetsInput
    ) -> Annotated["ObjectivePayload", strawberry.lazy("api.schema.objectives")]:
        from api.schema.objectives import objective_payload  # it shows the routes: imported when first run

        return await objective_payload(info, "SetNotificationTargets", input, lambda: od.SetNotificationTargets(
            str(input.objective_id), tuple(od.AlertRoute(r.tier, tuple(
                od.NotificationTarget(t.name, t.target, t.display_name, t.description) for t in r.targets))
                for r in input.routes)))
