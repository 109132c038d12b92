"""`slogov whatif target --budgeting`: every budgeting method with all its parameters, in
the form GraphQL's BudgetingInput gives the what-if; anything else refused in one line."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

import service.whatif
from api.cli import app
from api.schema.enums import BudgetingMethod
from api.schema.inputs import BudgetingInput
from tests.budgets.support import T0
from tests.cli.test_whatif_cli import _history

runner = CliRunner()
SPAN = ["--from", T0.isoformat(), "--to", (T0 + timedelta(hours=4)).isoformat()]


@pytest.mark.parametrize("text, graphql", [
    ("occurrences", BudgetingInput(method=BudgetingMethod.OCCURRENCES)),
    ("timeslices:5:0.95", BudgetingInput(method=BudgetingMethod.TIMESLICES, slice_minutes=5, slice_threshold=0.95)),
    ("timeslices:1:1", BudgetingInput(method=BudgetingMethod.TIMESLICES, slice_minutes=1, slice_threshold=1.0)),
    ("ratio_timeslices:5", BudgetingInput(method=BudgetingMethod.RATIO_TIMESLICES, slice_minutes=5)),
])
def test_each_method_reaches_the_whatif_as_graphql_gives_it(text, graphql, database_url, monkeypatch):
    oid, _ = _history(database_url)
    given: list = []
    run = service.whatif.target_whatif_of

    async def spy(*args, **kwargs):
        given.append(kwargs["budgeting"])
        return await run(*args, **kwargs)

    monkeypatch.setattr(service.whatif, "target_whatif_of", spy)
    result = runner.invoke(app, ["whatif", "target", oid, "--target", "0.999", *SPAN, "--budgeting", text,
                                 "--json", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert given == [graphql.as_dict()]
    assert json.loads(result.stdout)["candidate"]["budgeting"] == graphql.as_dict()


@pytest.mark.parametrize("text, says", [
    ("occurrences:junk", "got 'occurrences:junk'"),
    ("ratio_timeslices", "got 'ratio_timeslices'"),
    ("ratio_timeslices:5:0.95", "got 'ratio_timeslices:5:0.95'"),
    ("ratio_timeslices:five", "got 'ratio_timeslices:five'"),
    ("timeslices", "got 'timeslices'"),
    ("timeslices:5", "got 'timeslices:5'"),
    ("timeslices:5:0.95:1", "got 'timeslices:5:0.95:1'"),
    ("timeslices:5:high", "got 'timeslices:5:high'"),
    ("timeslices:-5:0.95", "got 'timeslices:-5:0.95'"),
    ("timeslices:5:nan", "got 'timeslices:5:nan'"),
    ("timeslices:1_0:0.95", "got 'timeslices:1_0:0.95'"),
    ("slices:5", "got 'slices:5'"),
    ("", "got ''"),
    ("timeslices:0:0.95", "budgeting.slice_minutes"),
    ("ratio_timeslices:1441", "budgeting.slice_minutes"),
    ("timeslices:5:0", "budgeting.slice_threshold"),
    ("timeslices:5:1.5", "budgeting.slice_threshold"),
])
def test_a_malformed_budgeting_is_refused_in_one_line_naming_the_option(text, says, tmp_path):
    result = runner.invoke(app, ["whatif", "target", "any-objective", "--target", "0.999", *SPAN,
                                 "--budgeting", text, "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: --budgeting: ") and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.rstrip("\n").endswith(says) or f"{says}:" in result.stderr, result.stderr
    assert result.stdout == ""
