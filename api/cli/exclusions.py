"""`slogov exclusions`: recurring budget exclusions (an RFC 5545 RRULE, e.g. a weekly
maintenance window): add one, end one from a data time on, list an objective's with their
next occurrences. The same commands as the GraphQL mutations, recorded on the objective's
budget stream with the actor and the reason."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, List, Optional

import typer

from .common import DatabaseOption, table, when, with_container

app = typer.Typer(help="Recurring budget exclusions (RRULE windows such as a weekly maintenance).",
                  no_args_is_help=True)

ActorOption = typer.Option(..., "--actor", envvar="SLOGOV_ACTOR", help="Who records it: on every event.")
RolesOption = typer.Option(["sre"], "--role", help="The actor's roles (repeatable; sre, leadership or admin).")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="exclusions")


def _aware(value: str, name: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint=name) from None
    if at.tzinfo is None:
        raise typer.BadParameter("a data time needs a zone, e.g. 2026-03-01T00:00:00+00:00", param_hint=name)
    return at


def _echo_events(result: Any) -> None:
    for event in result.events:
        typer.echo(f"{event.position}  {event.type}  {event.stream_id}")
    if not result.events:
        typer.echo("nothing appended (already recorded)")


@app.command("add")
def add(
    objective_id: str = typer.Argument(..., help="The objective whose budget it excludes from."),
    exclusion_id: str = typer.Argument(..., help="Its name (ends it later)."),
    rrule: str = typer.Option(..., "--rrule", help="e.g. FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0"),
    start: str = typer.Option(..., "--start", help="DTSTART, wall-clock time without an offset: 2026-01-04T02:00"),
    zone: str = typer.Option(..., "--zone", help="IANA time zone, e.g. Europe/Berlin"),
    duration: str = typer.Option(..., "--duration", help="Each occurrence's length: 90m, 2h, 1d"),
    reason: str = typer.Option(..., "--reason", help="Why (recorded on the event)."),
    approver: Optional[str] = typer.Option(None, "--approver", help="Who approved it (default: the actor)."),
    actor: str = ActorOption,
    roles: List[str] = RolesOption,
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Exclude every occurrence of an RRULE window from an objective's budget."""
    from service import budget_queries as bq

    async def work(container: Any) -> Any:
        return await bq.exclude_recurring(container, actor, frozenset(roles), objective_id, exclusion_id, rrule,
                                          start, zone, duration, reason, approver)

    _echo_events(with_container(database_url, work))


@app.command("end")
def end(
    objective_id: str = typer.Argument(...),
    exclusion_id: str = typer.Argument(...),
    from_: str = typer.Option(..., "--from", help="Data time (ISO 8601 with a zone): intervals starting then or "
                                                  "later are no longer excluded by it."),
    reason: str = typer.Option(..., "--reason"),
    actor: str = ActorOption,
    roles: List[str] = RolesOption,
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """End a recurring exclusion from a data time on."""
    from service import budget_queries as bq

    at = _aware(from_, "--from")

    async def work(container: Any) -> Any:
        return await bq.end_recurring_exclusion(container, actor, frozenset(roles), objective_id, exclusion_id, at,
                                                reason)

    _echo_events(with_container(database_url, work))


@app.command("list")
def list_(
    objective_id: str = typer.Argument(...),
    count: int = typer.Option(3, "--next", min=1, max=50, help="How many next occurrences to show."),
    after: Optional[str] = typer.Option(None, "--after", help="Next occurrences from this time (default: the "
                                                              "budget's latest data time)."),
    as_json: bool = typer.Option(False, "--json"),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """An objective's recurring exclusions (ended ones too) with their next occurrences."""
    from domain.budget.instants import format_duration, from_us, to_us
    from service import budget_queries as bq

    since = None if after is None else _aware(after, "--after")

    async def work(container: Any) -> list[dict[str, Any]]:
        state = await bq.budget_state(container, objective_id)
        if state is None or state.ledger is None:
            return []
        base = since or state.event_time
        out = []
        for x in state.ledger.recurring_exclusions:
            spans = x.next_occurrences(-(1 << 62) if base is None else to_us(base), count)
            out.append({**x.to_dict(), "duration": format_duration(x.duration),
                        "next": [[from_us(b).isoformat(), from_us(e).isoformat()] for b, e in spans]})
        return out

    items = with_container(database_url, work)
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    rows = [(x["id"], x["rrule"], f'{x["start"]} {x["zone"]}', x["duration"],
             "ended " + when(datetime.fromisoformat(x["ended_from"])) if x["ended_from"] else "active",
             ", ".join(when(datetime.fromisoformat(b)) for b, _ in x["next"]) or "-", x["reason"]) for x in items]
    typer.echo(table(("ID", "RRULE", "START", "DURATION", "STATE", "NEXT (UTC)", "REASON"), rows))
