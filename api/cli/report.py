"""`slogov report`: the leadership report for a quarter."""

from __future__ import annotations

from typing import Optional

import typer

from .common import DatabaseOption, with_container
from .files import write_text


def register(app: typer.Typer) -> None:
    app.command()(report)


def report(
    quarter: str = typer.Option(..., "--quarter", help='The quarter, e.g. "2026-Q4" (UTC).'),
    format: str = typer.Option("markdown", "--format", help="markdown, json or html."),
    output: Optional[str] = typer.Option(None, "--output", help="Write to this file instead of stdout."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """The leadership report for a quarter, built from the read models and the log."""
    from domain.errors import DomainError
    from domain.quarters import require_quarter
    from service.reports import FORMATS, leadership_report, render

    if format not in FORMATS:
        typer.echo(f"error: --format must be one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(2)
    try:
        quarter = require_quarter(quarter)
    except DomainError as exc:
        typer.echo(f"error: --quarter: {exc.message}", err=True)
        raise typer.Exit(2)

    async def work(container):
        return await leadership_report(container, quarter)

    text = render(with_container(database_url, work), format)
    if output:
        write_text(output, text)
        typer.echo(f"wrote the {quarter} report ({format}) to {output}", err=True)
    else:
        typer.echo(text, nl=False)
