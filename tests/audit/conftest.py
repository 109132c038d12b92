"""The GraphQL fixtures (real schema and app over the `container` fixture, SQLite and PostgreSQL)."""

from tests.graphql.conftest import Api, api

__all__ = ["Api", "api"]  # re-exported: pytest finds the fixture here
