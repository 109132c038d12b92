"""A target what-if as a page in the leadership report's style: the figures side by side,
the budget remaining over the period under both (the report's own burn-down chart), the
running attainment under both against each target, the freezes and the deploys that
would have been denied. Self-contained: no scripts, no external resources."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from service.reports.as_html import STYLE
from service.reports.formatting import pct
from service.reports.svg import burn_down_svg, lines_svg


def _e(value: object) -> str:
    return escape(str(value))


def _points(outcome: dict[str, Any], key: str) -> list[tuple[datetime, float]]:
    return [(datetime.fromisoformat(p["at"]), p[key]) for p in outcome.get("series", []) if p[key] is not None]


def _freezes(freezes: list[dict[str, Any]]) -> str:
    if not freezes:
        return "<p>No freeze.</p>"
    rows = "".join(f"<tr><td>{_e(f['started_at'])}</td><td>{_e(f['lifted_at'] or 'still active')}</td>"
                   f"<td>{_e(', '.join(f['services']))}</td><td>{_e(f['reason'])}</td></tr>" for f in freezes)
    return f"<table><tr><th>Started</th><th>Lifted</th><th>Services</th><th>Why</th></tr>{rows}</table>"


def _alerts(outcome: dict[str, Any]) -> str:
    alerts = [t for t in outcome["transitions"] if t["type"] in ("BurnRateAlertRaised", "BurnRateAlertCleared")]
    if not alerts:
        return "<p>No burn-rate alert.</p>"
    rows = "".join(f"<tr><td>{_e(t['at'])}</td><td>{_e('raised' if t['type'] == 'BurnRateAlertRaised' else 'cleared')}"
                   f"</td><td>{_e(t['severity'])}</td><td>{_e(t['long_window'])}/{_e(t['short_window'])}</td>"
                   f"<td>{_e(t['threshold'])}</td></tr>" for t in alerts)
    return (f"<table><tr><th>At</th><th></th><th>Severity</th><th>Windows</th><th>Burn rate over</th></tr>"
            f"{rows}</table>")


def _tiers(tiers: list[dict[str, Any]] | None) -> str:
    if not tiers:
        return ""
    said = ", ".join(f"{t['severity']} over {t['threshold']:g} ({t['long_window']}/{t['short_window']})" for t in tiers)
    return f'<p class="meta">Candidate alert tiers: {_e(said)}.</p>'


def render_whatif_html(result: dict[str, Any]) -> str:
    """`result`: `service.whatif.to_dict(..., chart=True)`."""
    actual, what_if = result["actual"], result["what_if"]
    title = f"What-if: {result['objective_id']} at {pct(what_if['target'])}"
    figures = [
        ("Target", pct(actual["target"]), pct(what_if["target"])),
        ("Attainment", pct(actual["attainment"]), pct(what_if["attainment"])),
        ("Budget spent", pct(actual["budget_spent"], 1), pct(what_if["budget_spent"], 1)),
        ("Remaining at the end", pct(actual["remaining"], 1), pct(what_if["remaining"], 1)),
        ("Exhaustions", len(actual["exhaustions"]), len(what_if["exhaustions"])),
        ("Alerts raised", *(sum(1 for t in o["transitions"] if t["type"] == "BurnRateAlertRaised")
                            for o in (actual, what_if))),
        ("Freezes", len(actual["freezes"]), len(what_if["freezes"])),
        ("Deploys denied", sum(1 for d in result["deploys"] if d["actual"] == "DENY"),
         sum(1 for d in result["deploys"] if d["what_if"] == "DENY")),
    ]
    rows = "".join(f"<tr><td>{_e(n)}</td><td>{_e(a)}</td><td>{_e(w)}</td></tr>" for n, a, w in figures)
    changed = [d for d in result["deploys"] if d["changed"]]
    deploys = "".join(f"<tr><td>{_e(d['at'])}</td><td>{_e(d['pipeline_run_id'])}</td><td>{_e(d['service'])}</td>"
                      f"<td>{_e(d['actual'])}</td><td>{_e(d['what_if'])}</td><td>{_e('; '.join(d['reasons']))}</td></tr>"
                      for d in changed)
    targets = [(f"actual ({pct(actual['target'])})", actual["target"]), (f"what-if ({pct(what_if['target'])})",
                                                                         what_if["target"])]
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">Recorded history [{_e(result["from"])}, {_e(result["to"])}) read up to log position '
        f'{_e(result["position"])}' + (f'; candidate from proposal {_e(result["proposal_id"])}'
                                        if result.get("proposal_id") else "") + ". Nothing was appended.</p>",
        "<h2>Side by side</h2>",
        f"<table><tr><th></th><th>Actual (recorded)</th><th>What-if</th></tr>{rows}</table>",
        "<h2>Budget remaining</h2>",
        burn_down_svg(_points(actual, "remaining"), f"Actual at {pct(actual['target'])}"),
        burn_down_svg(_points(what_if, "remaining"), f"What-if at {pct(what_if['target'])}"),
        "<h2>Attainment since the period's start</h2>",
        lines_svg([("actual", _points(actual, "attainment")), ("what-if", _points(what_if, "attainment"))],
                  "Attainment", targets),
        "<h2>Burn-rate alerts under the candidate</h2>", _tiers(result["candidate"].get("tiers")), _alerts(what_if),
        "<h2>Burn-rate alerts recorded</h2>", _alerts(actual),
        "<h2>Freezes the policy would have started</h2>", _freezes(what_if["freezes"]),
        "<h2>Freezes recorded</h2>", _freezes(actual["freezes"]),
        "<h2>Recorded deploys judged differently</h2>",
        (f"<table><tr><th>At</th><th>Pipeline run</th><th>Service</th><th>Actual</th><th>What-if</th><th>Why</th></tr>"
         f"{deploys}</table>") if changed else
        f"<p>None of the {len(result['deploys'])} recorded deploy decision(s) this objective could change.</p>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")
