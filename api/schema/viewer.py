"""``viewer``: who is calling (the actor recorded on their events, and their roles)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.auth import current_principal
from api.schema import enums


@strawberry.type(description="Who is calling.")
class Viewer:
    actor: str
    roles: list[enums.Role]


@strawberry.type
class ViewerQuery:
    @strawberry.field(description="The caller: the actor recorded on their events and their roles.")
    def viewer(self, info: Info) -> Viewer:
        principal = current_principal(info)
        return Viewer(actor=principal.actor, roles=[r for r in enums.Role if r.value in principal.roles])
