"""`slogov sources` as a person uses it (the accepted `sli` against a live Prometheus is in
tests/prometheus/test_sli_check.py)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.prometheus.harness import free_port

runner = CliRunner()


def run(*args: str, url: str):
    return runner.invoke(app, ["sources", *args, "--actor", "sam", "--database-url", url])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the commands themselves run on both
def test_define_list_change_and_a_refused_sli(database_url):
    down = f"http://127.0.0.1:{free_port()}"
    defined = run("define", "prom", "--url", down, "--header", "Authorization=PROM_AUTH", url=database_url)
    assert defined.exit_code == 0 and "DataSourceDefined  source-prom" in defined.stdout
    bad = run("define", "p2", "--url", "http://h", "--header", "Authorization", url=database_url)
    assert bad.exit_code == 2 and "HEADER=ENV_VAR" in bad.output
    listed = runner.invoke(app, ["sources", "list", "--json", "--database-url", database_url])
    assert json.loads(listed.stdout) == [{"name": "prom", "kind": "prometheus", "url": down, "retired": False,
                                          "headers_from_env": {"Authorization": "PROM_AUTH"}, "version": 1}]
    # An SLI on an unknown objective's source, a bad expression, an unreachable source: exit 2, one line.
    ratio = ["--source", "prom", "--good", 'http_requests_total{code!~"5.."}', "--total", "http_requests_total"]
    refused = run("sli", "o1", "--source", "prom", "--good", "x", "--total", "sum(x)", url=database_url)
    assert refused.exit_code == 2 and "definition.total" in refused.stderr
    refused = run("sli", "o1", *ratio, url=database_url)  # this server lacks the header's variable
    assert refused.exit_code == 2 and "(misconfigured)" in refused.stderr and "PROM_AUTH" in refused.stderr
    other = f"http://127.0.0.1:{free_port()}"
    changed = run("change", "prom", "--url", other, url=database_url)
    assert changed.exit_code == 0 and "DataSourceChanged" in changed.stdout
    table = runner.invoke(app, ["sources", "list", "--database-url", database_url]).stdout
    assert table.splitlines()[1].split()[:4] == ["prom", "prometheus", other, "-"]
    refused = run("sli", "o1", *ratio, url=database_url)
    assert refused.exit_code == 2 and "could not check the SLI definition (unreachable)" in refused.stderr
