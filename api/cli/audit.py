"""`slogov audit`: proof the log was not altered (chain verification, signed
checkpoints, the key they are signed with, exports)."""

from __future__ import annotations

import json
import re
import sys
from typing import Optional

import typer

from .common import DatabaseOption, fail, log_point, settings, with_container
from .files import atomic_output

app = typer.Typer(help="Proof the log was not altered.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="audit")


KeyOption = typer.Option(None, "--key", envvar="SLOGOV_CHECKPOINT_KEY",
                         help="The checkpoint signing key file; default ./slogov-checkpoint.key")


def _read_checkpoints(path: str) -> list:
    from eventstore.log_checkpoints import parse

    try:
        with open(path, encoding="utf-8") as f:
            lines = [(n, line) for n, line in enumerate(f, 1) if line.strip()]
    except OSError as exc:
        raise fail(f"--checkpoint: {exc}")
    checkpoints = []
    for n, line in lines:
        try:
            checkpoints.append(parse(line))
        except ValueError as exc:
            raise fail(f"{path} line {n}: not a checkpoint: {exc}")
    return checkpoints


def _trusted_key(public_key: Optional[str], key: Optional[str]) -> str:
    """The public key checkpoints must be signed with: as given, else the key file's."""
    from eventstore.signing_key import KeyFileError, load_key, public_hex

    if public_key is not None:
        if not re.fullmatch(r"[0-9a-f]{64}", public_key):
            raise fail("--public-key: 64 lowercase hex digits (as `slogov audit public-key` prints)")
        return public_key
    try:
        return public_hex(load_key(settings(None, checkpoint_key=key).checkpoint_key))
    except KeyFileError as exc:
        raise fail(f"{exc}; or pass the published key with --public-key")


@app.command("verify")
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

    report, findings = with_container(database_url, work)
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


@app.command("keygen")
def audit_keygen(key: Optional[str] = KeyOption) -> None:
    """Create the checkpoint signing key (mode 0600; never replaces one) and print its public key."""
    from eventstore.signing_key import KeyFileError, create_key, public_hex

    path = settings(None, checkpoint_key=key).checkpoint_key
    try:
        created = create_key(path)
    except (KeyFileError, OSError) as exc:
        raise fail(str(exc))
    typer.echo(public_hex(created))
    typer.echo(f"created {path} (mode 0600); give auditors the public key above", err=True)


@app.command("public-key")
def audit_public_key(
    pem: bool = typer.Option(False, "--pem", help="PEM (for openssl) instead of hex."),
    key: Optional[str] = KeyOption,
) -> None:
    """Print the public key checkpoints are signed with (hex, or PEM)."""
    from eventstore.signing_key import public_pem

    hex_key = _trusted_key(None, key)
    typer.echo(public_pem(hex_key) if pem else hex_key, nl=not pem)


@app.command("checkpoint")
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
        signed = with_container(database_url, checkpoint_now, checkpoint_key=key)
    except KeyFileError as exc:
        raise fail(str(exc))
    except NotSigned as exc:
        typer.echo(f"error: not signed: {exc}", err=True)
        raise typer.Exit(1)
    if signed is None:
        raise fail("the log is empty: nothing to sign")
    if output:
        with open(output, "a", encoding="utf-8", newline="\n") as f:
            f.write(signed.line + "\n")
    typer.echo(signed.line)


@app.command("checkpoints")
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

    lines = [c.line + "\n" for c in with_container(database_url, work)]
    if output:
        with open(output, "a", encoding="utf-8", newline="\n") as f:
            f.writelines(lines)
    else:
        typer.echo("".join(lines), nl=False)


@app.command("export")
def audit_export(
    since: Optional[str] = typer.Option(None, "--since", help="First position, or a time: events recorded at or after it."),
    until: Optional[str] = typer.Option(None, "--until", help="Last position, or a time: events recorded at or before it."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="A file to write; default stdout."),
    database_url: Optional[str] = DatabaseOption,
) -> None:
    """Stream the log as JSON Lines with its chain hashes; verify with docs/verify_export.py."""
    from eventstore.export import export_lines, position_at

    start, end = log_point(since, "--since"), log_point(until, "--until")

    async def work(container):
        first = 1 if start is None else start if isinstance(start, int) else await position_at(
            container.engines, start, before=False)
        last = end if end is None or isinstance(end, int) else await position_at(container.engines, end, before=True)

        async def write(out) -> int:
            count = 0
            async for line in export_lines(container.engines, first, last):
                out.write(line + "\n")
                count += 1
            return count

        if output is None:
            try:
                return await write(sys.stdout)
            finally:
                sys.stdout.flush()
        with atomic_output(output, newline="\n") as out:  # an export that fails midway leaves no half file
            return await write(out)

    count = with_container(database_url, work)
    typer.echo(f"exported {count} events", err=True)
