from datetime import datetime, timedelta, timezone

import pytest

from domain.budget import BudgetInputError, Budgeting, Ledger, Window, parse_budgeting, parse_window, window_bounds

UTC = timezone.utc


def dt(*a):
    return datetime(*a, tzinfo=UTC)


def test_rolling_window_ends_at_at():
    at = dt(2024, 11, 15, 12, 30)
    assert window_bounds({"kind": "rolling", "days": 30}, at) == (at - timedelta(days=30), at)


def test_calendar_month_bounds():
    assert window_bounds({"kind": "calendar_month"}, dt(2024, 2, 29, 23, 59)) == (dt(2024, 2, 1), dt(2024, 3, 1))
    assert window_bounds({"kind": "calendar_month"}, dt(2024, 12, 31, 23, 59)) == (dt(2024, 12, 1), dt(2025, 1, 1))
    # exactly on the boundary: the new month
    assert window_bounds({"kind": "calendar_month"}, dt(2024, 11, 1)) == (dt(2024, 11, 1), dt(2024, 12, 1))


def test_calendar_quarter_bounds():
    q = {"kind": "calendar_quarter"}
    assert window_bounds(q, dt(2024, 1, 1)) == (dt(2024, 1, 1), dt(2024, 4, 1))
    assert window_bounds(q, dt(2024, 6, 30, 23)) == (dt(2024, 4, 1), dt(2024, 7, 1))
    assert window_bounds(q, dt(2024, 9, 30, 23, 59)) == (dt(2024, 7, 1), dt(2024, 10, 1))
    assert window_bounds(q, dt(2024, 12, 5)) == (dt(2024, 10, 1), dt(2025, 1, 1))


def test_window_bounds_are_utc_whatever_the_zone_of_at():
    paris = timezone(timedelta(hours=1))
    # 00:30 on Nov 1 in +01:00 is still Oct 31 in UTC
    assert window_bounds({"kind": "calendar_month"}, datetime(2024, 11, 1, 0, 30, tzinfo=paris)) == (dt(2024, 10, 1), dt(2024, 11, 1))


def test_naive_at_refused():
    with pytest.raises(BudgetInputError) as e:
        window_bounds({"kind": "calendar_month"}, datetime(2024, 1, 1))
    assert e.value.field == "at"
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize(
    "window, field",
    [
        ({"kind": "weekly"}, "window.kind"),
        ({"kind": "rolling"}, "window.days"),
        ({"kind": "rolling", "days": 0}, "window.days"),
        ({"kind": "rolling", "days": 2.5}, "window.days"),
        ({"kind": "rolling", "days": True}, "window.days"),
        ({"kind": "calendar_month", "days": 30}, "window.days"),
        ({"kind": "rolling", "days": 30, "day": 1}, "window.day"),
        ({}, "window.kind"),
        ("30d", "window"),
    ],
)
def test_bad_windows(window, field):
    with pytest.raises(BudgetInputError) as e:
        parse_window(window)
    assert e.value.field == field


def test_parse_window_roundtrip():
    for w in ({"kind": "rolling", "days": 28}, {"kind": "calendar_month"}, {"kind": "calendar_quarter"}):
        assert parse_window(w).to_dict() == w
    assert parse_window(Window("rolling", 7)) == Window("rolling", 7)


@pytest.mark.parametrize(
    "budgeting, field",
    [
        ({"method": "sampled"}, "budgeting.method"),
        ({"method": "timeslices", "slice_threshold": 0.9}, "budgeting.slice_minutes"),
        ({"method": "timeslices", "slice_minutes": 1}, "budgeting.slice_threshold"),
        ({"method": "timeslices", "slice_minutes": 0, "slice_threshold": 0.9}, "budgeting.slice_minutes"),
        ({"method": "timeslices", "slice_minutes": 1.5, "slice_threshold": 0.9}, "budgeting.slice_minutes"),
        ({"method": "timeslices", "slice_minutes": 1, "slice_threshold": 0}, "budgeting.slice_threshold"),
        ({"method": "timeslices", "slice_minutes": 1, "slice_threshold": 1.5}, "budgeting.slice_threshold"),
        ({"method": "occurrences", "slice_minutes": 1}, "budgeting.method"),
    ],
)
def test_bad_budgeting(budgeting, field):
    with pytest.raises(BudgetInputError) as e:
        parse_budgeting(budgeting)
    assert e.value.field == field


def test_budgeting_defaults_to_occurrences():
    assert parse_budgeting(None) == Budgeting("occurrences")
    assert parse_budgeting({"method": "timeslices", "slice_minutes": 5, "slice_threshold": 1}).slice_threshold == 1.0


@pytest.mark.parametrize("target", [0, 1, 99.9, -0.5, True, "0.999", float("nan")])
def test_bad_targets(target):
    with pytest.raises(BudgetInputError) as e:
        Ledger(target, {"kind": "calendar_month"})
    assert e.value.field == "target"
