"""`slogov specs import | check | export` as a person or a pipeline uses them."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from api.cli import app
from service.bootstrap import build
from service.config import Settings
from tests.specs.support import FIXTURES

runner = CliRunner()


def _events(url: str) -> list:
    async def read() -> list:
        container = build(Settings(database_url=url), auto_migrate=False)
        await container.startup()
        try:
            return await container.store.read_all(0, 10_000)
        finally:
            await container.shutdown()
    return asyncio.run(read())


def run(*args: str, url: str):
    return runner.invoke(app, ["specs", *args, "--database-url", url])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the import itself is tested on both
def test_import_dry_run_then_apply_then_export_and_check(database_url, tmp_path):
    sloth = str(FIXTURES / "sloth")
    dry = run("import", sloth, "--actor", "ada", url=database_url)
    assert dry.exit_code == 0, dry.output
    assert "CREATE    journey myservice" in dry.stdout and "would append (dry run" in dry.stdout
    applied = run("import", sloth, "--actor", "ada", "--apply", "--reason", "adopting Sloth", url=database_url)
    assert applied.exit_code == 0 and "events appended" in applied.stdout
    assert {(e.metadata["actor"], e.metadata["reason"]) for e in _events(database_url)} == {("ada", "adopting Sloth")}
    again = run("import", sloth, "--actor", "ada", "--apply", url=database_url)
    assert again.stdout.endswith("nothing to append\n")

    out = tmp_path / "export.yaml"
    exported = run("export", "--include-drafts", "-o", str(out), url=database_url)
    assert exported.exit_code == 0 and "name: home-wifi-good-wifi-client-satisfaction" in out.read_text()
    assert run("export", "--as-of", "0", "--include-drafts", url=database_url).stdout == ""

    too_long = tmp_path / "too-long.yaml"
    too_long.write_text((FIXTURES / "openslo" / "v2alpha.yaml").read_text().replace("duration: 4w", "duration: 400d"))
    refused = run("import", str(too_long), "--actor", "ada", url=database_url)
    assert refused.exit_code == 2 and "a rolling window of 400d is not carried" in refused.stderr
    checked = run("check", sloth, url=database_url)
    assert checked.exit_code == 1 and checked.stdout.startswith("UNKNOWN_SOURCE: SLI home-wifi")
