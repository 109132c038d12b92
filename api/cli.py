"""The `slogov` command line: serve, migrate, demo data, tokens, projections, audit.

Each command builds the container from the environment (SLOGOV_DATABASE_URL,
default an SQLite file in the current directory) or from --database-url.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timezone
from typing import Awaitable, Callable, List, Optional, TypeVar

import typer

from service.config import Settings

app = typer.Typer(help="slogov: SLO governance from an append-only event log.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens (stored hashed).", no_args_is_help=True)
projections_app = typer.Typer(help="Read models folded from the log.", no_args_is_help=True)
audit_app = typer.Typer(help="Proof the log was not altered.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(projections_app, name="projections")
app.add_typer(audit_app, name="audit")

T = TypeVar("T")
DatabaseOption = typer.Option(None, "--database-url", envvar="SLOGOV_DATABASE_URL",
                              help="SQLAlchemy URL; default: sqlite+aiosqlite:///./slogov.db")


def _settings(database_url: Optional[str]) -> Settings:
    return Settings.from_env(database_url=database_url)


def _with_container(database_url: Optional[str], work: Callable[..., Awaitable[T]]) -> T:
    from service.bootstrap import build

    async def run() -> T:
        container = build(_settings(database_url))
        await container.startup()
        try:
            return await work(container)
        finally:
            await container.shutdown()

    return asyncio.run(run())


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    demo: bool = typer.Option(False, "--demo", help="Load the demo data (once) and print demo tokens."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Run the GraphQL server (created and migrated on first start)."""
    import uvicorn

    from api.main import create_app_for

    settings = _settings(database_url)
    application = create_app_for(settings, demo=demo)
    uvicorn.run(application, host=host, port=port, log_level="info", lifespan="on")


@app.command()
def migrate(database_url: Optional[str] = DatabaseOption) -> None:
    """Create or upgrade the schema (Alembic)."""

    async def work(container) -> None:
        typer.echo("schema is at the latest migration", err=True)

    _with_container(database_url, work)


@app.command()
def demo(database_url: Optional[str] = DatabaseOption) -> None:
    """Load the demo journeys and objectives (does nothing if the log is not empty)."""
    from service.demo import load_demo

    async def work(container) -> None:
        loaded = await load_demo(container)
        typer.echo("demo data loaded" if loaded else "the log is not empty: demo data not loaded", err=True)

    _with_container(database_url, work)


@token_app.command("create")
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
        token = _with_container(database_url, work)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    typer.echo(token)


@token_app.command("list")
def token_list(database_url: Optional[str] = DatabaseOption) -> None:
    """List tokens (ids, actors, roles; never the secrets)."""
    from api.auth import list_tokens

    async def work(container):
        return await list_tokens(container.engines.read)

    for item in _with_container(database_url, work):
        typer.echo(json.dumps(item, default=str))


@token_app.command("revoke")
def token_revoke(token_id: str, database_url: Optional[str] = DatabaseOption) -> None:
    """Revoke a token by its id."""
    from api.auth import revoke_token

    async def work(container):
        return await revoke_token(container.engines.write, token_id, datetime.now(timezone.utc))

    _with_container(database_url, work)
    typer.echo(f"revoked {token_id}", err=True)


@projections_app.command("rebuild")
def projections_rebuild(
    only: List[str] = typer.Option([], "--only", help="Rebuild just these projections."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Drop every read model and refold it from the log."""

    async def work(container):
        return await container.projections.rebuild(only or None)

    started = datetime.now(timezone.utc)
    counts = _with_container(database_url, work)
    seconds = (datetime.now(timezone.utc) - started).total_seconds()
    for name, n in counts.items():
        typer.echo(f"{name}: {n} events folded")
    typer.echo(f"rebuilt in {seconds:.2f}s", err=True)


@audit_app.command("verify")
def audit_verify(database_url: Optional[str] = DatabaseOption) -> None:
    """Recompute the hash chain; exit 1 if any event was altered, removed or reordered."""
    from eventstore.verify import verify_chain

    async def work(container):
        return await verify_chain(container.engines)

    report = _with_container(database_url, work)
    typer.echo(json.dumps({
        "ok": report.ok,
        "events_checked": report.events_checked,
        "head_position": report.head_position,
        "head_hash": report.head_hash,
        "first_broken_position": report.first_broken_position,
        "problem": report.problem,
    }))
    if not report.ok:
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover
    app(prog_name="slogov")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
