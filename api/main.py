"""The application factory used by ``slogov serve`` (and by uvicorn directly).

``create_app_for(settings, demo=False)`` builds the container (with group-commit
batch sizes going to the metrics), the GraphQL schema and the Starlette app, whose
lifespan also runs the schedule that signs log checkpoints. With
``demo=True`` the container's startup, which the app's lifespan runs, also loads the
demo data (only into an empty log, after migrating) and issues one token per role,
printed to stderr.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import TextIO

from starlette.applications import Starlette

from api.auth import ROLES, create_token
from api.http import create_app
from api.metrics import observe_group_commit_batch
from api.schema import build_schema
from service.bootstrap import Container, build
from service.checkpoints import CheckpointSchedule
from service.config import Settings
from service.offload import Offload
from service.demo import load_demo

DEMO_ACTORS: dict[str, str] = {role: f"demo-{role}" for role in ROLES}


DEFAULT_URL = "http://127.0.0.1:8000"


async def prepare_demo(container: Container, out: TextIO | None = None, url: str = DEFAULT_URL) -> dict[str, str]:
    """Load the demo (if the log is empty) and issue one token per role; returns role -> token."""
    out = out if out is not None else sys.stderr
    loaded = await load_demo(container)
    now = datetime.now(timezone.utc)
    tokens: dict[str, str] = {}
    for role, actor in DEMO_ACTORS.items():
        _, token = await create_token(container.engines.write, actor, [role], now)
        tokens[role] = token
    out.write(demo_banner(tokens, loaded, url))
    out.flush()
    return tokens


def demo_banner(tokens: dict[str, str], loaded: bool, url: str = DEFAULT_URL) -> str:
    """The tokens, and a request to try against `url` (where the server listens)."""
    width = max(len(role) for role in tokens)
    lines = [
        "",
        "=" * 78,
        "slogov demo " + ("data loaded" if loaded else "(the log was not empty: demo data not reloaded)"),
        "Tokens (one per role; new ones on every start):",
    ]
    lines += [f"  {role.ljust(width)}  {DEMO_ACTORS[role]:<18} {token}" for role, token in tokens.items()]
    example = tokens.get("sre") or next(iter(tokens.values()))
    lines += [
        "",
        f"GraphiQL: {url}/graphql in a browser. Try:",
        f"  curl -s {url}/graphql \\",
        f"    -H 'Authorization: Bearer {example}' \\",
        "    -H 'Content-Type: application/json' \\",
        "    -d '{\"query\": \"{ journeys { edges { node { id name status objectives { edges "
        "{ node { id status agreedTarget informational } } } } } } }\"}'",
        "=" * 78,
        "",
    ]
    return "\n".join(lines)


def create_app_for(settings: Settings | None = None, demo: bool = False, url: str = DEFAULT_URL) -> Starlette:
    settings = settings or Settings.from_env()
    container = build(settings, on_batch=observe_group_commit_batch)
    # The server (not the CLI, which builds containers too) signs checkpoints on a schedule.
    checkpoints = CheckpointSchedule(container, settings.checkpoint_interval)
    # ...and runs the heaviest reads (report, replay) in a worker process, off its event loop.
    container.offload = Offload(settings)
    startup, shutdown = container.startup, container.shutdown

    async def serving_startup() -> None:
        await startup()  # migrate first
        if demo:
            await prepare_demo(container, url=url)
        checkpoints.start()

    async def serving_shutdown() -> None:
        await checkpoints.stop()
        await shutdown()

    container.startup = serving_startup  # type: ignore[method-assign]
    container.shutdown = serving_shutdown  # type: ignore[method-assign]
    app = create_app(build_schema(settings), container)
    app.state.demo = demo
    return app


__all__ = ["DEMO_ACTORS", "create_app_for", "demo_banner", "prepare_demo"]
