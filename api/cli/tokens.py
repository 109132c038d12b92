"""`slogov token`: bearer tokens (stored hashed)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import List, Optional

import typer

from .common import DatabaseOption, table, when, with_container

app = typer.Typer(help="Bearer tokens (stored hashed).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="token")


@app.command("create")
def token_create(
    actor: str = typer.Option(..., help="Who the token speaks for; recorded on every event."),
    role: List[str] = typer.Option(..., "--role", help="product, sre, engineering, leadership, auditor, ci, admin"),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Create a token and print it alone on stdout (it is stored hashed and cannot be shown again)."""
    from api.auth import create_token

    async def work(container) -> str:
        _, token = await create_token(container.engines.write, actor, role, datetime.now(timezone.utc))
        return token

    try:
        token = with_container(database_url, work)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    typer.echo(token)


@app.command("list")
def token_list(
    actor: Optional[str] = typer.Option(None, "--actor", help="Only this actor's tokens."),
    active: bool = typer.Option(False, "--active", help="Only tokens not revoked."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the ids, one a line (for `slogov token revoke`)."),
    as_json: bool = typer.Option(False, "--json", help="A JSON array of the tokens."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """List tokens, oldest first: a table of ids, actors, roles and times (never the secrets)."""
    from api.auth import list_tokens

    async def work(container):
        return await list_tokens(container.engines.read)

    tokens = [t for t in with_container(database_url, work)
              if (actor is None or t.actor == actor) and (not active or t.active)]
    if quiet:
        for t in tokens:
            typer.echo(t.id)
    elif as_json:
        typer.echo(json.dumps([{"id": t.id, "actor": t.actor, "roles": list(t.roles), "active": t.active,
                                "created_at": t.created_at.isoformat(),
                                "revoked_at": t.revoked_at and t.revoked_at.isoformat()} for t in tokens], indent=2))
    else:
        typer.echo(table(("ID", "ACTOR", "ROLES", "CREATED", "REVOKED"), [
            (t.id, t.actor, ",".join(t.roles), when(t.created_at), when(t.revoked_at)) for t in tokens]))


@app.command("revoke")
def token_revoke(
    token_ids: Optional[List[str]] = typer.Argument(
        None, help="Token ids. None given: read them from stdin, the first word of each line "
        "(e.g. `slogov token list --actor sam --quiet | slogov token revoke`)."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Revoke tokens by id: all of them, or none if any id is unknown."""
    from api.auth import list_tokens, revoke_token

    ids = list(token_ids or ())
    if not ids:
        if sys.stdin.isatty():
            raise typer.BadParameter("give token ids, or pipe them in (slogov token list --quiet)",
                                     param_hint="TOKEN_IDS")
        ids = [line.split()[0] for line in sys.stdin if line.strip()]
        if not ids:
            raise LookupError("no token ids on stdin")
    ids = list(dict.fromkeys(ids))

    async def work(container):
        known = {t.id for t in await list_tokens(container.engines.read)}
        unknown = [i for i in ids if i not in known]
        if unknown:  # checked before any is revoked
            raise LookupError(f"no token with id {', '.join(unknown)}; none revoked")
        now = datetime.now(timezone.utc)
        return [(i, await revoke_token(container.engines.write, i, now)) for i in ids]

    for token_id, was_active in with_container(database_url, work):
        typer.echo(f"revoked {token_id}" if was_active else f"{token_id} was already revoked", err=True)
