"""`slogov whatif`: candidates judged over the recorded history (appends nothing)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, List, Optional

import typer

from .common import DatabaseOption, fail, with_container
from .files import write_text
from .windows import WindowTextError, window_from_text

app = typer.Typer(help="Candidates judged over the recorded history (appends nothing).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="whatif")


def _window_option(text: str) -> dict[str, Any]:
    """Every window the domain has, read as `windows.window_from_text` says."""
    try:
        return window_from_text(text)
    except WindowTextError as e:
        raise fail(f"--window: {e}") from None


_BUDGETING_FORMS = "occurrences, timeslices:MINUTES:THRESHOLD or ratio_timeslices:MINUTES"
# Each method's parameters, in order, as GraphQL's BudgetingInput names them: (field, pattern, type).
_MINUTES = ("slice_minutes", r"\d+", int)
_THRESHOLD = ("slice_threshold", r"\d*\.?\d+", float)
_BUDGETING_PARAMETERS = {"occurrences": (), "timeslices": (_MINUTES, _THRESHOLD), "ratio_timeslices": (_MINUTES,)}


def _budgeting_option(text: str) -> dict[str, Any]:
    """A method with all its parameters, the budget's form of GraphQL's BudgetingInput:
    "occurrences", "timeslices:MINUTES:THRESHOLD" or "ratio_timeslices:MINUTES". Anything
    else is refused rather than cut down to its method, and the values are checked as the
    budget checks them (domain/budget/config.py's `parse_budgeting`)."""
    from domain.budget.config import parse_budgeting
    from domain.budget.errors import BudgetInputError

    method, *values = text.split(":")
    parameters = _BUDGETING_PARAMETERS.get(method)
    well_formed = parameters is not None and len(values) == len(parameters) and all(
        re.fullmatch(pattern, value) for (_, pattern, _), value in zip(parameters, values))
    if not well_formed:
        raise fail(f"--budgeting: expected {_BUDGETING_FORMS} (e.g. timeslices:5:0.95), got {text!r}")
    budgeting = {"method": method, **{field: kind(value) for (field, _, kind), value in zip(parameters, values)}}
    try:
        parse_budgeting(budgeting)
    except BudgetInputError as exc:
        raise fail(f"--budgeting: {exc}") from None
    return budgeting


def _tier_option(text: str, hint: str = "--tier") -> dict[str, Any]:
    """"SEVERITY:LONG:SHORT:THRESHOLD", e.g. "page:1h:5m:14.4"."""
    parts = text.split(":")
    try:
        severity, long_window, short_window, threshold = parts
        return {"severity": severity, "long_window": long_window, "short_window": short_window,
                "threshold": float(threshold)}
    except ValueError:
        raise typer.BadParameter(f"expected SEVERITY:LONG:SHORT:THRESHOLD, e.g. page:1h:5m:14.4, got {text!r}",
                                 param_hint=hint) from None


def _tiers_option(text: str) -> Any:
    """A file of tiers in the agreement's shape (YAML or JSON: a list of {severity,
    long_window, short_window, threshold}, or a document with `alert_tiers:` -- a policy
    file's), else SEVERITY:LONG:SHORT:THRESHOLD[,...]. The values are checked as the
    decider checks them (a bad one: BAD_USER_INPUT naming tiers[i].field)."""
    from pathlib import Path

    import yaml

    path = Path(text)
    if not path.is_file():
        if ":" not in text:
            raise typer.BadParameter(f"{text!r} is no file, nor SEVERITY:LONG:SHORT:THRESHOLD[,...] "
                                     "(e.g. page:1h:5m:14.4,ticket:3d:6h:1)", param_hint="--tiers")
        return [_tier_option(t.strip(), "--tiers") for t in text.split(",") if t.strip()]
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise typer.BadParameter(f"{text}: {exc}", param_hint="--tiers") from None
    if isinstance(doc, dict):
        doc = doc.get("alert_tiers", doc.get("tiers"))
    if not isinstance(doc, list):
        raise typer.BadParameter(f"{text}: expected a list of tiers (severity, long_window, short_window, "
                                 "threshold), or a document with alert_tiers", param_hint="--tiers")
    return doc


def _percent(value: Optional[float]) -> str:
    return "-" if value is None else f"{value * 100:.4f}%"


def _whatif_table(result: dict[str, Any]) -> str:
    actual, what_if = result["actual"], result["what_if"]
    rows = [
        ("target", _percent(actual["target"]), _percent(what_if["target"])),
        ("attainment", _percent(actual["attainment"]), _percent(what_if["attainment"])),
        ("budget spent", _percent(actual["budget_spent"]), _percent(what_if["budget_spent"])),
        ("remaining at the end", _percent(actual["remaining"]), _percent(what_if["remaining"])),
        ("exhaustions", str(len(actual["exhaustions"])), str(len(what_if["exhaustions"]))),
        ("recoveries", str(len(actual["recoveries"])), str(len(what_if["recoveries"]))),
        ("alerts raised", *(str(sum(1 for t in o["transitions"] if t["type"] == "BurnRateAlertRaised"))
                            for o in (actual, what_if))),
        ("freezes", str(len(actual["freezes"])), str(len(what_if["freezes"]))),
        ("deploys denied", *(str(sum(1 for d in result["deploys"] if d[side] == "DENY"))
                             for side in ("actual", "what_if"))),
    ]
    lines = [f"objective {result['objective_id']}, [{result['from']}, {result['to']}), log position {result['position']}"]
    if result["candidate"]["tiers"]:
        lines.append("candidate alert tiers: " + ", ".join(
            f"{t['severity']} {t['threshold']:g} over {t['long_window']}/{t['short_window']}"
            for t in result["candidate"]["tiers"]))
    lines += ["", f"{'':22} {'actual':>14} {'what-if':>14}"]
    lines += [f"{name:22} {a:>14} {w:>14}" for name, a, w in rows]
    for title, outcome in (("actual (recorded)", actual), ("what-if", what_if)):
        lines += ["", f"{title}:"]
        for t in outcome["transitions"]:
            tier = (f" {t['severity']} {t['long_window']}/{t['short_window']} over {t['threshold']:g}"
                    if "severity" in t else "")
            left = f" remaining {t['remaining']:.4f}" if "remaining" in t else ""
            lines.append(f"  {t['at']}  {t['type']}{tier}{left}")
        if not outcome["transitions"]:
            lines.append("  (no transitions)")
        for f in outcome["freezes"]:
            lines.append(f"  {f['started_at']}  freeze of {', '.join(f['services'])} "
                         f"(lifted {f['lifted_at'] or 'never'})")
    changed = [d for d in result["deploys"] if d["changed"]]
    lines += ["", f"recorded deploys judged again: {len(result['deploys'])}, differently: {len(changed)}"]
    for d in changed:
        lines.append(f"  {d['at']}  {d['pipeline_run_id']} ({d['service']}, {d['change_type']}): "
                     f"{d['actual']} -> {d['what_if']}")
    return "\n".join(lines) + "\n"



def _period(quarter: Optional[str], start: Optional[str], end: Optional[str]) -> tuple[datetime, datetime]:
    """The period a what-if reads: a quarter, or --from and --to; exit 2 saying what is wrong."""
    from domain import quarters
    from domain.errors import DomainError

    try:
        if quarter is not None:
            if start is not None or end is not None:
                raise typer.BadParameter("give --quarter or --from/--to, not both", param_hint="--quarter")
            return quarters.bounds(quarters.require_quarter(quarter))
        if start is None or end is None:
            raise typer.BadParameter("give --from and --to (or --quarter)", param_hint="--from")
        return datetime.fromisoformat(start), datetime.fromisoformat(end)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    except DomainError as exc:
        typer.echo(f"error: --quarter: {exc.message}", err=True)
        raise typer.Exit(2)


# --attach: the run recorded as a proposal's evidence, by the command attachWhatIfEvidence uses.
AttachOption = typer.Option(None, "--attach", metavar="PROPOSAL",
                            help="Also attach this run to the objective's open proposal as its evidence "
                                 "(WhatIfEvidenceAttached; the one thing a what-if may append).")
ActorOption = typer.Option(None, "--actor", envvar="SLOGOV_ACTOR", help="With --attach: who attaches (recorded).")
RolesOption = typer.Option(["admin"], "--role", help="With --attach: the actor's roles (repeatable; a party "
                                                      "-- product, sre, engineering, leadership -- or admin).")
ReasonOption = typer.Option(None, "--reason", help="With --attach: why (recorded on the event).")
KeyOption = typer.Option(None, "--idempotency-key", help="With --attach: a retry with the same key and request "
                                                         "is answered from the record.")


def _envelope(actor: Optional[str], roles: List[str], reason: Optional[str], key: Optional[str]) -> Any:
    from service.envelope import Envelope

    if not actor:
        typer.echo("error: --attach needs --actor (or SLOGOV_ACTOR): who attaches the evidence", err=True)
        raise typer.Exit(2)
    return Envelope(None, actor, frozenset(roles), idempotency_key=key, reason=reason)


def _attached_line(attached: Any, proposal: str) -> str:
    events = ", ".join(f"{e.type} at log position {e.position}" for e in attached.result.events)
    if attached.run is None:
        return f"evidence: already attached to proposal {proposal} (a retry, answered from the record: {events})"
    return f"evidence: attached to proposal {proposal}: {events}"


def _attached_dict(attached: Any, proposal: str) -> dict[str, Any]:
    return {"proposal_id": proposal, "replayed": attached.result.replayed,
            "events": [{"position": e.position, "type": e.type} for e in attached.result.events]}


@app.command("target")
def whatif_target(
    objective: str = typer.Argument(..., help="The objective's id."),
    target: Optional[float] = typer.Option(None, "--target", help="Candidate target, e.g. 0.9995."),
    start: Optional[str] = typer.Option(None, "--from", help="Period start, ISO 8601 with a zone."),
    end: Optional[str] = typer.Option(None, "--to", help="Period end (exclusive), ISO 8601 with a zone."),
    quarter: Optional[str] = typer.Option(None, "--quarter", help='Instead of --from/--to: a quarter, e.g. "2026-Q3".'),
    window: Optional[str] = typer.Option(None, "--window", help='Candidate window: a rolling duration ("28d", "4w"), calendar_month, '
                                          'calendar_quarter, "calendar 1M 2026-01-01T00:00:00 Europe/Berlin", or a JSON '
                                          'window object (kind, days, duration, start, timeZone).'),
    budgeting: Optional[str] = typer.Option(None, "--budgeting",
                                            help="Candidate budgeting method with its parameters: occurrences, "
                                                 "timeslices:MINUTES:THRESHOLD (e.g. timeslices:5:0.95: 5-minute "
                                                 "slices, each good when 95% of its events are) or "
                                                 "ratio_timeslices:MINUTES (e.g. ratio_timeslices:5)."),
    tier: Optional[List[str]] = typer.Option(None, "--tier", help="Candidate alert tier SEVERITY:LONG:SHORT:THRESHOLD "
                                                                   "(repeat; replaces the recorded tiers)."),
    tiers: Optional[str] = typer.Option(None, "--tiers", metavar="FILE|SPEC",
                                        help="Candidate alert tiers, all of them: a YAML/JSON file in the "
                                             "agreement's shape (a list, or a policy file's alert_tiers), or "
                                             "SEVERITY:LONG:SHORT:THRESHOLD[,...]."),
    proposal: Optional[str] = typer.Option(None, "--proposal", help="Instead of --target: a proposal's target."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    html: Optional[str] = typer.Option(None, "--html", help="Also write the side-by-side page with its charts "
                                                            "to this file."),
    attach: Optional[str] = AttachOption,
    actor: Optional[str] = ActorOption,
    roles: List[str] = RolesOption,
    reason: Optional[str] = ReasonOption,
    idempotency_key: Optional[str] = KeyOption,
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Would this target (window, method, tiers) have held over the period? The objective's recorded
    history judged again with the candidate, beside what happened: transitions, the freezes the
    policy would have started, the recorded deploys that would have been denied. Appends nothing,
    unless --attach records the run as a proposal's evidence (then the candidate target is the
    proposal's unless --target says otherwise)."""
    from domain.errors import DomainError
    from service.whatif import target_whatif_of, to_dict

    begin, finish = _period(quarter, start, end)

    def progress(done: int, total: int) -> None:
        typer.echo(f"whatif: {done}/{total} events judged", err=True)

    if attach is not None and proposal is not None and proposal != attach:
        typer.echo("error: --attach runs with that proposal's target: give --target, or --proposal of the same "
                   "proposal", err=True)
        raise typer.Exit(2)
    if tier and tiers is not None:
        typer.echo("error: give --tiers or --tier, not both", err=True)
        raise typer.Exit(2)
    envelope = _envelope(actor, roles, reason, idempotency_key) if attach is not None else None
    candidate = {"target": target, "window": None if window is None else _window_option(window),
                 "budgeting": None if budgeting is None else _budgeting_option(budgeting),
                 "tiers": _tiers_option(tiers) if tiers is not None else [_tier_option(t) for t in tier] if tier
                 else None}
    attached = None

    async def work(container):
        nonlocal attached
        if attach is not None:
            from service.whatif_evidence import attach_evidence

            attached = await attach_evidence(container, envelope, objective, attach, "target", begin, finish,
                                             progress=progress, **candidate)
            return None if attached.run is None else attached.run.result
        return await target_whatif_of(container, objective, begin, finish, proposal_id=proposal, progress=progress,
                                      **candidate)

    try:
        ran = with_container(database_url, work)
    except DomainError as exc:
        typer.echo(f"error ({exc.code}): {exc.message}", err=True)
        raise typer.Exit(2)
    if ran is None:  # a retry answered from the record: nothing ran
        typer.echo(json.dumps({"attached": _attached_dict(attached, attach)}, indent=2) if as_json
                   else _attached_line(attached, attach))
        return
    result = to_dict(ran, chart=html is not None)
    if html is not None:
        from service.reports.whatif_html import render_whatif_html

        write_text(html, render_whatif_html(result))
        typer.echo(f"whatif: the page is in {html}", err=True)
        for side in ("actual", "what_if"):
            result[side].pop("series", None)
    if attached is not None:
        result["attached"] = _attached_dict(attached, attach)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(_whatif_table(result), nl=False)
        if attached is not None:
            typer.echo(_attached_line(attached, attach))


# --------------------------------------------------------------------------- whatif policy


def _policy_table(result: dict[str, Any]) -> str:
    s = result["summary"]
    lines = [f"policy {result['policy_id']} (as version {result['candidate_version']}), "
             f"[{result['from']}, {result['to']}), log position {result['position']}",
             f"objectives it governs: {', '.join(result['affected_objectives']) or 'none'}",
             "", f"{'':22} {'actual':>8} {'what-if':>8}"]
    for name in ("freezes", "escalations", "postmortems"):
        lines.append(f"{name:22} {s[name]['actual']:>8} {s[name]['what_if']:>8}")
    if result["alerts"]:
        lines.append(f"{'alerts raised':22} {s['alerts_raised']['actual']:>8} {s['alerts_raised']['what_if']:>8}")
    lines += ["", f"{s['decisions']} decisions judged again; {s['changed']} change "
                  f"({s['allow_to_deny']} ALLOW -> DENY, {s['deny_to_allow']} DENY -> ALLOW)"]
    for d in result["changed"]:
        lines.append(f"  {d['at']}  {d['pipeline_run_id']}  {d['service']} {d['change_type']} {d['version']}: "
                     f"{d['recorded']['outcome']} -> {d['what_if']['outcome']}")
        lines += [f"      {reason}" for reason in d["what_if"]["reasons"]]
    for title, key in (("started as recorded, not under the candidate", "only_actual"),
                       ("started only under the candidate", "only_what_if")):
        if result["actions"][key]:
            lines += ["", f"{title}:"]
            lines += [f"  {a['at']}  {a['objective_id']}  {a['type']} ({a['rule_id']}): {a['reason']}"
                      for a in result["actions"][key]]
    for a in result["alerts"]:
        raised = {side: [t for t in a[side] if t["type"] == "BurnRateAlertRaised"] for side in ("actual", "what_if")}
        lines += ["", f"alert tiers of {a['objective_id']} under the candidate (from log position "
                      f"{a['since_position']}): alerts raised {len(raised['actual'])} -> {len(raised['what_if'])}"]
        for side, title in (("actual", "recorded"), ("what_if", "what-if")):
            lines += [f"  {title:8}  {t['at']}  {t['type']} {t['severity']} {t['long_window']}/{t['short_window']} "
                      f"over {t['threshold']}" for t in a[side]]
    return "\n".join(lines) + "\n"


def _where(text: str, file: str, field: Optional[str]) -> str:
    """`file: field (line n)` for a policy document's field path, e.g. rules[0].when.x; as
    deep as the path goes in the text (a missing key: its mapping's line)."""
    from api.specs.yaml_source import SpecError, documents

    try:
        item = next(documents(text, file), None)
    except SpecError as exc:
        return str(exc.where)
    if item is None or not field:
        return f"{file}: {field or '(document)'}"
    for key in re.findall(r"[^.\[\]]+|\[\d+\]", field):
        try:
            if key.startswith("["):
                children = item.sequence()
                item = children[int(key[1:-1])]
            else:
                item = item.mapping()[key]
        except (SpecError, KeyError, IndexError):
            break
    return f"{file}: {field} (line {item.where.line})"


@app.command("policy")
def whatif_policy(
    file: str = typer.Argument(..., help="The candidate policy, a YAML file as adoptPolicy takes it."),
    start: Optional[str] = typer.Option(None, "--from", help="Period start, ISO 8601 with a zone."),
    end: Optional[str] = typer.Option(None, "--to", help="Period end (exclusive), ISO 8601 with a zone."),
    quarter: Optional[str] = typer.Option(None, "--quarter", help='Instead of --from/--to: a quarter, e.g. "2026-Q3".'),
    objective: Optional[List[str]] = typer.Option(
        None, "--objective", help="Govern these objectives (repeat) instead of those pinning the policy's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    attach: Optional[str] = AttachOption,
    actor: Optional[str] = ActorOption,
    roles: List[str] = RolesOption,
    reason: Optional[str] = ReasonOption,
    idempotency_key: Optional[str] = KeyOption,
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """What would this policy have blocked? Every deploy decision recorded in the period judged
    again at its own log position with the candidate in force, and the freezes, escalations and
    postmortems it would have started. Appends nothing, unless --attach records the run, for the
    one --objective, as the evidence of that objective's proposal."""
    from pathlib import Path

    from domain.errors import DomainError
    from service.policy_whatif import policy_whatif_of, to_dict

    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        typer.echo(f"error: {file}: {exc.strerror}", err=True)
        raise typer.Exit(2)
    begin, finish = _period(quarter, start, end)

    def progress(done: int, head: int) -> None:
        typer.echo(f"whatif: {done}/{head} events judged", err=True)

    if attach is not None and len(objective or ()) != 1:
        typer.echo("error: --attach needs the one --objective whose proposal takes the evidence", err=True)
        raise typer.Exit(2)
    envelope = _envelope(actor, roles, reason, idempotency_key) if attach is not None else None
    attached = None

    async def work(container):
        nonlocal attached
        if attach is not None:
            from service.whatif_evidence import attach_evidence

            attached = await attach_evidence(container, envelope, objective[0], attach, "policy", begin, finish,
                                             document=text, progress=progress)
            return None if attached.run is None else attached.run.result
        return await policy_whatif_of(container, text, begin, finish, objective_ids=objective or None,
                                      progress=progress)

    try:
        ran = with_container(database_url, work)
    except DomainError as exc:
        field = exc.details.get("field") if exc.code == "BAD_USER_INPUT" else None
        where = _where(text, file, field) if field and field not in ("from", "to", "document") else file
        typer.echo(f"error ({exc.code}): {where}: {exc.message}", err=True)
        raise typer.Exit(2)
    if ran is None:  # a retry answered from the record: nothing ran
        typer.echo(json.dumps({"attached": _attached_dict(attached, attach)}, indent=2) if as_json
                   else _attached_line(attached, attach))
        return
    result = to_dict(ran)
    if attached is not None:
        result["attached"] = _attached_dict(attached, attach)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(_policy_table(result), nl=False)
        if attached is not None:
            typer.echo(_attached_line(attached, attach))
