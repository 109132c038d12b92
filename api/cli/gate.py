"""`slogov gate`: the deploy gate's client for CI pipelines. It talks to a running
server over HTTP (SLOGOV_URL, SLOGOV_TOKEN), never to the database."""

from __future__ import annotations

import json
import os
import re
import uuid
from typing import Any, Callable, Optional

import typer

GATE_ALLOW, GATE_DENY, GATE_NO_ANSWER, GATE_APPROVAL = 0, 1, 2, 3
GATE_EXIT_CODES = {"ALLOW": GATE_ALLOW, "DENY": GATE_DENY, "REQUIRE_APPROVAL": GATE_APPROVAL}
GATE_TIMEOUT_SECONDS = 10.0
_DECISION_FIELDS = """id service changeType version outcome reasons ruleIds objectives freezes exceptions
  policyVersions evaluatedAtPosition at replayed position actor approverRoles mayDeploy
  approval { by role at reason }"""
APPROVE_MUTATION = f"""mutation($input: ApproveDeployInput!) {{ approveDeploy(input: $input) {{
  decision {{ {_DECISION_FIELDS} }} }} }}"""
_RUN_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

app = typer.Typer(invoke_without_command=True)  # help: the callback's docstring


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="gate")


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


@app.callback()
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


@app.command("approve")
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
