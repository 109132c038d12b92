"""Policy what-if over a quarter of history, beside replaying the same log, in one run.

    python -m bench.whatif_policy [--pg URL | --sqlite] [--clones 50] [--days 90] [--deploys 200] [--runs 3]

The log: a template world run once through the real command bus on a scratch SQLite log
-- policy "default" adopted, a journey mapping two critical services, two objectives (99.9%
availability, 99% latency, 30-day windows) negotiated and formalized under it, `--days` of
hourly observation pushes (one request a hour for both) with two outages that exhaust the
availability budget (a freeze that lasts until the bad hours leave the window, a
postmortem, and the second exhaustion of the quarter escalated), and `--deploys` deploy
decisions spread over the days (allowed, and denied during the freezes). It is cloned as
`bench.replay` clones (ids renamed, positions shifted) `--clones` times: by default 100
objectives and 10,000 recorded decisions over 90 days.

Measured, on one PostgreSQL database (or a SQLite file, `--sqlite`), alternating, `--runs` times each (the best counts):
  replay   `eventstore.reader.fold_log` of the whole log with every decider's `evolve`
  what-if  `service.policy_whatif.policy_whatif_of` with a candidate that requires approval
           when half the budget is spent and freezes only features when it is exhausted:
           every decision judged again, every objective's actions derived again.
Target: what-if within 1.5x of replay, and under 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.replay import TOKEN, Rate, log_rows, replay, write_log
from bench.store import Databases
from domain import journey as j
from domain import objective as o
from domain.events import RecordedEvent
from service.bootstrap import build
from service.config import Settings
from service.envelope import Envelope

START = datetime(2025, 1, 1, tzinfo=timezone.utc)
CANDIDATE = """
id: default
name: approval at half the budget, features frozen when it is spent
rules:
  - id: approve-below-half
    when: {budget_remaining_at_most: 0.5}
    actions: [{type: require_approval, role: sre}]
    exempt: [reliability_fix, security_fix, rollback]
  - id: freeze-features-when-exhausted
    when: {budget_remaining_at_most: 0.0}
    actions: [{type: freeze}]
    exempt: [config, reliability_fix, security_fix, rollback]
  - id: postmortem-large-incident
    when: {incident_budget_share_over: 0.3}
    actions: [{type: require_postmortem}]
