"""The GraphiQL page, served with its scripts and styles from this server.

strawberry's own page loads React and GraphiQL from a CDN, so on a machine without
internet it never leaves "Loading...". Here the page (`graphiql.html`, ours: which
URL to talk to, the headers pane, subscriptions) loads GraphiQL, React, graphql-ws
and the explorer plugin as the `graphene-django-graphiql-static` package ships them
(only its static files are used; nothing of Django is imported), under
``/graphiql/``, which, like the page, needs no token.
"""

from __future__ import annotations

from importlib.resources import files

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

ASSETS_PREFIX = "/graphiql/"
_ASSETS_PACKAGE = ("graphene_django_graphiql_static", "static/graphene_django_graphiql_static")


def page() -> str:
    return files("api").joinpath("graphiql.html").read_text(encoding="utf-8")


def assets_mount() -> Mount:
    return Mount(ASSETS_PREFIX.rstrip("/"), app=StaticFiles(packages=[_ASSETS_PACKAGE]), name="graphiql-assets")


def page_response() -> HTMLResponse:
    return HTMLResponse(page())
