"""The HTTP/GraphQL shell of slogov: Starlette app, auth, error shape, limits, metrics, CLI."""
