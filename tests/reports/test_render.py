"""The renderers: HTML with an inline SVG burn-down per objective (no scripts), Markdown, JSON."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest

from service.reports import build_report, render, render_html, render_json, render_markdown
from service.reports.svg import burn_down_svg

from . import test_model
from .test_model import at, point

inputs = test_model.inputs  # the fixture, found by pytest under this name


@pytest.fixture
def demo_like(inputs):
    """Two days of 5-minute intervals like the demo's checkout: a dip to exhaustion, then recovery."""
    points = []
    for k in range(576):
        remaining = 0.85 if k < 288 else (-0.1 if k < 300 else -0.1 + (k - 300) * 0.002)
        points.append(point(at(40) + timedelta(minutes=5 * k), 5990, 6000, remaining))
    charts = dict(inputs.charts)
    charts["checkout-availability"] = points
    from dataclasses import replace

    return build_report("2025-Q1", at(86), replace(inputs, charts=charts))


def _svgs(html: str) -> list[ElementTree.Element]:
    return [ElementTree.fromstring(m) for m in re.findall(r"<svg.*?</svg>", html, flags=re.S)]


def test_html_draws_a_burn_down_per_objective_with_budget_data_and_no_script(demo_like):
    html = render_html(demo_like)
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html.lower() and "javascript:" not in html.lower()
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html), "no external resources"
    svgs = _svgs(html)
    assert len(svgs) == 1  # only checkout availability has budget data
    ns = "{http://www.w3.org/2000/svg}"
    svg = svgs[0]
    polyline = svg.find(f"{ns}polyline")
    coords = [tuple(map(float, p.split(","))) for p in polyline.get("points").split()]
    assert 2 < len(coords) <= 200  # 576 intervals, downsampled
    xs = [x for x, _ in coords]
    assert xs == sorted(xs)
    width, height = float(svg.get("width")), float(svg.get("height"))
    assert all(0 <= x <= width and 0 <= y <= height for x, y in coords)
    # the target line at 0 (dashed) lies above the dip below zero
    target = svg.find(f"{ns}line[@class='target']")
    assert target is not None and target.get("stroke-dasharray")
    assert max(y for _, y in coords) > float(target.get("y1"))
    texts = " ".join(t.text or "" for t in svg.iter(f"{ns}text"))
    assert "budget remaining" in texts and "time (UTC)" in texts and "0: budget exhausted" in texts
    assert "100%" in texts and "0%" in texts
    assert len(svg.findall(f"{ns}line[@class='axis']")) == 2


def test_html_shows_the_numbers(demo_like):
    html = render_html(demo_like)
    assert "Reliability report 2025-Q1" in html and "Tier 1" in html and "Tier 2" in html
    assert "informational: no policy" in html and "OVERDUE" in html


def test_html_escapes_what_people_typed(inputs):  # noqa: F811
    from dataclasses import replace

    journeys = [replace(inputs.journeys[0], name="<script>alert(1)</script>"), *inputs.journeys[1:]]
    html = render_html(build_report("2025-Q1", at(86), replace(inputs, journeys=journeys)))
    assert "<script" not in html and "&lt;script&gt;" in html


def test_a_budget_far_below_zero_stays_readable_and_is_said_to_be_off_the_scale():
    # -99,925% left: ticks every 25% down to it would be 4,000 overlapping labels.
    points = [(at(1), 1.0), (at(2), 0.4), (at(3), -999.25)]
    svg = ElementTree.fromstring(burn_down_svg(points, "far below"))
    ns = "{http://www.w3.org/2000/svg}"
    ticks = [t.text for t in svg.iter(f"{ns}text") if t.get("class") == "tick"]
    assert ticks == ["-100%", "-75%", "-50%", "-25%", "0%", "25%", "50%", "75%", "100%"]
    texts = [t.text for t in svg.iter(f"{ns}text")]
    assert "off the scale below -100%: lowest -99,925%" in texts and "-99,925% left" in texts
    plot_bottom = 28 + (240 - 28 - 44)
    ys = [float(xy.split(",")[1]) for xy in next(svg.iter(f"{ns}polyline")).get("points").split()]
    assert max(ys) <= plot_bottom  # drawn on the floor, inside the frame

    within = ElementTree.fromstring(burn_down_svg([(at(1), 1.0), (at(2), -0.3)], "within"))
    assert [t.text for t in within.iter(f"{ns}text") if t.get("class") == "tick"][0] == "-50%"
    assert not any(t.get("class") == "off-scale" for t in within.iter(f"{ns}text"))


def test_an_empty_chart_says_so():
    svg = burn_down_svg([], "nothing")
    assert "no budget data" in svg and "<polyline" not in svg


def test_markdown_has_a_table_per_journey(demo_like):
    text = render_markdown(demo_like)
    assert text.startswith("# Reliability report 2025-Q1")
    assert "## Tier 1" in text and "## Tier 2" in text and "### Checkout (`checkout`" in text
    assert "| Journey / objective | Status | Target |" in text
    assert "**OVERDUE**" in text and "Deploys allowed / denied: 2 / 2 (+1 approval)" in text


def test_json_is_the_report_as_plain_data(demo_like):
    data = json.loads(render_json(demo_like))
    assert data["quarter"] == "2025-Q1" and data["start"] == "2025-01-01T00:00:00+00:00"
    objective = data["tiers"][0]["journeys"][0]["objectives"][0]
    assert objective["objective_id"] == "checkout-availability" and objective["target"] == 0.999
    assert 2 < len(objective["chart"]) <= 200 and set(objective["chart"][0]) == {"at", "remaining"}
    assert data["totals"]["overdue_reviews"] == 1


def test_render_refuses_an_unknown_format(demo_like):
    with pytest.raises(ValueError):
        render(demo_like, "pdf")
