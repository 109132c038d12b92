"""The neutral spec model: what an OpenSLO or Sloth file says, in one typed, frozen form.

Readers (`openslo.py`, `sloth.py`) produce it; the exporter (`openslo_export.py`) renders
it; `check.py` validates it. It is normalised so that equal meaning is equal data:
an SLI, alert condition or notification target written inline is hoisted into the set
under its own name and referred to by name; collections are sorted by name; labels and
annotations are sorted; free-form `spec` blocks are frozen mappings. So "render, read back,
render" gives the same bytes, and an unchanged file read twice gives an equal SpecSet.

How it maps to slogov (the import that turns it into commands comes later):

  Service            a journey with the service as its one critical dependency, "a service
                     of one". A journey is what slogov negotiates and a dependency what the
                     deploy gate judges; an OpenSLO Service is both at once. Journeys with
                     several dependencies stay slogov's own, and an import never merges
                     services into one (OpenSLO has no such grouping to read it from).
  SLO + Objective    one slogov objective per OpenSLO objective, each named (displayName),
                     with its own target and budget: an internal target beside the SLA's is
                     two objectives of one SLO. The target is a proposal, never an agreement.
  SLI                the objective's SLI definition (ratio: good or bad over total, or a
                     precomputed ratio; threshold: a metric compared with op/value). Where
                     the source is Prometheus the queries are PromQL.
  DataSource         a source (name, kind, URL). Connection details other than the URL are
                     never carried: slogov stores no secrets.
  AlertPolicy + AlertCondition   a burn-rate tier: severity, threshold (the rate), lookback
                     (the long window), an optional short window, alertAfter.
  AlertNotificationTarget        where a tier's alerts go (carried as data).
  labels, annotations            kept on journeys and objectives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator, Mapping

from domain.budget.calendar import CalendarWindow, Duration


BUDGETING_METHODS = ("Occurrences", "Timeslices", "RatioTimeslices")
OPERATORS = ("lt", "lte", "gt", "gte")
RAW_TYPES = ("success", "failure")
# The metric source type of good and total counts pushed to slogov (recordObservations):
# measured without a query, so no data source is needed.
PUSHED = "slogov"

Labels = tuple[tuple[str, tuple[str, ...]], ...]
Annotations = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Where:
    """A place in a spec file: file, document (from 1), field path, line (from 1)."""

    file: str
    document: int
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}: document {self.document}, {self.path or '(document)'} (line {self.line})"


@dataclass(frozen=True, slots=True)
class Params:
    """A free-form YAML mapping, frozen: sorted (key, value) pairs; nested mappings are
    Params and lists tuples."""

    items: tuple[tuple[str, Any], ...] = ()

    @staticmethod
    def of(value: Mapping[str, Any]) -> "Params":
        return Params(tuple(sorted((k, _freeze(v)) for k, v in value.items())))

    def get(self, key: str, default: Any = None) -> Any:
        return next((v for k, v in self.items if k == key), default)

    def to_plain(self) -> dict[str, Any]:
        return {k: _thaw(v) for k, v in self.items}


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return Params.of(value)
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Params):
        return value.to_plain()
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Meta:
    name: str
    display_name: str | None = None
    labels: Labels = ()
    annotations: Annotations = ()
    origin: Where | None = field(default=None, compare=False, repr=False)  # where it was read


@dataclass(frozen=True, slots=True)
class Service:
    meta: Meta
    description: str | None = None


@dataclass(frozen=True, slots=True)
class DataSource:
    meta: Meta
    type: str
    description: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class MetricSource:
    source_ref: str | None  # a DataSource's name
    type: str | None  # e.g. Prometheus; inferred from the DataSource when only the ref is given
    spec: Params = Params()

    @property
    def query(self) -> str | None:
        query = self.spec.get("query")
        return query if isinstance(query, str) else None


@dataclass(frozen=True, slots=True)
class RatioMetric:
    counter: bool | None = None
    good: MetricSource | None = None
    bad: MetricSource | None = None
    total: MetricSource | None = None
    raw: MetricSource | None = None
    raw_type: str | None = None  # success | failure, with raw

    def sources(self) -> Iterator[tuple[str, MetricSource]]:
        for part in ("good", "bad", "total", "raw"):
            source = getattr(self, part)
            if source is not None:
                yield part, source


@dataclass(frozen=True, slots=True)
class Sli:
    meta: Meta
    description: str | None = None
    ratio: RatioMetric | None = None
    threshold: MetricSource | None = None

    def sources(self) -> Iterator[tuple[str, MetricSource]]:
        if self.threshold is not None:
            yield "thresholdMetric", self.threshold
        if self.ratio is not None:
            yield from ((f"ratioMetric.{part}", s) for part, s in self.ratio.sources())


@dataclass(frozen=True, slots=True)
class TimeWindow:
    duration: Duration
    rolling: bool
    start: datetime | None = None  # calendar only: a wall-clock time in `zone`
    zone: str | None = None
    origin: Where | None = field(default=None, compare=False, repr=False)  # where it was read

    def calendar(self) -> CalendarWindow:
        if self.rolling or self.start is None or self.zone is None:
            raise ValueError("a rolling window has no calendar")
        return CalendarWindow(self.duration, self.start, self.zone)


@dataclass(frozen=True, slots=True)
class Objective:
    name: str
    target: float
    op: str | None = None  # threshold SLIs: the SLI's value compared with `value`
    value: float | None = None
    time_slice_target: float | None = None  # Timeslices: a slice is good when its ratio meets this
    time_slice_window: Duration | None = None  # Timeslices and RatioTimeslices: the slice length
    composite_weight: float | None = None
    sli_ref: str | None = None  # composite SLOs: this objective's own SLI
    labels: Labels = ()
    origin: Where | None = field(default=None, compare=False, repr=False)  # where it was read


@dataclass(frozen=True, slots=True)
class Slo:
    meta: Meta
    service: str
    sli_ref: str | None
    budgeting: str
    objectives: tuple[Objective, ...]
    window: TimeWindow | None = None
    description: str | None = None
    alert_policies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertCondition:
    """A burn-rate condition: alert when the burn rate over `lookback` (and, when given,
    over `short_window` too, the workbook's multiwindow form) compares by `op` with
    `threshold` for `alert_after`."""

    meta: Meta
    severity: str
    op: str
    threshold: float
    lookback: Duration
    alert_after: Duration | None  # None: at once (OpenSLO's 0m)
    short_window: Duration | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    meta: Meta
    conditions: tuple[str, ...]
    targets: tuple[str, ...] = ()
    when_breaching: bool = True
    when_resolved: bool = False
    when_no_data: bool = False
    description: str | None = None


@dataclass(frozen=True, slots=True)
class NotificationTarget:
    meta: Meta
    target: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class NotCarried:
    """A field that was read but has no place in the model (an alpha-version field, a
    connection secret, a Sloth plugin): reported, never silently dropped."""

    where: Where
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: not carried: {self.reason}"


@dataclass(frozen=True, slots=True)
class SpecSet:
    services: tuple[Service, ...] = ()
    data_sources: tuple[DataSource, ...] = ()
    slis: tuple[Sli, ...] = ()
    slos: tuple[Slo, ...] = ()
    alert_conditions: tuple[AlertCondition, ...] = ()
    alert_policies: tuple[AlertPolicy, ...] = ()
    notification_targets: tuple[NotificationTarget, ...] = ()
    not_carried: tuple[NotCarried, ...] = field(default=(), compare=False)

    def sli(self, name: str) -> Sli | None:
        return next((s for s in self.slis if s.meta.name == name), None)

    def data_source(self, name: str) -> DataSource | None:
        return next((s for s in self.data_sources if s.meta.name == name), None)


@dataclass(frozen=True, slots=True)
class SloProvenance:
    agreements: tuple[tuple[str, str], ...] = ()  # (objective name, agreement id)
    policy_version: int | None = None


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where an export comes from: a log position, its chain hash, and per SLO the agreements."""

    position: int
    chain_hash: str
    slos: Mapping[str, SloProvenance] = field(default_factory=dict)  # by SLO name
