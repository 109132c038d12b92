"""`slogov sources`: data sources (list, define, change, retire) and an objective's SLI as
queries against one (`sli`), checked against the live source before it is recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Optional

import typer

from .common import DatabaseOption, table, when, with_container

app = typer.Typer(help="Data sources and SLI definitions (queries against a Prometheus).", no_args_is_help=True)

ActorOption = typer.Option(..., "--actor", envvar="SLOGOV_ACTOR", help="Who records it: on every event.")
RolesOption = typer.Option(["sre"], "--role", help="The actor's roles (repeatable; sre, engineering or admin).")
HeaderOption = typer.Option(None, "--header", help="HEADER=ENV_VAR: send HEADER with the value of the server's "
                                                   "environment variable ENV_VAR (repeatable; never a value).")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="sources")


def _headers(items: Optional[List[str]]) -> Optional[dict[str, str]]:
    if not items:
        return None
    out = {}
    for item in items:
        header, sep, env = item.partition("=")
        if not sep or not header or not env:
            raise typer.BadParameter(f"expected HEADER=ENV_VAR, e.g. Authorization=PROM_AUTH, got {item!r}",
                                     param_hint="--header")
        out[header] = env
    return out


def _send(database_url: Optional[str], command: Any, actor: str, roles: List[str], check: Any = None) -> Any:
    """Run `command` as `actor` (after `check(container)`, when given); print what was appended."""
    from service.envelope import Envelope

    async def work(container: Any) -> Any:
        if check is not None:
            await check(container)
        return await container.bus.execute(Envelope(command, actor, frozenset(roles)))

    result = with_container(database_url, work)
    for event in result.events:
        typer.echo(f"{event.position}  {event.type}  {event.stream_id}")
    return result


@app.command("list")
def list_(
    as_json: bool = typer.Option(False, "--json", help="Every source as JSON."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Data sources, oldest first (retired ones too)."""
    from api.schema import reads

    async def work(container: Any) -> list:
        page = await reads.data_source_page(container, 10_000, 0)
        return [state for _, state in page.items]

    states = with_container(database_url, work)
    if as_json:
        typer.echo(json.dumps([{**s.source().to_dict(), "retired": s.retired, "version": s.version} for s in states],
                              indent=2))
        return
    rows = [(s.name, s.kind, s.url, ", ".join(f"{h}={v}" for h, v in s.source().headers_from_env) or "-",
             "retired" if s.retired else "live", when(s.updated_at)) for s in states]
    typer.echo(table(("NAME", "KIND", "URL", "HEADERS FROM ENV", "STATE", "UPDATED"), rows))


@app.command("define")
def define(
    name: str = typer.Argument(..., help="The source's name, which SLI definitions use."),
    url: str = typer.Option(..., "--url", help="http(s)://host[:port][/path]; no credentials in it."),
    headers: Optional[List[str]] = HeaderOption,
    actor: str = ActorOption,
    roles: List[str] = RolesOption,
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Define a Prometheus data source."""
    from domain.sources import DefineDataSource

    _send(database_url, DefineDataSource(name, "prometheus", url, _headers(headers)), actor, roles)


@app.command("change")
def change(
    name: str = typer.Argument(...),
    url: str = typer.Option(..., "--url"),
    headers: Optional[List[str]] = HeaderOption,
    actor: str = ActorOption,
    roles: List[str] = RolesOption,
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Change a source's URL or headers (SLI definitions naming it follow)."""
    from domain.sources import ChangeDataSource

    _send(database_url, ChangeDataSource(name, "prometheus", url, _headers(headers)), actor, roles)


@app.command("retire")
def retire(
    name: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    actor: str = ActorOption,
    roles: List[str] = RolesOption,
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Retire a source: no SLI may name it after; refused while an objective's SLI still names it."""
    from domain.sources import RetireDataSource

    _send(database_url, RetireDataSource(name, reason), actor, roles)


def _slice(text: Optional[str]) -> Optional[dict[str, Any]]:
    if text is None:
        return None
    minutes, _, ratio = text.partition(":")
    try:
        return {"minutes": int(minutes), "good_ratio": float(ratio)}
    except ValueError:
        raise typer.BadParameter(f"expected MINUTES:GOOD_RATIO, e.g. 5:0.95, got {text!r}", param_hint="--slice") from None


@app.command("sli")
def sli(
    objective_id: str = typer.Argument(..., help="The objective whose SLI this defines."),
    source: Optional[str] = typer.Option(None, "--source", help="The data source's name."),
    kind: str = typer.Option("ratio", "--kind", help="ratio | latency"),
    good: Optional[str] = typer.Option(None, "--good", help="Ratio: the good events' counters."),
    bad: Optional[str] = typer.Option(None, "--bad", help="Ratio: the bad events' counters (instead of --good)."),
    total: Optional[str] = typer.Option(None, "--total", help="Ratio: all events' counters."),
    histogram: Optional[str] = typer.Option(None, "--histogram", help="Latency: the histogram's base name and matchers."),
    le: Optional[str] = typer.Option(None, "--le", help="Latency: the bucket's bound in seconds, as labelled."),
    series: Optional[str] = typer.Option(None, "--series", help="sum (default) | single"),
    slice_rule: Optional[str] = typer.Option(None, "--slice", help="Timeslices: MINUTES:GOOD_RATIO (default: the objective's)."),
    file: Optional[Path] = typer.Option(None, "--file", help="The definition as a JSON object instead of the options."),
    proposal_id: Optional[str] = typer.Option(None, "--proposal-id", help="An agreed objective: the proposal it opens."),
    rationale: Optional[str] = typer.Option(None, "--rationale", help="Why (required on an agreed objective)."),
    parties: Optional[List[str]] = typer.Option(None, "--party", help="An agreed objective: who must endorse (repeatable; default all four)."),
    actor: str = ActorOption,
    roles: List[str] = RolesOption,
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Define an objective's SLI as queries. The source is asked first (its own parser, and that
    the totals have series); a draft takes it directly, an agreed objective gets a proposal."""
    from domain.objective import PARTIES, DefineSli
    from service.sli_check import check_definition

    if file is not None:
        try:
            definition = json.loads(file.read_text(encoding="utf-8"))
        except ValueError as e:
            raise typer.BadParameter(f"{file}: not JSON ({e})", param_hint="--file") from None
    else:
        given = {"kind": kind, "source": source, "good": good, "bad": bad, "total": total, "histogram": histogram,
                 "le": le, "series": series, "slice": _slice(slice_rule)}
        definition = {k: v for k, v in given.items() if v is not None}
    command = DefineSli(objective_id, definition, proposal_id, rationale, tuple(parties) if parties else PARTIES,
                        checked=True)

    async def check(container: Any) -> None:
        from domain.permissions import authorize

        authorize(command, frozenset(roles))  # before the source is asked anything
        await check_definition(container, definition)

    _send(database_url, command, actor, roles, check)
