"""`slogov projections`: the read models folded from the log."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import List, Optional

import typer

from .common import DatabaseOption, with_container

app = typer.Typer(help="Read models folded from the log.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="projections")


@app.command("rebuild")
def projections_rebuild(
    only: List[str] = typer.Option([], "--only", help="Rebuild just these projections."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Drop every read model and refold it from the log."""

    async def work(container):
        return await container.projections.rebuild(only or None)

    started = datetime.now(timezone.utc)
    counts = with_container(database_url, work)
    seconds = (datetime.now(timezone.utc) - started).total_seconds()
    for name, n in counts.items():
        typer.echo(f"{name}: {n} events folded")
    typer.echo(f"rebuilt in {seconds:.2f}s", err=True)