"""


class SetClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def template_world(days: int, deploys: int) -> list[RecordedEvent]:
    from policies.loader import POLICY_DIR
    from service import budget_queries as bq
    from service import gate

    with tempfile.TemporaryDirectory() as tmp:
        container = build(Settings(database_url=f"sqlite+aiosqlite:///{os.path.join(tmp, 't.db')}"))
        clock = SetClock(START)
        container.store.clock = clock
        await container.startup()
        try:
            async def do(role: str, command: Any) -> None:
                await container.bus.execute(Envelope(command, f"{role}-person", frozenset({role})))

            await gate.adopt_policy(container, "vp", frozenset({"leadership"}),
                                    (POLICY_DIR / "default.yaml").read_text())
            jid = f"j{TOKEN}"
            await do("product", j.ProposeJourney(
                jid, f"Checkout {TOKEN}", "A shopper pays for the basket.", ("basket", "pay", "confirm"),
                "basket page", "confirmation page", "order confirmed within 3 s", "payments-team", 1))
            await do("leadership", j.PrioritizeJourney(jid, 1, 1, "every order passes through it"))
            for service in (f"svc{TOKEN}-api", f"svc{TOKEN}-db"):
                await do("sre", j.MapDependency(jid, service, "service", True, ("timeouts",)))
            avail, latency = f"o{TOKEN}-avail", f"o{TOKEN}-latency"
            for oid, sli in ((avail, o.SLI("availability")), (latency, o.SLI("latency", threshold_ms=800))):
                await do("sre", o.DraftObjective(oid, jid, f"Checkout {oid}", sli, o.Window("rolling", 30),
                                                 o.Budgeting("occurrences")))
                await do("sre", o.ProposeTarget(oid, "p1", 0.999 if oid == avail else 0.99, "from the baseline"))
                for party in ("product", "sre", "engineering", "leadership"):
                    await do(party, o.EndorseProposal(oid, "p1", party))
                await do("sre", o.FormalizeAgreement(oid, "default", 1, "pm", "sre-lead", ("oncall", "vp"), "two"))
            hours = days * 24
            outages = {20 * 24 + h for h in range(3)} | {62 * 24 + h for h in range(2)}
            every = max(hours // deploys, 1)
            for k in range(hours):
                start, end = START + timedelta(hours=k), START + timedelta(hours=k + 1)
                clock.now = end + timedelta(minutes=1)
                await bq.record_observations(container, "monitoring", frozenset({"sre"}), [
                    {"objective_id": avail, "start": start, "end": end, "good": 500 if k in outages else 1000,
                     "total": 1000},
                    {"objective_id": latency, "start": start, "end": end, "good": 995, "total": 1000},
                ])
                if k % every == every - 1:
                    clock.now += timedelta(minutes=1)
                    change = "config" if (k // every) % 3 == 0 else "feature"
                    await gate.evaluate_deploy(container, "pipeline", frozenset({"ci"}), f"svc{TOKEN}-api",
                                               change, "v1", f"run{TOKEN}-{k}")
            return [e async for chunk in container.store.iter_all() for e in chunk]
        finally:
            await container.shutdown()


async def whatif(url: str, start: datetime, end: datetime) -> tuple[Rate, Any]:
    from service.policy_whatif import policy_whatif_of, summary

    container = build(Settings(database_url=url), auto_migrate=False)
    try:
        await container.store.head()  # connect first: time the pass, not the handshake
        began, cpu = time.perf_counter(), time.process_time()
        result = await policy_whatif_of(container, CANDIDATE, start, end)
        rate = Rate(result.outcome.events, time.perf_counter() - began, time.process_time() - cpu)
    finally:
        await container.shutdown()
    return rate, summary(result)


async def run(args: argparse.Namespace) -> int:
    db = None if args.sqlite else Databases(args.pg)
    tmp = tempfile.TemporaryDirectory() if args.sqlite else None
    ok = False
    if db is not None:
        print(f"PostgreSQL at {args.pg}; databases slogov_bench_{db.tag}_* (dropped at the end)")
    else:
        print("SQLite in a temporary file (removed at the end)")
    try:
        began = time.perf_counter()
        template = await template_world(args.days, args.deploys)
        per_clone = sum(1 for e in template if TOKEN in e.stream_id)
        rows, versions = log_rows(template, len(template) + per_clone * (args.clones - 1))
        if db is not None:
            url = db.sa_url(await db.create("whatif_policy"))
        else:
            url = f"sqlite+aiosqlite:///{os.path.join(tmp.name, 'bench.db')}"
        container = build(Settings(database_url=url))  # migrates on startup
        await container.startup()
        try:
            await write_log(container.engines, rows, versions)
        finally:
            await container.shutdown()
        decisions = sum(1 for r in rows if r[4] == "DeployEvaluated")
        print(f"filled {len(rows):,} events ({args.clones * 2} objectives, {decisions:,} decisions over "
              f"{args.days} days) in {time.perf_counter() - began:.1f}s", flush=True)
        await replay(url)  # warm the server's (or the file's) cache
        replays, whatifs = [], []
        for _ in range(args.runs):
            replays.append((await replay(url))[0])
            rate, summary = await whatif(url, START, START + timedelta(days=args.days + 1))
            whatifs.append(rate)
        best_replay = min(replays, key=lambda r: r.seconds)
        best = min(whatifs, key=lambda r: r.seconds)
        print(f"replay   {best_replay.seconds:7.2f} s  {best_replay.per_second:10,.0f} events/s  "
              f"cpu {best_replay.cpu:.2f} s   (runs: {', '.join(f'{r.seconds:.2f}' for r in replays)})")
        print(f"what-if  {best.seconds:7.2f} s  {best.per_second:10,.0f} events/s  "
              f"cpu {best.cpu:.2f} s   (runs: {', '.join(f'{r.seconds:.2f}' for r in whatifs)})")
        ratio = best.seconds / best_replay.seconds
        print(f"what-if / replay: {ratio:.2f}x (cpu {best.cpu / best_replay.cpu:.2f}x)")
        pairs = sorted(w.seconds / r.seconds for r, w in zip(replays, whatifs))
        cpu_pairs = sorted(w.cpu / r.cpu for r, w in zip(replays, whatifs))
        print(f"run by run (each what-if beside the replay just before it): median {statistics.median(pairs):.2f}x, "
              f"{pairs[0]:.2f}-{pairs[-1]:.2f}x (cpu median {statistics.median(cpu_pairs):.2f}x)")
        print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"answer: {summary}")
        ok = ratio <= 1.5 and best.seconds < 30
        print(f"target: within 1.5x of replay and under 30 s -> {'MET' if ok else 'NOT MET'}")
    finally:
        if db is not None:
            await db.drop_all()
        if tmp is not None:
            tmp.cleanup()
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.whatif_policy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432",
                        help="PostgreSQL server URL (no database); bench databases are created and dropped")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    parser.add_argument("--clones", type=int, default=50, help="worlds of two objectives each")
    parser.add_argument("--days", type=int, default=90, help="days of hourly history")
    parser.add_argument("--deploys", type=int, default=200, help="deploy decisions per world")
    parser.add_argument("--runs", type=int, default=3, help="runs of each (the best counts)")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
