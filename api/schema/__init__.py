"""The slogov GraphQL schema: journeys and objectives, their queries and mutations.

``build_schema(settings)`` is the one entry point; ``python -m api.schema.export``
prints the SDL committed as ``schema.graphql``.
"""

from api.schema.schema import build_schema

__all__ = ["build_schema"]
