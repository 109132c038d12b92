"""The GraphQL fixtures (real schema and app over the `container` fixture, SQLite and PostgreSQL)."""

from tests.graphql.conftest import Api, api  # noqa: F401  (fixture re-exported)
