"""A real Prometheus for tests, over data the test writes.

- `openmetrics(series)` writes counter samples as OpenMetrics text;
  `create_blocks(text, data_dir)` turns it into TSDB blocks with
  `promtool tsdb create-blocks-from openmetrics` (history at fixed, past data times).
- `PrometheusServer` starts `prometheus` on a free loopback port over such a data
  directory (optionally scraping targets; its configuration `<data dir>.yml` beside
  it, reloadable over HTTP with `lifecycle=True`), waits until it is ready, and stops it.
- `Exporter` is a tiny in-test `/metrics` endpoint Prometheus can scrape.
- `AlertmanagerServer` starts Alertmanager on a free loopback port with a configuration,
  takes alerts as Prometheus sends them and reads back their state (active, or suppressed
  and by which inhibiting alert).

The binaries are looked up on PATH (Debian's `prometheus` package brings both, and
`prometheus-alertmanager` brings `amtool` and the daemon of the same name). A missing binary fails the test run: these
tests are never skipped.
"""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pytest


# Debian's package of each binary (the rest: 'prometheus'); Debian names Alertmanager's
# daemon `prometheus-alertmanager`, upstream's archive `alertmanager`.
PACKAGES = {"amtool": "prometheus-alertmanager", "prometheus-alertmanager": "prometheus-alertmanager"}
ALIASES = {"prometheus-alertmanager": ("alertmanager",)}


def binary(name: str) -> str:
    path = next(filter(None, (shutil.which(n) for n in (name, *ALIASES.get(name, ())))), None)
    if path is None:
        package = PACKAGES.get(name, "prometheus")
        pytest.fail(f"{name!r} is not on PATH; install Debian's {package!r} package (.ci/run does)")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Counter:
    """One counter series: `name` is the family (without `_total`), samples are (unix s, value).

    A histogram's parts are counters too: family type "histogram", suffix "_bucket"
    (with an `le` label) or "_count"."""

    name: str
    labels: dict[str, str]
    samples: list[tuple[int, float]] = field(default_factory=list)
    suffix: str = "_total"
    family_type: str = "counter"


