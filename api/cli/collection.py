"""Reading SLIs from their data sources: `slogov baseline` (history, once) and
`slogov collect` (every minute, in the foreground; `serve --collect` runs the same
collector inside the server)."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from typing import List, Optional

import typer

from .common import DatabaseOption, fail, when, with_container

CLI_ACTOR = "slogov-cli"
CLI_ROLES = frozenset({"sre"})


def register(app: typer.Typer) -> None:
    app.command()(baseline)
    app.command()(collect)


def baseline(
    objective: str = typer.Argument(..., help="The objective's id."),
    days: int = typer.Option(28, "--days", min=1, help="Days of history before --until (at most 90)."),
    until: Optional[str] = typer.Option(None, "--until", help="The period's end, a whole minute in ISO 8601 with a "
                                        "zone; default: the last complete minute."),
    candidate: Optional[List[float]] = typer.Option(None, "--candidate", help="A target to judge besides the "
                                                    "defaults and the open and agreed ones (repeatable), e.g. 0.998."),
    notes: Optional[str] = typer.Option(None, "--notes"),
    actor: str = typer.Option(CLI_ACTOR, "--actor", help="Who the log records (with the sre role)."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Measure a baseline from the objective's data source: pull the history at one-minute
    resolution (progress on stderr), record it as backfill, and record the baseline with
    attainment per day and week, the worst windows and each candidate target's budget."""
    from domain.errors import DomainError
    from service.collection.baseline import measure_baseline

    end = None
    if until is not None:
        try:
            end = datetime.fromisoformat(until)
        except ValueError:
            raise typer.BadParameter(f"{until!r} is not an ISO 8601 time", param_hint="--until") from None
    bars: dict[str, object] = {}

    def progress(phase: str, done: int, total: int) -> None:
        bar = bars.get(phase)
        if bar is None:
            label = {"query": "query_range", "record": "recording", "analyse": "analysing"}[phase]
            bar = bars[phase] = typer.progressbar(length=total, label=f"{label:12}", file=sys.stderr, show_pos=True)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.render_finish()

    async def work(container):
        return await measure_baseline(container, actor, CLI_ROLES, objective, days, until=end,
                                      candidates=tuple(candidate or ()), notes=notes, on_progress=progress)

    try:
        result = with_container(database_url, work)
    except DomainError as exc:
        raise fail(f"({exc.code}) {exc.message}")
    a = result.analysis
    p = a.period
    typer.echo(f"baseline of {objective} [{when(result.start)}, {when(result.end)}): "
               f"{_pct(p.attainment)} good ({p.good}/{p.total}), {a.minutes_with_data} minutes with data, "
               f"{result.minutes_recorded} minutes recorded as backfill")
    typer.echo("")
    typer.echo(f"{'day':12} {'attainment':>12} {'total':>12}")
    for d in a.days:
        typer.echo(f"{d.start.date().isoformat():12} {_pct(d.attainment):>12} {d.total:>12}")
    typer.echo("")
    typer.echo("worst hours: " + ", ".join(f"{when(h.start)} {_pct(h.attainment)}" for h in a.worst_hours))
    typer.echo("")
    typer.echo(f"{'target':>8} {'exhausted':>10} {'times':>6} {'min left':>9}  at the end")
    for c in a.candidates:
        left = "-" if c.min_remaining is None else f"{c.min_remaining * 100:.1f}%"
        end_word = "EXHAUSTED (breached as soon as agreed)" if c.exhausted_at_end else "within budget"
        typer.echo(f"{c.target * 100:>7.6g}% {c.exhausted_share * 100:>9.1f}% {c.exhaustions:>6} {left:>9}  {end_word}")


def _pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{value * 100:.3f}%"


def collect(
    once: bool = typer.Option(False, "--once", help="One round, then exit."),
    interval: Optional[float] = typer.Option(None, "--interval", help="Seconds between rounds (default 60, "
                                             "SLOGOV_COLLECT_INTERVAL_SECONDS)."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Collect every objective with a data source: each round records the last complete
    minutes (catching up after downtime up to SLOGOV_COLLECT_HORIZON_MINUTES, then a gap),
    and records a source's fault as the objective's collection state. On PostgreSQL one
    process collects at a time (an advisory lock); a stopped collector resumes from the log."""
    from service.collection.collector import Collector

    async def work(container):
        collector = Collector(container, interval=interval)
        try:
            while True:
                report = await collector.run_once()
                if report.skipped:
                    # PostgreSQL: another collector (`serve --collect`, another `collect`) holds the lock.
                    typer.echo("collect: another process holds the collector's lock (a `serve --collect` or another "
                               + ("`collect`); it collects, this round did nothing" if once else "`collect`); waiting"),
                               err=True)
                else:
                    faults = ", ".join(f"{k}: {v}" for k, v in sorted(report.faults.items())) or "none"
                    typer.echo(f"collect: {report.objectives} objectives, {report.minutes_recorded} minutes recorded, "
                               f"{len(report.gaps)} gaps, faults: {faults}", err=True)
                if once:
                    return
                await asyncio.sleep(collector.interval)
        finally:
            await collector.stop()

    try:
        with_container(database_url, work)
    except KeyboardInterrupt:  # pragma: no cover -- Ctrl-C ends the loop
        pass
