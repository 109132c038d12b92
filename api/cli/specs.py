"""`slogov specs`: OpenSLO and Sloth files in (import, check), OpenSLO v1 out (export)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Optional

import typer

from .common import DatabaseOption, fail, log_point, with_container
from .files import write_text

app = typer.Typer(help="OpenSLO and Sloth specs: import (as proposals), check, export.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="specs")


def _read(paths: List[Path]) -> Any:
    from api.specs.reader import SpecErrors, read_paths

    try:
        return read_paths(paths)
    except SpecErrors as e:
        for error in e.errors:
            typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


def _lines(message: str) -> None:
    for line in message.splitlines():
        typer.echo(f"error: {line}", err=True)


@app.command("import")
def import_(
    paths: List[Path] = typer.Argument(..., help="Files, and directories searched for *.yaml and *.yml."),
    apply: bool = typer.Option(False, "--apply", help="Append the plan (default: a dry run that appends nothing)."),
    actor: str = typer.Option(..., "--actor", envvar="SLOGOV_ACTOR", help="Who imports: recorded on every event."),
    roles: List[str] = typer.Option(["admin"], "--role", help="The importing actor's roles (repeatable)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why: recorded on every event (default: "
                                                                 "'specs import')."),
    as_json: bool = typer.Option(False, "--json", help="The plan as JSON."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Plan an import (what would be created, proposed, changed, left alone) and, with
    --apply, append it as one all-or-nothing batch. New targets are proposals by the actor."""
    from domain.errors import DomainError
    from service.specs import import_specs

    specs = _read(paths)
    source = ", ".join(p.name for p in paths)

    async def work(container: Any) -> Any:
        return await import_specs(container, specs, actor=actor, roles=frozenset(roles), apply=apply, source=source,
                                  reason=reason)

    try:
        result = with_container(database_url, work)
    except DomainError as e:
        _lines(e.message)
        raise typer.Exit(2) from None
    events = [(e.position, e.type, e.stream_id) for r in result.results for e in r.events]
    if as_json:
        typer.echo(json.dumps({
            "applied": result.applied,
            "steps": [{"action": s.action, "subject": s.subject, "detail": s.detail} for s in result.plan.steps],
            "notes": list(result.plan.notes),
            "findings": [str(f) for f in result.findings],
            "events": [{"position": p, "type": t, "stream": s} for p, t, s in events],
        }, indent=2))
        return
    for step in result.plan.steps:
        typer.echo(str(step))
    for note in result.plan.notes:
        typer.echo(f"note: {note}")
    for finding in result.findings:
        typer.echo(f"check: {finding}")
    verb = "appended" if result.applied else "would append (dry run; --apply appends)"
    typer.echo(f"{len(events)} events {verb}" if events else "nothing to append")


@app.command("check")
def check_(
    paths: List[Path] = typer.Argument(..., help="Files, and directories searched for *.yaml and *.yml."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """What the spec tools do not check: a target above its dependencies' ceiling, a window or
    slice the data's resolution cannot measure, an SLI with an unknown source. Exit 1 on any."""
    from service.specs import check_specs

    specs = _read(paths)
    findings = with_container(database_url, lambda c: check_specs(c, specs))
    for finding in findings:
        typer.echo(str(finding))
    if findings:
        raise typer.Exit(1)
    typer.echo("no findings")


@app.command("export")
def export_(
    as_of: Optional[str] = typer.Option(None, "--as-of", help="A log position or an ISO 8601 time (default: the head)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write to this file (default: stdout)."),
    include_drafts: bool = typer.Option(False, "--include-drafts", help="Objectives under negotiation too, "
                                        "with the open proposal's target."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """OpenSLO v1 multi-document YAML of what is agreed, deterministic, each document annotated
    with the log position and its chain hash (and each SLO with its agreements)."""
    from api.specs.openslo_export import render
    from service.audit import resolve_as_of
    from service.specs import export_specs

    point = log_point(as_of, "--as-of")

    async def work(container: Any) -> str:
        position = None
        if point is not None:
            position = await resolve_as_of(container, *((point, None) if isinstance(point, int) else (None, point)))
        specs, provenance = await export_specs(container, position, include_drafts=include_drafts)
        return render(specs, provenance)

    text = with_container(database_url, work)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        write_text(output, text)
    except OSError as e:
        raise fail(f"cannot write {output}: {e.strerror}") from None
