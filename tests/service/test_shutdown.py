"""`Container.shutdown()` runs every stop step even when one raises, disposes the engines
last, and then raises the first error: a failed stop must not leave the database's
connections open, nor pass unseen."""

from __future__ import annotations

import pytest

from eventstore.engine import Engines
from service.bootstrap import build

ORDER = ["freshness", "offload", "collector", "bus", "engines"]


class _Stoppable:
    def __init__(self, name: str, calls: list[str], fails: set[str]) -> None:
        self.name, self.calls, self.fails = name, calls, fails

    async def stop(self) -> None:
        self.calls.append(self.name)
        if self.name in self.fails:
            raise RuntimeError(f"{self.name} would not stop")


@pytest.mark.parametrize("fails", [{"freshness"}, {"offload"}, {"collector"}, {"bus"}, {"offload", "bus"}])
async def test_a_failing_stop_step_still_disposes_the_engines_and_surfaces(settings, monkeypatch, fails):
    container = build(settings, auto_migrate=False)
    await container.startup()
    calls: list[str] = []
    container.freshness, container.offload, container.collector = (
        _Stoppable(name, calls, fails) for name in ("freshness", "offload", "collector"))
    stop_bus = container.bus.stop

    async def bus_stop() -> None:
        await stop_bus()
        await _Stoppable("bus", calls, fails).stop()

    dispose = Engines.dispose

    async def engines_dispose(engines: Engines) -> None:
        await dispose(engines)
        calls.append("engines")

    monkeypatch.setattr(container.bus, "stop", bus_stop)
    monkeypatch.setattr(Engines, "dispose", engines_dispose)

    first = next(name for name in ORDER if name in fails)
    with pytest.raises(RuntimeError, match=f"^{first} would not stop$"):
        await container.shutdown()
    assert calls == ORDER
