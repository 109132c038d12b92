"""`slogov exclusions`: add a weekly maintenance window, list it with its next occurrences,
end it; refusals are one line and exit 2 (the commands themselves run on both databases)."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from domain.budget.decider import RecordObservations
from service.bootstrap import build
from service.config import Settings
from tests.budgets.support import do, journey, minutes, objective

runner = CliRunner()


def _objective(url: str) -> None:
    async def build_it():
        container = build(Settings(database_url=url), auto_migrate=False)
        await container.startup()
        try:
            await journey(container)
            await objective(container, "o1", days=1)
            await do(container, "sre", RecordObservations("o1", minutes(0, 60, 1000, 1000)))  # 2025-01-01 00:00 UTC on
        finally:
            await container.shutdown()
    asyncio.run(build_it())


def run(*args: str, url: str):
    return runner.invoke(app, ["exclusions", *args, "--database-url", url])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_add_list_and_end_a_weekly_window(database_url):
    _objective(database_url)
    window = ["--rrule", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0", "--start", "2025-01-05T02:00",
              "--zone", "Europe/Berlin", "--duration", "2h", "--reason", "weekly maintenance", "--actor", "sam"]
    added = run("add", "o1", "sunday-maint", *window, url=database_url)
    assert added.exit_code == 0, added.output
    assert "RecurringExclusionAdded  budget-o1" in added.stdout
    again = run("add", "o1", "sunday-maint", *window, url=database_url)
    assert again.exit_code == 0 and "nothing appended" in again.stdout

    listed = json.loads(run("list", "o1", "--json", "--next", "2", url=database_url).stdout)
    assert listed == [{"id": "sunday-maint", "rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0",
                       "start": "2025-01-05T02:00:00", "zone": "Europe/Berlin", "duration": "2h",
                       "reason": "weekly maintenance", "ended_from": None,
                       "next": [["2025-01-05T01:00:00+00:00", "2025-01-05T03:00:00+00:00"],
                                ["2025-01-12T01:00:00+00:00", "2025-01-12T03:00:00+00:00"]]}]
    table = run("list", "o1", url=database_url).stdout.splitlines()
    assert table[0].split()[:2] == ["ID", "RRULE"] and table[1].startswith("sunday-maint")

    refused = run("add", "o1", "x", *window[:-2], "--actor", "sam", "--duration", "2 hours", url=database_url)
    assert refused.exit_code == 2 and "duration" in refused.stderr
    forbidden = run("add", "o1", "y", *window, "--role", "engineering", url=database_url)
    assert forbidden.exit_code == 2
    no_zone = run("end", "o1", "sunday-maint", "--from", "2025-01-12T00:00", "--reason", "x", "--actor", "sam",
                  url=database_url)
    assert no_zone.exit_code == 2 and "zone" in no_zone.output

    ended = run("end", "o1", "sunday-maint", "--from", "2025-01-12T00:00:00+00:00", "--reason", "moved to Saturdays",
                "--actor", "sam", url=database_url)
    assert ended.exit_code == 0 and "RecurringExclusionEnded" in ended.stdout
    listed = json.loads(run("list", "o1", "--json", url=database_url).stdout)
    assert listed[0]["ended_from"] == "2025-01-12T00:00:00+00:00"
    assert listed[0]["next"] == [["2025-01-05T01:00:00+00:00", "2025-01-05T03:00:00+00:00"]]
