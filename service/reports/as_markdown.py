"""The leadership report as Markdown: a summary, then one table per tier."""

from __future__ import annotations

from service.reports.formatting import count_pair, day, days, pct, share
from service.reports.model import JourneyLine, LeadershipReport, ObjectiveLine


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _review(o: ObjectiveLine) -> str:
    if o.status != "ACTIVE" and o.last_review is None:
        return "—"
    last = "never" if o.last_review is None else f"{o.last_review.quarter} {o.last_review.outcome}"
    flag = " **OVERDUE**" if o.review_overdue else ""
    return f"{last}; due {day(o.next_review_due)}{flag}"


def _objective_row(j: JourneyLine, o: ObjectiveLine) -> str:
    target = pct(o.target) + (" (informational: no policy)" if o.informational else "")
    cells = [
        f"{j.name} / {o.name}" + (f" (component: {o.service})" if o.service else ""), o.status, target, pct(o.attainment), share(o.budget_spent),
        share(o.budget_remaining), str(o.exhaustions), days(o.days_under_freeze), str(o.escalations),
        days(o.median_days_to_agreement), _review(o),
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def render_markdown(report: LeadershipReport) -> str:
    t = report.totals
    lines = [
        f"# Reliability report {report.quarter}",
        "",
        f"Quarter {report.start.date()} to {report.end.date()} (UTC, end exclusive); as of {report.as_of.isoformat()}.",
        "",
        "## Summary",
        "",
        f"- Journeys: {t.journeys}; objectives: {t.objectives} ({t.informational_objectives} informational, no policy)",
        f"- Budget exhaustions: {t.exhaustions}; days under freeze: {days(t.days_under_freeze)}; escalations: {t.escalations}",
        f"- Freeze exceptions granted: {t.exceptions_granted}",
        f"- Deploys allowed / denied: {count_pair(t.deploys_allowed, t.deploys_denied, t.deploys_require_approval)}",
        f"- Median days from proposal to agreement: {days(t.median_days_to_agreement)}",
        f"- Overdue reviews: {t.overdue_reviews}",
    ]
    header = ("| Journey / objective | Status | Target | Attainment | Budget spent (quarter) | Budget left (own window) | Exhaustions "
              "| Freeze days | Escalations | Days to agree | Review |")
    rule = "|" + "---|" * 11
    for tier in report.tiers:
        lines += ["", f"## Tier {tier.tier}", ""]
        for j in tier.journeys:
            lines.append(
                f"### {j.name} (`{j.journey_id}`{', priority ' + str(j.priority) if j.priority else ''})"
            )
            lines.append("")
            lines.append(
                f"Exhaustions {j.exhaustions}, {days(j.days_under_freeze)} days under freeze, "
                f"{j.escalations} escalations, {j.exceptions_granted} exceptions granted, deploys allowed / denied "
                f"{count_pair(j.deploys_allowed, j.deploys_denied, j.deploys_require_approval)}, median days to "
                f"agreement {days(j.median_days_to_agreement)}, {j.informational_objectives} informational, "
                f"{j.overdue_reviews} overdue reviews."
            )
            lines.append("")
            if not j.objectives:
                lines.append("_No objectives yet._")
                lines.append("")
                continue
            lines += [header, rule]
            lines += [_objective_row(j, o) for o in j.objectives]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
