"""Generated rules, checked and driven by promtool.

`promtool check rules` must accept every generated file. `promtool test rules` feeds
request counters with an incident of known error ratio e through the generated rules
and checks the alerts at the minutes the SRE workbook predicts:

  fires when the long window's error ratio passes threshold x (1 - target), i.e.
  after  threshold x (1 - target) x long_window / e  of incident (its detection time);
  resolves once the short window holds little enough of the incident, i.e.
  short_window x (1 - threshold x (1 - target) / e)  after the incident ends.

The counters are sampled on the evaluation grid, so `rate` extrapolates nothing and
the first evaluation past each predicted moment is where the alert must change.
"""

from __future__ import annotations

import math
import subprocess
from fractions import Fraction
from pathlib import Path

import yaml

from domain.budget.burn import AlertTier
from domain.monitoring import WORKBOOK_TIERS, MonitoredObjective, rule_groups, tier_key
from domain.sli_definition import parse_definition
from service.monitoring_rules import rules_yaml

from .harness import binary

TARGET = Fraction(999, 1000)
PER_MINUTE = 10_000
RUNBOOKS = {tier_key(t): f"https://runbooks.example/checkout/{tier_key(t)}" for t in WORKBOOK_TIERS}
CHECKOUT = MonitoredObjective(
    objective_id="checkout-availability", journey_id="checkout", name="Checkout availability", owner="sam",
    target=0.999, window="rolling 30d",
    sli=parse_definition({"kind": "ratio", "source": "prom", "good": 'http_requests_total{code!~"5.."}', "total": "http_requests_total"}),
    agreement_id="agr-7", runbooks=RUNBOOKS, team_labels={"team": "payments", "tier": "1"},
)
SEARCH_LATENCY = MonitoredObjective(
    objective_id="search-latency", journey_id="search", name="Search under 300 ms", owner="kim",
    target=0.99, window="calendar month",
    sli=parse_definition({"kind": "latency", "source": "prom", "histogram": 'lat_seconds{job="search"}', "le": "0.3"}),
    agreement_id="agr-9", runbooks={tier_key(t): "https://runbooks.example/search" for t in WORKBOOK_TIERS[:2]},
    tiers=WORKBOOK_TIERS[:2],
)


def tier(severity: str, long: str) -> AlertTier:
    return next(t for t in WORKBOOK_TIERS if t.severity == severity and t.long_window == long)


def minutes(label: str) -> int:
    return {"m": 1, "h": 60, "d": 1440}[label[-1]] * int(label[:-1])


def detection_minute(t: AlertTier, e: Fraction, grid: int) -> int:
    """First evaluation (minutes into the incident) strictly after the workbook's detection time."""
    ttd = Fraction(t.threshold).limit_denominator(1000) * (1 - TARGET) * minutes(t.long_window) / e
    return (math.floor(ttd / grid) + 1) * grid


def reset_minute(t: AlertTier, e: Fraction, grid: int) -> int:
    """First evaluation (minutes after the incident) at or past the workbook's reset time."""
    reset = minutes(t.short_window) * (1 - Fraction(t.threshold).limit_denominator(1000) * (1 - TARGET) / e)
    return math.ceil(reset / grid) * grid


def counters(clean: int, incident: int, after: int, e: Fraction, grid: int) -> tuple[str, str]:
    """Good and bad request counters sampled every `grid` minutes: `clean` minutes without
    errors, `incident` minutes with error ratio e, `after` clean minutes."""
    bad_per_minute = int(e * PER_MINUTE)
    good, bad, g, b = [0], [0], 0, 0
    for m in range(clean + incident + after):
        hit = clean <= m < clean + incident
        g += PER_MINUTE - (bad_per_minute if hit else 0)
        b += bad_per_minute if hit else 0
        if (m + 1) % grid == 0:
            good.append(g)
            bad.append(b)
    return " ".join(map(str, good)), " ".join(map(str, bad))


def alert(t: AlertTier) -> dict:
    [rule] = [r for r in rule_groups([CHECKOUT], 42)["groups"][0]["rules"]
              if r.get("alert") and r["labels"]["slo_tier"] == tier_key(t)]
    return {
        "exp_labels": {"severity": t.severity, "slo_journey": "checkout", "slo_objective": "checkout-availability",
                       "slo_owner": "sam", "slo_tier": tier_key(t), "team": "payments", "tier": "1"},
        "exp_annotations": rule["annotations"],
    }


