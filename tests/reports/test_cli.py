"""`slogov report --quarter ... --format markdown|json|html [--output FILE]` on the demo data."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from typer.testing import CliRunner

from api.cli import app
from domain import quarters

runner = CliRunner()


def run(*args: str, url: str):
    return runner.invoke(app, [*args, "--database-url", url])


def test_report_in_every_format(database_url, tmp_path):
    assert run("demo", url=database_url).exit_code == 0
    q = quarters.quarter_of(datetime.now(timezone.utc))

    md = run("report", "--quarter", q, url=database_url)
    assert md.exit_code == 0, md.output
    assert md.stdout.startswith(f"# Reliability report {q}") and "## Tier 1" in md.stdout
    assert "Complete a purchase / Checkout succeeds" in md.stdout

    js = run("report", "--quarter", q, "--format", "json", url=database_url)
    assert js.exit_code == 0, js.output
    data = json.loads(js.stdout)
    assert data["quarter"] == q and data["totals"]["journeys"] == 3

    out = tmp_path / "report.html"
    html = run("report", "--quarter", q, "--format", "html", "--output", str(out), url=database_url)
    assert html.exit_code == 0, html.output
    page = out.read_text()
    assert "<script" not in page.lower()
    points = re.findall(r'<polyline[^>]*points="([^"]+)"', page)
    assert points and all(2 <= len(p.split()) <= 200 for p in points)


def test_report_refuses_bad_options(database_url):
    assert run("report", "--quarter", "Q4", url=database_url).exit_code == 2
    assert run("report", "--quarter", "2026-Q4", "--format", "pdf", url=database_url).exit_code == 2
