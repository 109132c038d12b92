"""Print the schema's SDL: ``python -m api.schema.export > schema.graphql``."""

from __future__ import annotations

import sys

from strawberry.printer import print_schema

from api.schema.schema import build_schema


def sdl() -> str:
    return print_schema(build_schema()) + "\n"


if __name__ == "__main__":
    sys.stdout.write(sdl())
