"""The `slogov` command line: serve, migrate, demo data, tokens, projections, audit,
`report` (the leadership report), and `gate`, the deploy gate's client for CI pipelines.

Each command but `gate` builds the container from the environment (SLOGOV_DATABASE_URL,
default an SQLite file in the current directory) or from --database-url. `gate` talks
to a running server over HTTP (SLOGOV_URL, SLOGOV_TOKEN).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import uuid
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, List, Optional, TypeVar

import typer

from api.cli_errors import ERROR_EXIT, OneLineErrors
from service.config import Settings

# Every error a command meets is one line on stderr and exit 2 (api/cli_errors.py).
app = typer.Typer(help="slogov: SLO governance from an append-only event log.", no_args_is_help=True,
                  cls=OneLineErrors)
token_app = typer.Typer(help="Bearer tokens (stored hashed).", no_args_is_help=True)
projections_app = typer.Typer(help="Read models folded from the log.", no_args_is_help=True)
audit_app = typer.Typer(help="Proof the log was not altered.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(projections_app, name="projections")
app.add_typer(audit_app, name="audit")

T = TypeVar("T")
DatabaseOption = typer.Option(None, "--database-url", envvar="SLOGOV_DATABASE_URL",
                              help="SQLAlchemy URL; default: sqlite+aiosqlite:///./slogov.db")


def _settings(database_url: Optional[str], **overrides: Any) -> Settings:
    return Settings.from_env(database_url=database_url, **overrides)


def _with_container(database_url: Optional[str], work: Callable[..., Awaitable[T]], **overrides: Any) -> T:
    from service.bootstrap import build

    async def run() -> T:
        container = build(_settings(database_url, **overrides))
        try:  # shut down even when startup fails (an unreachable database): no stray threads
            await container.startup()
            return await work(container)
        finally:
            await container.shutdown()

    return asyncio.run(run())


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    demo: bool = typer.Option(False, "--demo", help="Load the demo data (once) and print demo tokens."),
    workers: int = typer.Option(1, min=1, help="Server processes (PostgreSQL only; they share the one append lock)."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Run the GraphQL server (created and migrated on first start)."""
    import uvicorn

    from api.main import create_app_for

    settings = _settings(database_url)
    if workers > 1:
        # Each process builds its own app from the environment. Appends stay serial (the
        # advisory lock) and the gate's caches follow the gate epoch, so processes agree.
        if settings.is_sqlite or demo:
            raise typer.BadParameter("--workers > 1 needs PostgreSQL and no --demo", param_hint="--workers")
        os.environ["SLOGOV_DATABASE_URL"] = settings.database_url
        uvicorn.run("api.main:create_app_for", factory=True, host=host, port=port, log_level="info",
                    lifespan="on", workers=workers)
        return
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # where a browser on this machine finds it
    application = create_app_for(settings, demo=demo, url=f"http://{shown}:{port}")
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
def token_list(
    actor: Optional[str] = typer.Option(None, "--actor", help="Only this actor's tokens."),
    active: bool = typer.Option(False, "--active", help="Only tokens not revoked."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the ids, one a line (for `slogov token revoke`)."),
    as_json: bool = typer.Option(False, "--json", help="A JSON array of the tokens."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """List tokens, oldest first: a table of ids, actors, roles and times (never the secrets)."""
    from api.auth import list_tokens

    async def work(container):
        return await list_tokens(container.engines.read)

    tokens = [t for t in _with_container(database_url, work)
              if (actor is None or t.actor == actor) and (not active or t.active)]
    if quiet:
        for t in tokens:
            typer.echo(t.id)
    elif as_json:
        typer.echo(json.dumps([{"id": t.id, "actor": t.actor, "roles": list(t.roles), "active": t.active,
                                "created_at": t.created_at.isoformat(),
                                "revoked_at": t.revoked_at and t.revoked_at.isoformat()} for t in tokens], indent=2))
    else:
        typer.echo(_table(("ID", "ACTOR", "ROLES", "CREATED", "REVOKED"), [
            (t.id, t.actor, ",".join(t.roles), _when(t.created_at), _when(t.revoked_at)) for t in tokens]))


def _when(at: Optional[datetime]) -> str:
    return "-" if at is None else at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _table(header: tuple[str, ...], rows: List[tuple[str, ...]]) -> str:
    """Columns padded to their widest cell; the first column is the one scripts cut."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [header, *rows])


@token_app.command("revoke")
def token_revoke(
    token_ids: Optional[List[str]] = typer.Argument(
        None, help="Token ids. None given: read them from stdin, the first word of each line "
        "(e.g. `slogov token list --actor sam --quiet | slogov token revoke`)."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Revoke tokens by id: all of them, or none if any id is unknown."""
    from api.auth import list_tokens, revoke_token

    ids = list(token_ids or ())
    if not ids:
        if sys.stdin.isatty():
            raise typer.BadParameter("give token ids, or pipe them in (slogov token list --quiet)",
                                     param_hint="TOKEN_IDS")
        ids = [line.split()[0] for line in sys.stdin if line.strip()]
        if not ids:
            raise LookupError("no token ids on stdin")
    ids = list(dict.fromkeys(ids))

    async def work(container):
        known = {t.id for t in await list_tokens(container.engines.read)}
        unknown = [i for i in ids if i not in known]
        if unknown:  # checked before any is revoked
            raise LookupError(f"no token with id {', '.join(unknown)}; none revoked")
        now = datetime.now(timezone.utc)
        return [(i, await revoke_token(container.engines.write, i, now)) for i in ids]

    for token_id, was_active in _with_container(database_url, work):
        typer.echo(f"revoked {token_id}" if was_active else f"{token_id} was already revoked", err=True)


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


KeyOption = typer.Option(None, "--key", envvar="SLOGOV_CHECKPOINT_KEY",
                         help="The checkpoint signing key file; default ./slogov-checkpoint.key")


def _fail(message: str) -> "typer.Exit":
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _read_checkpoints(path: str) -> list:
    from eventstore.log_checkpoints import parse

    try:
        with open(path, encoding="utf-8") as f:
            lines = [(n, line) for n, line in enumerate(f, 1) if line.strip()]
    except OSError as exc:
        raise _fail(f"--checkpoint: {exc}")
    checkpoints = []
    for n, line in lines:
        try:
            checkpoints.append(parse(line))
        except ValueError as exc:
            raise _fail(f"{path} line {n}: not a checkpoint: {exc}")
    return checkpoints


def _trusted_key(public_key: Optional[str], key: Optional[str]) -> str:
    """The public key checkpoints must be signed with: as given, else the key file's."""
    from eventstore.signing_key import KeyFileError, load_key, public_hex

    if public_key is not None:
        if not re.fullmatch(r"[0-9a-f]{64}", public_key):
            raise _fail("--public-key: 64 lowercase hex digits (as `slogov audit public-key` prints)")
        return public_key
    try:
        return public_hex(load_key(_settings(None, checkpoint_key=key).checkpoint_key))
    except KeyFileError as exc:
        raise _fail(f"{exc}; or pass the published key with --public-key")


@audit_app.command("verify")
def audit_verify(
    checkpoint: Optional[str] = typer.Option(
        None, "--checkpoint", help="A JSON Lines file of signed checkpoints the log must still extend."),
    public_key: Optional[str] = typer.Option(
        None, "--public-key", help="The published key (hex) the checkpoints must be signed with; "
        "default: the key file's."),
    key: Optional[str] = KeyOption,
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Recompute the hash chain; exit 1 if any event was altered, removed or reordered, or
    (with --checkpoint) the log no longer extends a checkpoint or one is forged."""
    from eventstore.log_checkpoints import verify_against
    from eventstore.verify import verify_chain

    checkpoints = _read_checkpoints(checkpoint) if checkpoint is not None else None
    trusted = _trusted_key(public_key, key) if checkpoint is not None else None

    async def work(container):
        if checkpoints is None:
            return await verify_chain(container.engines), None
        return await verify_against(container.engines, checkpoints, trusted)

    report, findings = _with_container(database_url, work)
    problems = [f for f in findings or () if f.problem]
    out = {
        "ok": report.ok and not problems,
        "events_checked": report.events_checked,
        "head_position": report.head_position,
        "head_hash": report.head_hash,
        "first_broken_position": report.first_broken_position,
        "problem": report.problem,
    }
    if findings is not None:
        out["checkpoints"] = {
            "checked": len(findings),
            "hold": len(findings) - len(problems),
            "problems": [{"position": f.position, "at": f.at, "problem": f.problem} for f in problems],
        }
    typer.echo(json.dumps(out))
    if not out["ok"]:
        raise typer.Exit(1)


@audit_app.command("keygen")
def audit_keygen(key: Optional[str] = KeyOption) -> None:
    """Create the checkpoint signing key (mode 0600; never replaces one) and print its public key."""
    from eventstore.signing_key import KeyFileError, create_key, public_hex

    path = _settings(None, checkpoint_key=key).checkpoint_key
    try:
        created = create_key(path)
    except (KeyFileError, OSError) as exc:
        raise _fail(str(exc))
    typer.echo(public_hex(created))
    typer.echo(f"created {path} (mode 0600); give auditors the public key above", err=True)


@audit_app.command("public-key")
def audit_public_key(
    pem: bool = typer.Option(False, "--pem", help="PEM (for openssl) instead of hex."),
    key: Optional[str] = KeyOption,
) -> None:
    """Print the public key checkpoints are signed with (hex, or PEM)."""
    from eventstore.signing_key import public_pem

    hex_key = _trusted_key(None, key)
    typer.echo(public_pem(hex_key) if pem else hex_key, nl=not pem)


@audit_app.command("checkpoint")
def audit_checkpoint(
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Append the checkpoint's line to this file."),
    key: Optional[str] = KeyOption,
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Check the chain since the last checkpoint, sign the head and print the checkpoint line
    (the key file is created on first use). Exit 1 if the log no longer extends the last one."""
    from eventstore.log_checkpoints import NotSigned
    from eventstore.signing_key import KeyFileError
    from service.checkpoints import checkpoint_now

    try:
        signed = _with_container(database_url, checkpoint_now, checkpoint_key=key)
    except KeyFileError as exc:
        raise _fail(str(exc))
    except NotSigned as exc:
        typer.echo(f"error: not signed: {exc}", err=True)
        raise typer.Exit(1)
    if signed is None:
        raise _fail("the log is empty: nothing to sign")
    if output:
        with open(output, "a", encoding="utf-8", newline="\n") as f:
            f.write(signed.line + "\n")
    typer.echo(signed.line)


@audit_app.command("checkpoints")
def audit_checkpoints(
    after: int = typer.Option(0, "--after", help="Only checkpoints after this position (the last one you keep)."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Append them to this file."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Print the published checkpoints as JSON Lines, oldest first (check them with
    `audit verify --checkpoint` before keeping them)."""
    from eventstore.log_checkpoints import published

    async def work(container):
        return await published(container.engines, after)

    lines = [c.line + "\n" for c in _with_container(database_url, work)]
    if output:
        with open(output, "a", encoding="utf-8", newline="\n") as f:
            f.writelines(lines)
    else:
        typer.echo("".join(lines), nl=False)


def _log_point(value: Optional[str], name: str) -> "int | datetime | None":
    """A log position (a whole number) or an ISO 8601 time with a zone."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is neither a log position nor an ISO 8601 time", param_hint=name)
    if at.tzinfo is None:
        raise typer.BadParameter("a time needs a zone, e.g. 2026-11-24T00:00:00+00:00", param_hint=name)
    return at


@audit_app.command("export")
def audit_export(
    since: Optional[str] = typer.Option(None, "--since", help="First position, or a time: events recorded at or after it."),
    until: Optional[str] = typer.Option(None, "--until", help="Last position, or a time: events recorded at or before it."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="A file to write; default stdout."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Stream the log as JSON Lines with its chain hashes; verify with docs/verify_export.py."""
    from eventstore.export import export_lines, position_at

    start, end = _log_point(since, "--since"), _log_point(until, "--until")

    async def work(container):
        first = 1 if start is None else start if isinstance(start, int) else await position_at(
            container.engines, start, before=False)
        last = end if end is None or isinstance(end, int) else await position_at(container.engines, end, before=True)
        out = open(output, "w", encoding="utf-8", newline="\n") if output else sys.stdout
        count = 0
        try:
            async for line in export_lines(container.engines, first, last):
                out.write(line + "\n")
                count += 1
        finally:
            if output:
                out.close()
            else:
                out.flush()
        return count

    count = _with_container(database_url, work)
    typer.echo(f"exported {count} events", err=True)


# --------------------------------------------------------------------------- the deploy gate

GATE_ALLOW, GATE_DENY, GATE_NO_ANSWER, GATE_APPROVAL = 0, 1, 2, 3
GATE_EXIT_CODES = {"ALLOW": GATE_ALLOW, "DENY": GATE_DENY, "REQUIRE_APPROVAL": GATE_APPROVAL}
GATE_TIMEOUT_SECONDS = 10.0
_DECISION_FIELDS = """id service changeType version outcome reasons ruleIds objectives freezes exceptions
  policyVersions evaluatedAtPosition at replayed position actor approverRoles mayDeploy
  approval { by role at reason }"""
APPROVE_MUTATION = f"""mutation($input: ApproveDeployInput!) {{ approveDeploy(input: $input) {{
  decision {{ {_DECISION_FIELDS} }} }} }}"""
_RUN_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

gate_app = typer.Typer(invoke_without_command=True)  # help: the callback's docstring
app.add_typer(gate_app, name="gate")
UrlOption = typer.Option("http://127.0.0.1:8000", "--url", envvar="SLOGOV_URL", help="The slogov server.")


def default_pipeline_run(service: str, change_type: str, environ: Optional[dict] = None) -> str:
    """A pipeline run id from the CI's environment, else a fresh uuid.

    The CI's id is suffixed with the service and change type, so that one pipeline deploying
    several services gets one decision per service (the same id twice gets the first answer).
    """
    env = os.environ if environ is None else environ
    for name in ("CI_PIPELINE_ID", "GITHUB_RUN_ID", "BUILD_ID", "BUILDKITE_BUILD_ID", "CIRCLE_WORKFLOW_ID"):
        value = env.get(name)
        if value:
            attempt = env.get("GITHUB_RUN_ATTEMPT") if name == "GITHUB_RUN_ID" else None
            parts = [value, attempt, service, change_type]
            run = ".".join(_RUN_ID_UNSAFE.sub("-", p) for p in parts if p)
            return run[:100]
    return f"run-{uuid.uuid4().hex}"


def _change_type(value: str) -> str:
    return value.strip().upper().replace("-", "_")


def _gate_failed(message: str, prefix: str = "slogov gate") -> "typer.Exit":
    typer.echo(f"{prefix}: no answer: {message}", err=True)
    return typer.Exit(GATE_NO_ANSWER)


def _post(url: str, token: Optional[str], path: str, body: dict, answer: Callable[[dict], Any],
          prefix: str = "slogov gate") -> dict:
    """POST `body` to `path`; `answer(response body)`, or exit 2 saying why there is no answer.

    Both routes report a refusal in GraphQL's error shape (`errors[0].extensions.code`).
    """
    import httpx

    if not token:
        raise _gate_failed("no token: pass --token or set SLOGOV_TOKEN", prefix)
    endpoint = url.rstrip("/") + path
    try:
        response = httpx.post(endpoint, json=body, headers={"Authorization": f"Bearer {token}"},
                              timeout=GATE_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise _gate_failed(f"could not reach {endpoint}: {exc.__class__.__name__}: {exc}", prefix)
    try:
        payload = response.json()
    except ValueError:
        raise _gate_failed(f"HTTP {response.status_code} from {endpoint}, not a slogov response", prefix)
    errors = payload.get("errors") if isinstance(payload, dict) else None
    data = answer(payload) if isinstance(payload, dict) else None
    if errors or not data:
        first = (errors or [{}])[0]
        code = (first.get("extensions") or {}).get("code", f"HTTP {response.status_code}")
        raise _gate_failed(f"{code}: {first.get('message', 'no answer in the response')}", prefix)
    return data


def _graphql(url: str, token: Optional[str], query: str, variables: dict, field: str,
             prefix: str = "slogov gate") -> dict:
    """One GraphQL operation; its `field`."""
    return _post(url, token, "/graphql", {"query": query, "variables": variables},
                 lambda payload: (payload.get("data") or {}).get(field), prefix)


def _approved(d: dict) -> bool:
    return d["outcome"] == "REQUIRE_APPROVAL" and bool(d.get("approval"))


def _describe(d: dict) -> str:
    lines = [
        f"{d['outcome']}: {d['changeType'].lower()} {d['version']} of {d['service']} (pipeline run {d['id']})",
        *[f"  - {reason}" for reason in d["reasons"]],
    ]
    for label, key in (("rules", "ruleIds"), ("objectives", "objectives"), ("freezes", "freezes"),
                       ("exceptions", "exceptions"), ("policies", "policyVersions")):
        if d.get(key):
            lines.append(f"  {label}: {', '.join(d[key])}")
    lines.append(f"  evaluated at log position {d['evaluatedAtPosition']}, {d['at']}"
                 + (" (replayed: the first answer for this pipeline run)" if d.get("replayed") else ""))
    if _approved(d):
        a = d["approval"]
        lines.append(f"APPROVED by {a['by']} ({a['role']}) at {a['at']}: {a['reason']}; the deploy may go ahead")
    elif d["outcome"] == "REQUIRE_APPROVAL" and d.get("approverRoles"):
        lines.append(f"  approve with: slogov gate approve --pipeline-run {d['id']} --reason ... "
                     f"(a {' or '.join(d['approverRoles'])} token)")
    return "\n".join(lines)


@gate_app.callback()
def gate(
    ctx: typer.Context,
    service: Optional[str] = typer.Option(None, "--service", help="The service being deployed (as mapped on journeys)."),
    change_type: Optional[str] = typer.Option(
        None, "--change-type", help="feature, config, reliability_fix, security_fix or rollback."),
    version: Optional[str] = typer.Option(
        None, "--version", help="The change's version label; default: $GIT_SHA, $CI_COMMIT_SHA, $GITHUB_SHA."),
    pipeline_run: Optional[str] = typer.Option(
        None, "--pipeline-run",
        help="Idempotency: the same id gets the first answer. Default: $CI_PIPELINE_ID or $GITHUB_RUN_ID "
        "(suffixed with the service and change type), else a fresh uuid."),
    url: str = UrlOption,
    token: Optional[str] = typer.Option(None, "--token", envvar="SLOGOV_TOKEN", help="A ci (or sre) token."),
    as_json: bool = typer.Option(False, "--json", help="Print the decision as JSON."),
) -> None:
    """Ask the deploy gate whether a deploy may go ahead, and record the answer.

    Exit status: 0 ALLOW (or REQUIRE_APPROVAL approved since, for the same pipeline run),
    1 DENY, 3 REQUIRE_APPROVAL, 2 no answer (server unreachable, bad token, refused request).
    """
    if ctx.invoked_subcommand is not None:
        return
    if not service or not change_type:
        raise _gate_failed("--service and --change-type are required")
    version = version or next(
        (os.environ[n] for n in ("GIT_SHA", "CI_COMMIT_SHA", "GITHUB_SHA") if os.environ.get(n)), "unversioned")
    kind = _change_type(change_type)
    run = pipeline_run or default_pipeline_run(service, kind.lower())
    # The gate's lean JSON route: the same decision and error codes as GraphQL's
    # evaluateDeploy, at a fraction of the server's work per deploy (api/gate_http.py).
    decision = _post(url, token, "/gate/evaluate",
                     {"service": service, "changeType": kind, "version": version, "pipelineRunId": run},
                     lambda payload: payload.get("evaluateDeploy"))
    if decision["service"] != service:
        typer.echo(f"slogov gate: warning: pipeline run {run} was judged before for {decision['service']}; "
                   "this is that answer", err=True)
    typer.echo(json.dumps(decision, indent=2) if as_json else _describe(decision))
    code = GATE_EXIT_CODES.get(decision["outcome"])
    if code is None:
        raise _gate_failed(f"unknown outcome {decision['outcome']!r}")
    raise typer.Exit(GATE_ALLOW if _approved(decision) else code)


@gate_app.command("approve")
def gate_approve(
    pipeline_run: str = typer.Option(..., "--pipeline-run", help="The run whose REQUIRE_APPROVAL answer to approve."),
    reason: str = typer.Option(..., "--reason", help="Why the deploy may go ahead (recorded)."),
    url: str = UrlOption,
    token: Optional[str] = typer.Option(None, "--token", envvar="SLOGOV_TOKEN",
                                        help="A token holding a role the decision's rules name."),
    as_json: bool = typer.Option(False, "--json", help="Print the approved decision as JSON."),
) -> None:
    """Approve a REQUIRE_APPROVAL decision; `slogov gate` for the same run then exits 0.

    Exit status: 0 approved, 2 refused or no answer (the reason and its code on stderr).
    """
    payload = _graphql(url, token, APPROVE_MUTATION, {"input": {"pipelineRunId": pipeline_run, "reason": reason}},
                       "approveDeploy", prefix="slogov gate approve")
    decision = payload["decision"]
    typer.echo(json.dumps(decision, indent=2) if as_json else _describe(decision))


# --------------------------------------------------------------------------- reports


@app.command()
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

    text = render(_with_container(database_url, work), format)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        typer.echo(f"wrote the {quarter} report ({format}) to {output}", err=True)
    else:
        typer.echo(text, nl=False)


def main() -> None:  # pragma: no cover
    app(prog_name="slogov")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
