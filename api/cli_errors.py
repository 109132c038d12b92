"""One line and exit status 2 for every error a `slogov` command meets.

Scripts read the exit status (`audit verify` exits 1 when the log was altered, `gate` 1
on DENY), so a failure to answer at all -- an unknown token id, an unreachable database,
an unwritable output file -- must not exit 1 with a traceback: it prints one line on
stderr and exits 2. Usage errors stay click's (they exit 2 too). SLOGOV_DEBUG=1 lets the
exception through, traceback and all.
"""

from __future__ import annotations

import os
from typing import Any

import typer
import typer.core

from domain.errors import DomainError

ERROR_EXIT = 2


def describe(exc: BaseException) -> str:
    """What went wrong, on one line."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException) or type(exc).__module__.startswith("asyncpg"):
        # SQLAlchemy wraps the driver's error; the database's own message says it best.
        text = f"database: {orig if isinstance(orig, BaseException) else exc}"
    elif isinstance(exc, DomainError):
        text = exc.message
    elif isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    elif isinstance(exc, (LookupError, ValueError, OSError)) and str(exc):
        text = str(exc)
    else:  # not one of ours: name it
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return " ".join(text.split())


class OneLineErrors(typer.core.TyperGroup):
    """The top-level group: every command and sub-command runs inside its `invoke`."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:  # noqa: BLE001 - the point: no traceback reaches the user
            # Exits, aborts and usage errors (click's exceptions show themselves) pass on.
            if isinstance(exc, (typer.Exit, typer.Abort)) or callable(getattr(exc, "show", None)):
                raise
            if os.environ.get("SLOGOV_DEBUG"):
                raise
            typer.echo(f"error: {describe(exc)}", err=True)
            raise typer.Exit(ERROR_EXIT) from None
