"""``build_schema(settings)``: the areas' queries, mutations and subscriptions merged into
one strawberry schema, with the request-cost extensions.

The order of the areas is the order of the root fields in ``schema.graphql``."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from api.limits import graphql_extensions
from api.schema import scalars
from api.schema.audit import AuditQuery, AuditSubscription
from api.schema.budgets import BudgetsMutation
from api.schema.collection import CollectionMutation, CollectionQuery
from api.schema.gate import GateMutation, GateQuery
from api.schema.journeys import JourneysMutation, JourneysQuery
from api.schema.monitoring import MonitoringMutation, MonitoringQuery
from api.schema.notifications import NotificationsMutation
from api.schema.objectives import ObjectivesMutation, ObjectivesQuery
from api.schema.reports import ReportsMutation, ReportsQuery
from api.schema.sources import SourcesMutation, SourcesQuery
from api.schema.specs import SpecsMutation, SpecsQuery
from api.schema.viewer import ViewerQuery
from api.schema.whatif import WhatIfQuery
from api.schema.whatif_evidence import WhatIfEvidenceMutation
from api.schema.whatif_policy import WhatIfPolicyQuery
from service.config import Settings


Query = merge_types("Query", (ViewerQuery, JourneysQuery, ObjectivesQuery, GateQuery, AuditQuery, ReportsQuery, WhatIfQuery,
                              SpecsQuery, WhatIfPolicyQuery, MonitoringQuery, SourcesQuery, CollectionQuery))
Mutation = merge_types("Mutation", (JourneysMutation, ObjectivesMutation, NotificationsMutation, BudgetsMutation, CollectionMutation, GateMutation, ReportsMutation, SpecsMutation,
                                    MonitoringMutation, WhatIfEvidenceMutation, SourcesMutation))
Subscription = merge_types("Subscription", (AuditSubscription,))


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    return strawberry.Schema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=graphql_extensions(settings),
        scalar_overrides=scalars.OVERRIDES,
    )
