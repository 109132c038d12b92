"""Authentication as the API sees it: who is calling this operation, and may they.

Tokens themselves (issue, revoke, list, verify; stored hashed) are a service
concern and live in ``service.tokens``; they are re-exported here because every
entry point (HTTP, the CLI, tests) reaches them through the API's auth.
"""

from __future__ import annotations

from typing import Any

from domain.errors import Forbidden, Unauthenticated
from service.tokens import (
    ROLES,
    Principal,
    TokenInfo,
    TokenVerifier,
    api_tokens,
    auth_metadata,
    create_token,
    hash_token,
    list_tokens,
    revoke_token,
)


def _context_of(obj: Any) -> Any:
    # Accept a strawberry Info, a context, or anything with .context.
    return getattr(obj, "context", obj)


def current_principal(info_or_context: Any) -> Principal:
    """The caller of this operation; raises ``Unauthenticated`` if there is none."""
    context = _context_of(info_or_context)
    principal = context.get("principal") if hasattr(context, "get") else getattr(context, "principal", None)
    if not isinstance(principal, Principal):
        raise Unauthenticated("Authentication required")
    return principal


def require_roles(info_or_context: Any, *roles: str) -> Principal:
    """The caller, if they hold at least one of ``roles``; else ``Forbidden``.

    No role is implied by another: list ``"admin"`` explicitly where admins may act.
    """
    principal = current_principal(info_or_context)
    if not principal.has_any(*roles):
        raise Forbidden(
            f"This operation requires one of the roles: {', '.join(roles)}",
            required_roles=list(roles),
        )
    return principal


__all__ = [
    "ROLES",
    "Principal",
    "TokenInfo",
    "TokenVerifier",
    "api_tokens",
    "auth_metadata",
    "create_token",
    "current_principal",
    "hash_token",
    "list_tokens",
    "require_roles",
    "revoke_token",
]