def promtool_test(tmp_path: Path, grid: int, good: str, bad: str, checks: list[tuple[int, str, list[AlertTier]]]) -> subprocess.CompletedProcess:
    (tmp_path / "rules.yml").write_text(rules_yaml([CHECKOUT], 42))
    test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": f"{grid}m",
        "tests": [{
            "interval": f"{grid}m",
            "input_series": [
                {"series": 'http_requests_total{code="200"}', "values": good},
                {"series": 'http_requests_total{code="500"}', "values": bad},
            ],
            "alert_rule_test": [
                {"eval_time": f"{at}m", "alertname": name, "exp_alerts": [alert(t) for t in firing]}
                for at, name, firing in checks
            ],
        }],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    return subprocess.run([binary("promtool"), "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_generated_files_pass_promtool_check_rules(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(rules_yaml([CHECKOUT, SEARCH_LATENCY], 1234))
    done = subprocess.run([binary("promtool"), "check", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 19 rules found" in done.stdout  # 7 + 1 + 4 for checkout, 4 + 1 + 2 for search


def test_promtool_check_rules_catches_a_broken_file(tmp_path):
    """The check above can fail: an expression Prometheus cannot parse is refused."""
    text = rules_yaml([CHECKOUT], 1).replace("sum(rate(http_requests_total[5m]))", "sum(rate(http_requests_total[5m])", 1)
    path = tmp_path / "rules.yml"
    path.write_text(text)
    done = subprocess.run([binary("promtool"), "check", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode != 0 and "parse error" in done.stdout + done.stderr


CLEAN = 370  # over 6 h, so every page window holds clean traffic before the incident


def page_checks_14x(shift: int = 0):
    e = Fraction(3, 100)  # a 30x burn: only the 14.4x tier can fire in a 60-minute incident
    t = tier("page", "1h")
    fire, reset = detection_minute(t, e, 1), reset_minute(t, e, 1)
    assert (fire, reset) == (29, 3)  # 0.0144 x 60 / 0.03 = 28.8 min; 5 x (1 - 0.48) = 2.6 min
    checks = [
        (CLEAN + fire - 1 + shift, "ErrorBudgetBurnPage", []),
        (CLEAN + fire, "ErrorBudgetBurnPage", [t]),
        (CLEAN + 60 + reset - 1, "ErrorBudgetBurnPage", [t]),
        (CLEAN + 60 + reset, "ErrorBudgetBurnPage", []),
    ]
    return e, checks


def test_page_at_14_4x_fires_and_resolves_when_the_workbook_says(tmp_path):
    e, checks = page_checks_14x()
    good, bad = counters(CLEAN, 60, 30, e, 1)
    done = promtool_test(tmp_path, 1, good, bad, checks)
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_test_rules_fails_on_a_wrong_prediction(tmp_path):
    """One minute early is wrong: the alert test is not vacuous."""
    e, checks = page_checks_14x(shift=-1)
    checks[0] = (checks[0][0], checks[0][1], [])
    checks[1] = (checks[1][0] - 1, checks[1][1], checks[1][2])
    good, bad = counters(CLEAN, 60, 30, e, 1)
    done = promtool_test(tmp_path, 1, good, bad, checks)
    assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr


def test_page_at_6x_fires_and_resolves_when_the_workbook_says(tmp_path):
    e = Fraction(125, 10_000)  # 12.5x: under 14.4 over any hour, over 6 for long enough
    t = tier("page", "6h")
    fire, reset = detection_minute(t, e, 1), reset_minute(t, e, 1)
    assert (fire, reset) == (173, 16)  # 0.006 x 360 / 0.0125 = 172.8 min; 30 x (1 - 0.48) = 15.6 min
    good, bad = counters(CLEAN, 240, 30, e, 1)
    done = promtool_test(tmp_path, 1, good, bad, [
        (CLEAN + 60, "ErrorBudgetBurnPage", []),  # an hour in: 1.25% over 1h, under 14.4 x 0.1%
        (CLEAN + fire - 1, "ErrorBudgetBurnPage", []),
        (CLEAN + fire, "ErrorBudgetBurnPage", [t]),
        (CLEAN + 240 + reset - 1, "ErrorBudgetBurnPage", [t]),
        (CLEAN + 240 + reset, "ErrorBudgetBurnPage", []),
    ])
    assert done.returncode == 0, done.stdout + done.stderr


CLEAN_3D = 3 * 1440  # every ticket window holds clean traffic before the incident


def test_tickets_at_3x_and_1x_fire_and_resolve_when_the_workbook_says(tmp_path):
    e = Fraction(5, 1000)  # 5x: both tickets (3 budget-days over 1d or 3d), no page
    t3, t1 = tier("ticket", "1d"), tier("ticket", "3d")
    fire3, fire1 = detection_minute(t3, e, 5), detection_minute(t1, e, 5)
    reset3, reset1 = reset_minute(t3, e, 5), reset_minute(t1, e, 5)
    assert (fire3, fire1, reset3, reset1) == (865, 865, 50, 290)  # 864 min; 120 x 0.4 = 48, 360 x 0.8 = 288
    incident = 960
    good, bad = counters(CLEAN_3D, incident, 300, e, 5)
    done = promtool_test(tmp_path, 5, good, bad, [
        (CLEAN_3D + fire3 - 5, "ErrorBudgetBurnTicket", []),
        (CLEAN_3D + fire3, "ErrorBudgetBurnTicket", [t3, t1]),
        (CLEAN_3D + incident, "ErrorBudgetBurnPage", []),
        (CLEAN_3D + incident + reset3 - 5, "ErrorBudgetBurnTicket", [t3, t1]),
        (CLEAN_3D + incident + reset3, "ErrorBudgetBurnTicket", [t1]),
        (CLEAN_3D + incident + reset1 - 5, "ErrorBudgetBurnTicket", [t1]),
        (CLEAN_3D + incident + reset1, "ErrorBudgetBurnTicket", []),
    ])
    assert done.returncode == 0, done.stdout + done.stderr


def test_ticket_at_1x_alone_for_a_slow_burn(tmp_path):
    e = Fraction(25, 10_000)  # 2.5x: under 3 over any day, the 3-day ticket only
    t1 = tier("ticket", "3d")
    fire, reset = detection_minute(t1, e, 5), reset_minute(t1, e, 5)
    assert (fire, reset) == (1730, 220)  # 0.001 x 4320 / 0.0025 = 1728 min; 360 x 0.6 = 216
    incident = 1800
    good, bad = counters(CLEAN_3D, incident, 240, e, 5)
    done = promtool_test(tmp_path, 5, good, bad, [
        (CLEAN_3D + fire - 5, "ErrorBudgetBurnTicket", []),
        (CLEAN_3D + fire, "ErrorBudgetBurnTicket", [t1]),
        (CLEAN_3D + incident + reset - 5, "ErrorBudgetBurnTicket", [t1]),
        (CLEAN_3D + incident + reset, "ErrorBudgetBurnTicket", []),
    ])
    assert done.returncode == 0, done.stdout + done.stderr
