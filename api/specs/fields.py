"""Reading one YAML mapping's fields: each read once, required ones named when missing,
and what nobody read reported -- an error in a strict version (a typo in `openslo/v1`
must not pass unnoticed), "not carried" in an alpha version whose extra fields slogov
cannot keep."""

from __future__ import annotations

from datetime import date, datetime
from difflib import get_close_matches
from typing import Any

from domain.budget.calendar import Duration, parse_duration
from domain.budget.errors import BudgetInputError

from .builder import Builder
from domain.specs.model import Annotations, Labels, Meta
from .yaml_source import Item, SpecError


class Fields:
    def __init__(self, item: Item, builder: Builder, *, strict: bool) -> None:
        self.item = item
        self.builder = builder
        self.strict = strict
        self._fields = item.mapping()
        self._used: set[str] = set()

    def has(self, key: str) -> bool:
        return self.opt(key) is not None

    def opt(self, key: str) -> Item | None:
        self._used.add(key)
        found = self._fields.get(key)
        return None if found is None or found.is_null else found

    def req(self, key: str) -> Item:
        found = self.opt(key)
        if found is None:
            raise self.missing(key)
        return found

    def missing(self, key: str) -> SpecError:
        error = self.item.missing(key)
        near = get_close_matches(key, [k for k in self._fields if k not in self._used], n=1)
        if near:  # most often a typo: say which field was meant
            return SpecError(error.where, f"{error.message} (is {near[0]!r} a misspelling of it?)")
        return error

    def text(self, key: str) -> str | None:
        found = self.opt(key)
        return None if found is None else found.text()

    def number(self, key: str) -> float | None:
        found = self.opt(key)
        return None if found is None else found.number()

    def boolean(self, key: str, default: bool | None = None) -> bool | None:
        found = self.opt(key)
        return default if found is None else found.boolean()

    def duration(self, key: str) -> Duration | None:
        found = self.opt(key)
        return None if found is None else duration_at(found)

    def choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        found = self.opt(key)
        if found is None:
            return None
        value = found.scalar()
        if value not in choices:
            raise found.error(f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def skip(self, key: str) -> None:
        """A field read elsewhere (e.g. `kind`, checked by the dispatcher)."""
        self._used.add(key)

    def done(self) -> None:
        for key, value in self._fields.items():
            if key in self._used:
                continue
            if self.strict:
                raise value.error("unknown field")
            self.builder.drop(value, "this field has no place in slogov's model")


def duration_at(item: Item) -> Duration:
    try:
        return parse_duration(item.scalar())
    except BudgetInputError as e:
        raise item.error(e.message) from None


def fraction_at(item: Item, *, low_open: bool = True, high_open: bool = True) -> float:
    value = item.number()
    ok = (0 < value if low_open else 0 <= value) and (value < 1 if high_open else value <= 1)
    if not ok:
        low, high = "(" if low_open else "[", ")" if high_open else "]"
        raise item.error(f"must lie in {low}0, 1{high}, got {value!r}")
    return float(value)


def wall_clock(item: Item) -> datetime:
    """OpenSLO's calendar start: '2020-01-21 12:30:00', no zone (YAML may read it as a timestamp)."""
    value = item.scalar()
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise item.error(f"expected a date and time like 2020-01-21 12:30:00, got {value!r}") from None
    else:
        raise item.error(f"expected a date and time like 2020-01-21 12:30:00, got {value!r}")
    if parsed.tzinfo is not None:
        raise item.error("the start time takes no zone offset: the zone is timeZone")
    return parsed


def meta_of(fields: Fields, key: str = "metadata") -> Meta:
    meta = Fields(fields.req(key), fields.builder, strict=fields.strict)
    result = Meta(
        name=meta.req("name").text(),
        display_name=meta.text("displayName"),
        labels=labels_at(meta.opt("labels")),
        annotations=annotations_at(meta.opt("annotations")),
        origin=fields.item.where,
    )
    meta.skip("namespace")  # Kubernetes placement: the name is what names the object here
    meta.done()
    return result


def labels_at(item: Item | None) -> Labels:
    """OpenSLO labels: a value is a string or a list of strings."""
    if item is None:
        return ()
    out = []
    for key, value in item.mapping().items():
        if value.is_sequence:
            values = tuple(str(v.text()) for v in value.sequence())
        else:
            values = (str(_label_scalar(value)),)
        out.append((key, tuple(sorted(set(values)))))
    return tuple(sorted(out))


def _label_scalar(item: Item) -> Any:
    value = item.scalar()
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise item.error(f"a label value is a string or a list of strings, got {value!r}")
    return value


def annotations_at(item: Item | None) -> Annotations:
    if item is None:
        return ()
    return tuple(sorted((k, str(_label_scalar(v))) for k, v in item.mapping().items()))