def cumulative(start_s: int, increments: list[int], *, reset_after: Iterable[int] = (),
               reset_inside: Iterable[int] = (), per_minute: int = 1) -> list[tuple[int, float]]:
    """Counter samples for per-minute increments from minute `start_s` on.

    A sample at every minute boundary (and `per_minute - 1` more inside each minute,
    the minute's increment spread evenly); without resets, the sample at boundary k
    holds the sum of the first k increments. A reset restarts the counter from zero
    just after a sample, so the next sample holds only what was counted since: for m
    in `reset_after` just after the boundary sample of minute m, for m in
    `reset_inside` just after the sample in the middle of minute m.
    """
    after, inside = set(reset_after), set(reset_inside)
    out: list[tuple[int, float]] = [(start_s, 0.0)]
    value = 0
    step = 60 // per_minute
    for m, inc in enumerate(increments):
        for j in range(1, per_minute + 1):
            if (j == 1 and m in after) or (m in inside and j == per_minute // 2 + 1):
                value = 0
            value += inc * j // per_minute - inc * (j - 1) // per_minute
            out.append((start_s + 60 * m + step * j, float(value)))
    return out


def openmetrics(series: Iterable[Counter]) -> str:
    by_family: dict[str, list[Counter]] = {}
    for s in series:
        by_family.setdefault(s.name, []).append(s)
    lines = []
    for family, members in by_family.items():
        lines.append(f"# TYPE {family} {members[0].family_type}")
        for s in members:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            labels = f"{{{labels}}}" if labels else ""
            for t, v in s.samples:
                lines.append(f"{family}{s.suffix}{labels} {'NaN' if v != v else f'{v:.17g}'} {t}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def create_blocks(text: str, data_dir: Path) -> None:
    """Write `text` (OpenMetrics) as TSDB blocks into `data_dir` with promtool."""
    data_dir.mkdir(parents=True, exist_ok=True)
    source = data_dir.parent / f"{data_dir.name}.om"
    source.write_text(text)
    # 24h blocks: a few big blocks load faster than many 2h ones.
    subprocess.run(
        [binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h", str(source), str(data_dir)],
        check=True, capture_output=True, timeout=120,
    )
    source.unlink()


def _await_ready(name: str, process: subprocess.Popen, url: str, log: Path, seconds: float = 30) -> None:
    """Until `url`/-/ready answers 200; a RuntimeError with the log's tail if the process exits
    or is not ready in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{name} was not ready in {seconds:g} s:\n{log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class PrometheusServer:
    """`prometheus` on 127.0.0.1:<free port> over `data_dir`; a context manager."""

    def __init__(self, data_dir: Path, *, scrape_targets: Iterable[str] = (), scrape_interval: str = "1s",
                 lifecycle: bool = False) -> None:
        self.data_dir = data_dir
        self.lifecycle = lifecycle  # --web.enable-lifecycle: POST /-/reload rereads the configuration
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        targets = list(scrape_targets)
        config = f"global:\n  scrape_interval: {scrape_interval}\n  evaluation_interval: {scrape_interval}\n"
        if targets:
            config += "scrape_configs:\n  - job_name: exporter\n    static_configs:\n      - targets: [" + ", ".join(f"'{t}'" for t in targets) + "]\n"
        self.config = data_dir.parent / f"{data_dir.name}.yml"
        self.config.write_text(config)
        self.log = data_dir.parent / f"{data_dir.name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "PrometheusServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    binary("prometheus"),
                    f"--config.file={self.config}",
                    f"--storage.tsdb.path={self.data_dir}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=100y",  # backfilled history is years behind the wall clock
                    *(["--web.enable-lifecycle"] if self.lifecycle else []),
                ],
                stdout=log, stderr=subprocess.STDOUT,
            )
        try:
            _await_ready("prometheus", self.process, self.url, self.log)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        _stop(self.process)
        self.process = None

    def __enter__(self) -> "PrometheusServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _QuietServer(http.server.ThreadingHTTPServer):
    """A scrape cut off because Prometheus stopped mid-request is expected at the end of a
    test: not worth a traceback in the suite's output. Any other error still prints."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Exporter:
    """A `/metrics` endpoint on a free loopback port serving `self.text` (settable)."""

    def __init__(self) -> None:
        self.text = ""
        self.scrapes = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 -- the stdlib's name
                body = outer.text.encode()
                outer.scrapes += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Exporter":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class AlertmanagerServer:
    """Alertmanager on 127.0.0.1:<free port> with `config`, no cluster; a context manager.
    `post` sends alerts as Prometheus would, `alerts` reads them back with their state."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.storage = config.parent / f"{config.stem}.data"
        self.log = config.parent / f"{config.stem}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "AlertmanagerServer":
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [binary("prometheus-alertmanager"), f"--config.file={self.config}", f"--storage.path={self.storage}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
                stdout=log, stderr=subprocess.STDOUT)
        try:
            _await_ready("alertmanager", self.process, self.url, self.log)
        except RuntimeError:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        _stop(self.process)
        self.process = None

    def post(self, alerts: list[dict[str, str]]) -> None:
        """Firing alerts with these label sets."""
        self.post_raw([{"labels": labels} for labels in alerts])

    def post_raw(self, alerts: list[dict]) -> None:
        """Alerts as the API takes them (labels, startsAt, endsAt, ...)."""
        body = json.dumps(alerts).encode()
        request = urllib.request.Request(f"{self.url}/api/v2/alerts", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.status == 200, r.read()

    def alerts(self) -> list[dict]:
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts", timeout=10) as r:
            return json.loads(r.read())


def alertmanager_config(snippet: str, default_receiver: str = "team-default") -> str:
    """A whole Alertmanager configuration holding a generated snippet as its README says to
    use it: the routes, comments and all, under the root route's `routes:`, the receivers
    under `receivers:` after the installation's own default receiver, and the inhibit rules
    under `inhibit_rules:`."""
    head, _, rest = snippet.partition("\nroutes:\n")
    routes, _, rest = rest.partition("\nreceivers:\n")
    receivers, _, inhibit = rest.partition("\ninhibit_rules:\n")
    assert routes and receivers and inhibit, "the snippet has routes:, receivers: and inhibit_rules: sections"
    indented = "".join(f"  {line}\n" if line else "\n" for line in (routes + "\n").splitlines())
    return (f"{head}\nroute:\n  receiver: {default_receiver}\n  routes:\n{indented}"
            f"receivers:\n- name: {default_receiver}\n{receivers}\ninhibit_rules:\n{inhibit}")


def amtool_check(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([binary("amtool"), "check-config", str(config)], capture_output=True, text=True, timeout=60)


def routed_to(config: Path, labels: dict[str, str], expected: str | None = None) -> subprocess.CompletedProcess:
    """`amtool config routes test` for an alert with `labels`: stdout names the receivers it
    reaches; with `expected`, the command fails unless that is the receiver."""
    verify = [] if expected is None else [f"--verify.receivers={expected}"]
    return subprocess.run([binary("amtool"), "config", "routes", "test", f"--config.file={config}", *verify,
                           *(f"{k}={v}" for k, v in sorted(labels.items()))], capture_output=True, text=True, timeout=60)
