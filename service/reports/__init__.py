"""The leadership report: assembly (`model`), reading (`fetch`) and renderers.

    report = await leadership_report(container, "2026-Q4")
    render(report, "markdown" | "json" | "html") -> str
"""

from __future__ import annotations

from service.reports.as_html import render_html
from service.reports.as_json import render_json, to_data
from service.reports.as_markdown import render_markdown
from service.reports.fetch import leadership_report, report_inputs
from service.reports.model import LeadershipReport, ReportInputs, build_report, downsample

FORMATS = {"markdown": render_markdown, "json": render_json, "html": render_html}


def render(report: LeadershipReport, format: str) -> str:
    try:
        renderer = FORMATS[format]
    except KeyError:
        raise ValueError(f"format must be one of {', '.join(FORMATS)} (got {format!r})") from None
    return renderer(report)


__all__ = [
    "FORMATS", "LeadershipReport", "ReportInputs", "build_report", "downsample", "leadership_report",
    "render", "render_html", "render_json", "render_markdown", "report_inputs", "to_data",
]
