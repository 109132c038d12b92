"""`slogov monitoring rules` and `slogov monitoring alertmanager`: the Prometheus rules, and the
Alertmanager routing for their alerts, generated from what was agreed (phase 6)."""

from __future__ import annotations

from typing import Optional

import typer

from .common import DatabaseOption, fail, log_point, with_container
from .files import write_text

monitoring = typer.Typer(help="Monitoring generated from the agreed objectives (Prometheus rules, "
                         "Alertmanager routing).",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(monitoring, name="monitoring")


@monitoring.command("rules")
def rules(
    objective: Optional[str] = typer.Option(None, "--objective", help="Only this objective (it must be agreed, "
                                            "formalized with runbooks, and have an SLI definition)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write the rules file here instead of stdout."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="A log position or an ISO 8601 time with a zone: "
                                        "the rules as they were generated then."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Recording and multiwindow burn-rate alerting rules for every agreed objective with an SLI
    definition, from its agreement's tiers and runbooks, named by the naming convention. The file
    names the log position it was generated at; the same position gives the same bytes. Objectives
    that have no rules yet are listed on stderr with the reason."""
    from service.monitoring import monitoring_rules

    _generate(monitoring_rules, "rules", objective, output, as_of, database_url)


@monitoring.command("alertmanager")
def alertmanager(
    objective: Optional[str] = typer.Option(None, "--objective", help="Only this objective (it must be agreed, "
                                            "formalized with runbooks, and have an SLI definition)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write the snippet here instead of stdout."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="A log position or an ISO 8601 time with a zone: "
                                        "the routing as it was generated then."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Alertmanager routing for the alerts `slogov monitoring rules` generates (the same objectives):
    a route per escalation path the agreements name, matching its objectives, with a child route per
    severity to a receiver per path and severity, and an inhibit rule by which an objective's firing page
    mutes its tickets. Paste the routes under the root route's `routes:`, the receivers under
    `receivers:` and the rule under `inhibit_rules:`, and give each receiver its integrations. The snippet
    names the log position and, per route, the agreements behind it; the same position gives the same bytes."""
    from service.monitoring import monitoring_alertmanager

    _generate(monitoring_alertmanager, "Alertmanager routing", objective, output, as_of, database_url)


def _generate(generate, what: str, objective: Optional[str], output: Optional[str], as_of: Optional[str],
              database_url: Optional[str]) -> None:
    from domain.errors import DomainError
    from service import audit

    point = log_point(as_of, "--as-of")

    async def work(container):
        position = None
        if point is not None:
            position = await audit.resolve_as_of(container, *((point, None) if isinstance(point, int) else (None, point)))
        return await generate(container, position, objective)

    try:
        generated = with_container(database_url, work)
    except DomainError as exc:
        raise fail(exc.message)
    for objective_id, reason in generated.skipped:
        typer.echo(f"skipped {objective_id}: {reason}", err=True)
    if output:
        write_text(output, generated.yaml)
        typer.echo(f"wrote {what} for {len(generated.objectives)} objective(s) at log position "
                   f"{generated.position} to {output}", err=True)
    else:
        typer.echo(generated.yaml, nl=False)
