"""The `slogov` command line, one module per area: server (serve, migrate, demo), tokens,
projections, audit, gate (the deploy gate's client for CI pipelines), report (the
leadership report), whatif (a candidate judged over the recorded history), specs
(OpenSLO and Sloth in, OpenSLO out), collection (baseline and collect: SLIs read
from their data sources), monitoring (the Prometheus rules generated from the agreed
objectives), sources (data sources and SLI definitions) and exclusions (recurring budget
exclusions).

Each command but `gate` builds the container from the environment (SLOGOV_DATABASE_URL,
default an SQLite file in the current directory) or from --database-url. `gate` talks
to a running server over HTTP (SLOGOV_URL, SLOGOV_TOKEN). A new area is a module with
a `register(app)` function, added to AREAS below.
"""

from __future__ import annotations

import typer

from api.cli_errors import OneLineErrors

from . import audit, collection, exclusions, gate, monitoring, projections, report, server, sources, specs, tokens, whatif
from .gate import default_pipeline_run

# Every error a command meets is one line on stderr and exit 2 (api/cli_errors.py).
app = typer.Typer(help="slogov: SLO governance from an append-only event log.", no_args_is_help=True,
                  cls=OneLineErrors)

AREAS = (server, tokens, projections, audit, gate, report, whatif, specs, collection, monitoring, sources, exclusions)
for area in AREAS:
    area.register(app)

__all__ = ["app", "default_pipeline_run", "main"]


def main() -> None:  # pragma: no cover
    app(prog_name="slogov")
