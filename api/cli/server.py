"""Running slogov: `serve` (the GraphQL server), `migrate`, `demo` (the demo data)."""

from __future__ import annotations

import os
import signal
from typing import Optional

import typer

from .common import DatabaseOption, run_to_end, settings, with_container

# How long a stopping server lets requests in flight finish before it cancels them (a long
# read would otherwise hold SIGTERM up for as long as it runs).
GRACEFUL_SHUTDOWN_SECONDS = 10


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(migrate)
    app.command()(demo)


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    demo: bool = typer.Option(False, "--demo", help="Load the demo data (once) and print demo tokens."),
    workers: int = typer.Option(1, min=1, help="Server processes (PostgreSQL only; they share the one append lock)."),
    collect: bool = typer.Option(False, "--collect", help="Also collect from the data sources every minute "
                                 "(a background task; with several processes one collects)."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Run the GraphQL server (created and migrated on first start)."""
    import uvicorn

    from api.main import create_app_for

    # uvicorn shuts down gracefully on SIGTERM / SIGINT, then raises the signal again for
    # the handler it found: this one, so a clean stop exits 0 (a service manager reads
    # anything else as a failure); a signal before uvicorn starts stops at once, also 0.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _stopped)
    config = settings(database_url, collect=collect or None)
    if collect:
        os.environ["SLOGOV_COLLECT"] = "1"  # the worker processes read their settings from the environment
    if workers > 1:
        # Each process builds its own app from the environment. Appends stay serial (the
        # advisory lock) and the gate's caches follow the gate epoch, so processes agree.
        if config.is_sqlite or demo:
            raise typer.BadParameter("--workers > 1 needs PostgreSQL and no --demo", param_hint="--workers")
        os.environ["SLOGOV_DATABASE_URL"] = config.database_url
        uvicorn.run("api.main:create_app_for", factory=True, host=host, port=port, log_level="info",
                    lifespan="on", workers=workers, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)
        return
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # where a browser on this machine finds it
    application = create_app_for(config, demo=demo, url=f"http://{shown}:{port}")
    uvicorn.run(application, host=host, port=port, log_level="info", lifespan="on",
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)


def migrate(database_url: Optional[str] = DatabaseOption) -> None:
    """Create or upgrade the schema (Alembic) and say which: created, upgraded from a revision, or
    already at the latest."""

    from sqlalchemy.engine import make_url

    from eventstore.engine import create_engines
    from service.migrate import migrate as run_migrations

    url = settings(database_url).database_url

    async def run():
        # The engines alone, not the container: its startup would migrate first, leaving
        # nothing to report.
        engines = create_engines(url)
        try:
            return await run_migrations(engines.write)
        finally:
            await engines.dispose()

    done = run_to_end(run())
    typer.echo(done.describe(make_url(url).render_as_string(hide_password=True)), err=True)


def demo(database_url: Optional[str] = DatabaseOption) -> None:
    """Load the demo journeys and objectives (does nothing if the log is not empty)."""
    from service.demo import load_demo

    async def work(container) -> None:
        loaded = await load_demo(container)
        typer.echo("demo data loaded" if loaded else "the log is not empty: demo data not loaded", err=True)

    with_container(database_url, work)
