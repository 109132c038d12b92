"""The budget summary row's doc: the raised alerts' encoded list is kept between minutes
(`AlertTexts`), and the doc it gives is the one `doc_json(state.to_doc())` writes."""

from __future__ import annotations

from domain.budget.burn import Alert
from domain.budget.decider import BudgetState
from projections.budgets import AlertTexts, SummaryRow, doc_text
from projections.documents import doc_json
from projections.tables import budgets


def _alert(severity: str, long_window: str, rate: float) -> Alert:
    return Alert(severity, long_window, "5m", rate, rate, 14.4)


def test_the_doc_with_kept_alert_texts_is_the_plain_one_as_alerts_are_raised_and_cleared():
    state = BudgetState("o1", config={"target": 0.999, "window": {"kind": "rolling", "days": 30},
                                      "budgeting": {"method": "occurrences"}}, version=3)
    texts = AlertTexts()

    def same() -> None:
        assert doc_text(state, texts) == doc_text(state) == doc_json(state.to_doc())

    same()  # none raised
    page = _alert("page", "1h", 19.5)
    state.alerts[page.key] = page
    same()
    same()  # kept
    ticket = _alert("ticket", "3d", 2.0)
    state.alerts[ticket.key] = ticket
    same()  # one more raised
    state.alerts[page.key] = _alert("page", "1h", 20.25)  # raised again, other rates
    same()
    state.alerts.pop(ticket.key)
    same()  # one cleared
    state.alerts.clear()
    same()


def test_a_full_cache_starts_over():
    texts = AlertTexts(size=1)
    states = [BudgetState(f"o{i}") for i in range(3)]
    for i, state in enumerate(states):
        alert = _alert("page", "1h", float(i + 1))
        state.alerts[alert.key] = alert
    for state in states + states:
        assert doc_text(state, texts) == doc_json(state.to_doc())


def test_summary_rows_hold_the_table_columns_in_order():
    assert SummaryRow._fields == tuple(c.name for c in budgets.columns)
