"""``build_schema(settings)``: the strawberry schema with the request-cost extensions."""

from __future__ import annotations

import strawberry

from api.limits import graphql_extensions
from api.schema.mutations import Mutation
from api.schema.queries import Query
from service.config import Settings


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=graphql_extensions(settings))
