"""A live read judges freshness at the server's now: a dead exporter shows stale at once,
before any probe records it, and the read appends nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.budgets.test_freshness_probe import dead_exporter


async def test_a_live_read_judges_freshness_at_the_server_now(api):
    container = api.container
    end = await dead_exporter(container)
    before = await api.head()
    budget = (await api.ok("""{ objective(id: "o") { budget { at stale freshnessJudgedAt staleAfterMinutes
        lastObservationEnd alerts { severity } } } }"""))["objective"]["budget"]
    assert budget["stale"] is True  # 32 minutes without data, limit 15
    assert datetime.fromisoformat(budget["lastObservationEnd"]) == end
    assert datetime.fromisoformat(budget["freshnessJudgedAt"]) > end + timedelta(minutes=31)
    assert budget["alerts"]  # what the log holds until the probe records the clearing
    assert await api.head() == before  # a read-time view: nothing appended
    # As of a position (or at a given time), freshness is judged at that budget's own time.
    at_end = (await api.ok(f"""{{ objective(id: "o") {{ budget(at: "{end.isoformat()}") {{ stale
        freshnessJudgedAt }} }} }}"""))["objective"]["budget"]
    assert at_end["stale"] is False and datetime.fromisoformat(at_end["freshnessJudgedAt"]) == end


