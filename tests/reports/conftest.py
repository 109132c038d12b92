"""The GraphQL `api` fixture, shared with tests/graphql."""

from tests.graphql.conftest import api

__all__ = ["api"]  # re-exported: pytest finds the fixture here
