"""`slogov whatif target --window`: every window the domain has, read by the one window parser."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.cli.windows import WindowTextError, window_from_text
from tests.budgets.support import T0
from tests.cli.test_whatif_cli import _history

runner = CliRunner()
BERLIN_MONTH = {"kind": "calendar", "duration": "1M", "start": "2026-01-01T00:00:00", "time_zone": "Europe/Berlin"}


@pytest.mark.parametrize("text, window", [
    ("30d", {"kind": "rolling", "days": 30}),
    ("4w", {"kind": "rolling", "duration": "4w"}),
    ("rolling 90m", {"kind": "rolling", "duration": "90m"}),
    ("120d", {"kind": "rolling", "duration": "120d"}),
    ("calendar_month", {"kind": "calendar_month"}),
    ("calendar_quarter", {"kind": "calendar_quarter"}),
    ("calendar 1M 2026-01-01T00:00:00 Europe/Berlin", BERLIN_MONTH),
    ("calendar 1w 2026-01-05T06:00 America/New_York",
     {"kind": "calendar", "duration": "1w", "start": "2026-01-05T06:00:00", "time_zone": "America/New_York"}),
    ('{"kind": "CALENDAR", "duration": "1M", "start": "2026-01-01T00:00:00", "timeZone": "Europe/Berlin"}',
     BERLIN_MONTH),
    ('{"kind": "rolling", "days": 7}', {"kind": "rolling", "days": 7}),
])
def test_every_window_form_reads_to_the_budgets_form(text, window):
    assert window_from_text(text) == window


@pytest.mark.parametrize("text, says", [
    ("30x", "window.duration"),
    ("1M", "no fixed length"),
    ("calendar 1M 2026-01-01T00:00:00 Mars/Olympus", "unknown IANA time zone"),
    ("calendar 2Y 2026-01-01T00:00:00 UTC", "at most a year"),
    ("calendar 1M 2026-01-01T00:00:00+01:00 Europe/Berlin", "window.start"),
    ("calendar 1M Europe/Berlin", "expected a rolling duration"),
    ('{"kind": "rolling"', "not a JSON object"),
    ('{"kind": "rolling", "days": 7, "zone": "UTC"}', "window.zone"),
    ("400d", "at most 366 days"),
])
def test_a_bad_window_says_what_is_wrong(text, says):
    with pytest.raises(WindowTextError, match=says):
        window_from_text(text)


def test_whatif_target_takes_a_zoned_calendar_window_and_a_rolling_week_count(database_url):
    oid, _ = _history(database_url)
    span = ["--from", T0.isoformat(), "--to", (T0 + timedelta(hours=4)).isoformat()]
    for text, window in (("calendar 1M 2026-01-01T00:00:00 Europe/Berlin", BERLIN_MONTH),
                         ("4w", {"kind": "rolling", "duration": "4w"})):
        result = runner.invoke(app, ["whatif", "target", oid, "--target", "0.999", *span, "--window", text,
                                     "--json", "--database-url", database_url])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["candidate"]["window"] == window

    bad = runner.invoke(app, ["whatif", "target", oid, *span, "--window", "calendar 1M 2026-01-01T00:00:00 Nowhere/Zone",
                              "--database-url", database_url])
    assert bad.exit_code == 2
    assert "--window" in bad.output and "unknown IANA time zone 'Nowhere/Zone'" in bad.output
