"""The leadership report as one self-contained HTML page: tables per tier and a budget
burn-down chart (inline SVG) per objective with budget data. No scripts, no external
resources."""

from __future__ import annotations

from html import escape

from service.reports.formatting import count_pair, day, days, pct, share
from service.reports.model import JourneyLine, LeadershipReport, ObjectiveLine
from service.reports.svg import burn_down_svg

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #222; }
h1 { margin-bottom: 4px; } .meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num { text-align: right; }
.overdue { color: #b71c1c; font-weight: bold; } .info { color: #8d6e00; }
.summary li { margin: 2px 0; } .charts { display: flex; flex-wrap: wrap; gap: 12px; }
section.journey { border-top: 1px solid #ddd; padding-top: 8px; }
"""


def _e(value: object) -> str:
    return escape(str(value))


def _review(o: ObjectiveLine) -> str:
    if o.status != "ACTIVE" and o.last_review is None:
        return "—"
    last = "never" if o.last_review is None else f"{o.last_review.quarter} {o.last_review.outcome}"
    text = f"{_e(last)}; due {_e(day(o.next_review_due))}"
    return text + (' <span class="overdue">OVERDUE</span>' if o.review_overdue else "")


def _objective_row(o: ObjectiveLine) -> str:
    target = _e(pct(o.target))
    if o.informational:
        target += ' <span class="info">(informational: no policy)</span>'
    cells = [
        f"{_e(o.name)}<br><small>{_e(o.objective_id)}"
        + (f"; component: {_e(o.service)}" if o.service else "") + "</small>", _e(o.status), target,
        _e(pct(o.attainment)), _e(share(o.budget_spent)), _e(share(o.budget_remaining)), _e(o.exhaustions),
        _e(days(o.days_under_freeze)), _e(o.escalations), _e(days(o.median_days_to_agreement)), _review(o),
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


_HEADER = ("Objective", "Status", "Target", "Attainment", "Budget spent (quarter)", "Budget left (own window)", "Exhaustions",
           "Freeze days", "Escalations", "Days to agree", "Review")


def _journey(j: JourneyLine) -> str:
    parts = [
        '<section class="journey">',
        f"<h3>{_e(j.name)} <small>({_e(j.journey_id)}{', priority ' + _e(j.priority) if j.priority else ''})</small></h3>",
        "<p>"
        f"Exhaustions {j.exhaustions} · {_e(days(j.days_under_freeze))} days under freeze · "
        f"{j.escalations} escalations · {j.exceptions_granted} exceptions granted · deploys allowed / denied "
        f"{_e(count_pair(j.deploys_allowed, j.deploys_denied, j.deploys_require_approval))} · median days to "
        f"agreement {_e(days(j.median_days_to_agreement))} · {j.informational_objectives} informational · "
        f"{j.overdue_reviews} overdue reviews</p>",
    ]
    if not j.objectives:
        parts.append("<p><em>No objectives yet.</em></p></section>")
        return "".join(parts)
    parts.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in _HEADER) + "</tr>")
    parts += [_objective_row(o) for o in j.objectives]
    parts.append("</table>")
    charted = [o for o in j.objectives if o.target is not None and o.chart]
    if charted:
        parts.append('<div class="charts">')
        for o in charted:
            parts.append(burn_down_svg(o.chart, f"{o.name}: budget remaining (target {pct(o.target)})"))
        parts.append("</div>")
    parts.append("</section>")
    return "".join(parts)


def render_html(report: LeadershipReport) -> str:
    t = report.totals
    body = [
        f"<h1>Reliability report {_e(report.quarter)}</h1>",
        f'<p class="meta">Quarter {_e(report.start.date())} to {_e(report.end.date())} (UTC, end exclusive); '
        f"as of {_e(report.as_of.isoformat())}.</p>",
        '<h2>Summary</h2><ul class="summary">',
        f"<li>Journeys: {t.journeys}; objectives: {t.objectives} ({t.informational_objectives} informational, "
        "no policy)</li>",
        f"<li>Budget exhaustions: {t.exhaustions}; days under freeze: {_e(days(t.days_under_freeze))}; "
        f"escalations: {t.escalations}</li>",
        f"<li>Freeze exceptions granted: {t.exceptions_granted}</li>",
        f"<li>Deploys allowed / denied: {_e(count_pair(t.deploys_allowed, t.deploys_denied, t.deploys_require_approval))}</li>",
        f"<li>Median days from proposal to agreement: {_e(days(t.median_days_to_agreement))}</li>",
        f'<li>Overdue reviews: <span class="{"overdue" if t.overdue_reviews else ""}">{t.overdue_reviews}</span></li>',
        "</ul>",
    ]
    for tier in report.tiers:
        body.append(f"<h2>Tier {tier.tier}</h2>")
        body += [_journey(j) for j in tier.journeys]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Reliability report {_e(report.quarter)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
