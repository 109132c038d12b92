"""The composition root: the one place that wires settings, engines, the store,
projections, reactors, the command bus and the token verifier together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventstore.engine import Engines, create_engines
from eventstore.store import EventStore
from eventstore.upcasting import Upcasters
from projections.catalog import inline_projections
from projections.runner import ProjectionSet
from service.budget_reactor import budget_transitions
from service.bus import CommandBus
from service.gap_reactor import gap_closures
from service.policy_reactor import policy_reactions
from service.references import GUARDS
from service.config import Settings
from service.collection.catalog import LogCatalog
from service.collection.collector import Collector
from service.freshness import FreshnessProbe
from service.gate_state import GateReader
from service.gc_tuning import tune_gc
from service.long_reads import LongReads
from service.migrate import migrate
from service.offload import Offload
from service.tokens import TokenVerifier
from service.upcasters import register_upcasters


@dataclass
class Container:
    settings: Settings
    engines: Engines
    store: EventStore
    projections: ProjectionSet
    bus: CommandBus
    verifier: TokenVerifier
    gate: GateReader  # the deploy gate's per-service view, cached by gate epoch
    long_reads: LongReads = field(default_factory=LongReads)  # whole-log reads, one at a time
    auto_migrate: bool = True
    _started: bool = field(default=False, repr=False)
    freshness: FreshnessProbe | None = field(default=None, repr=False)
    # A server's worker process for the heaviest reads (service/offload.py); None: inline.
    offload: Offload | None = field(default=None, repr=False)
    # Objectives with an SLI definition and their sources (service/collection/catalog.py).
    catalog: Any = field(default=None, repr=False)
    collector: Any = field(default=None, repr=False)  # serve --collect's Collector

    @property
    def read_engine(self):
        return self.engines.read

    async def startup(self) -> None:
        if self._started:
            return
        if self.auto_migrate:
            await migrate(self.engines.write)
        tune_gc()
        self._started = True

    def start_schedules(self) -> None:
        """What a server runs on its own (the app's lifespan calls this; one-shot CLI
        commands do not): the freshness probe."""
        if self.freshness is None:
            self.freshness = FreshnessProbe(self, self.settings.freshness_probe_seconds)
        self.freshness.start()
        if self.settings.collect:
            if self.collector is None:
                self.collector = Collector(self)
            self.collector.start()

    async def shutdown(self) -> None:
        """Stops the freshness probe, the offload worker, the collector and the bus, then
        disposes the engines. Every step runs even when an earlier one raised (else one
        failed stop left the database's connections open), and the first error is raised
        once the last step has run."""
        running = (self.freshness, self.offload, self.collector)
        steps = [*(part.stop for part in running if part is not None), self.bus.stop, self.engines.dispose]
        first: BaseException | None = None
        for step in steps:
            try:
                await step()
            except BaseException as exc:  # noqa: BLE001 - kept, and raised after the last step
                first = first or exc
        self._started = False
        if first is not None:
            raise first


def build(settings: Settings | None = None, *, auto_migrate: bool = True, on_batch=None) -> Container:
    settings = settings or Settings.from_env()
    engines = create_engines(settings.database_url)
    upcasters = Upcasters()
    register_upcasters(upcasters)
    store = EventStore(engines, upcasters)
    projections = ProjectionSet(store, inline_projections(store))
    bus = CommandBus(store, projections, reactors=(budget_transitions, policy_reactions, gap_closures), max_batch=settings.max_batch,
                     on_batch=on_batch, gather_max=settings.gather_max_ms / 1000, guards=GUARDS)
    return Container(
        settings=settings,
        engines=engines,
        store=store,
        projections=projections,
        bus=bus,
        verifier=TokenVerifier(engines.read),
        gate=GateReader(engines.read),
        auto_migrate=auto_migrate,
        catalog=LogCatalog(engines.read),
    )
