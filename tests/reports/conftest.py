"""The GraphQL `api` fixture, shared with tests/graphql."""

from tests.graphql.conftest import api  # noqa: F401
