"""A separate writer process for the multi-process test: N clients proposing journeys.

Run as: python -m tests.service.writer_process DATABASE_URL PREFIX CLIENTS PER_CLIENT
"""

from __future__ import annotations

import asyncio
import sys

from service.bootstrap import build
from service.config import Settings
from tests.service.support import as_role, propose


async def main(url: str, prefix: str, clients: int, per_client: int) -> None:
    container = build(Settings(database_url=url), auto_migrate=False)

    async def client(c: int) -> None:
        for i in range(per_client):
            await container.bus.execute(as_role(propose(f"{prefix}-{c}-{i}")))

    try:
        await asyncio.gather(*(client(c) for c in range(clients)))
    finally:
        await container.shutdown()


if __name__ == "__main__":
    url, prefix, clients, per_client = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    asyncio.run(main(url, prefix, clients, per_client))
