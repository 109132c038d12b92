"""``build_schema(settings)``: the strawberry schema with the request-cost extensions."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from api.limits import graphql_extensions
from api.schema import scalars
from api.schema.audit import AuditQuery, AuditSubscription
from api.schema.gate import GateMutation, GateQuery
from api.schema.mutations import Mutation as CoreMutation
from api.schema.reports import ReportsMutation, ReportsQuery
from api.schema.queries import Query as CoreQuery
from service.config import Settings


Query = merge_types("Query", (CoreQuery, GateQuery, AuditQuery, ReportsQuery))
Mutation = merge_types("Mutation", (CoreMutation, GateMutation, ReportsMutation))
Subscription = merge_types("Subscription", (AuditSubscription,))


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    return strawberry.Schema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=graphql_extensions(settings),
        scalar_overrides=scalars.OVERRIDES,
    )
