"""Labels and annotations on journeys and objectives: what a spec's metadata carries.

Labels are for selecting (list filters, naming conventions, rule and export labels);
annotations are free notes kept as they came (OpenSLO `metadata.annotations`).

  label key    Kubernetes' syntax, which also covers Prometheus label names: an optional
               DNS-subdomain prefix and "/", then a name of 1-63 characters, letters,
               digits, '-', '_' and '.', beginning and ending with a letter, digit or '_'
               (`team`, `tier_1`, `openslo.com/owner`).
  label value  1-253 characters of text, no control characters, no surrounding whitespace.
               A key may carry several values: OpenSLO writes a label as a string or a
               list of strings, and slogov keeps both. Kubernetes and Prometheus each read
               one value: a single-valued label is the usual case.
  annotation   a key as above, any text as value (up to 4,096 characters; tab and newline
               allowed, other control characters refused as everywhere).

Normal form (events and state): keys sorted, each key's values sorted and unique, so the
same labels sent in another order are the same data and a resend appends nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from domain.errors import InvalidInput
from domain.text import check_text

MAX_LABELS = 64  # key-value pairs on one journey or objective
MAX_ANNOTATIONS = 64
VALUE_MAX_LENGTH = 253
ANNOTATION_MAX_LENGTH = 4096
_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_NAME = re.compile(r"[A-Za-z0-9_]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9_])?")
# Any control character, in a label (annotations allow tab and newline: domain.text).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, order=True)
class Label:
    key: str
    value: str


@dataclass(frozen=True, order=True)
class Annotation:
    key: str
    value: str


def check_key(key: Any, field: str) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidInput(f"{field}: a label key must be a non-empty string", field=field)
    check_text(key, field)
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not _PREFIX.fullmatch(prefix)):
        raise InvalidInput(
            f"{field}: the prefix of {key!r} must be a DNS subdomain (lower-case letters, digits, '-' and '.')",
            field=field,
        )
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"{field}: {key!r} is not a label key: a name of 1-63 letters, digits, '-', '_' and '.', "
            "beginning and ending with a letter, digit or '_', after an optional 'prefix/'",
            field=field,
        )
    return key


def check_value(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{field}: a label value must be a non-empty string", field=field)
    check_text(value, field)
    if _CONTROL.search(value):
        raise InvalidInput(f"{field}: a label value may not contain a control character", field=field)
    if value != value.strip():
        raise InvalidInput(f"{field}: a label value may not begin or end with whitespace", field=field)
    if len(value) > VALUE_MAX_LENGTH:
        raise InvalidInput(f"{field}: a label value is at most {VALUE_MAX_LENGTH} characters", field=field)
    return value


def labels_data(labels: Any, field: str = "labels") -> dict[str, list[str]]:
    """Labels as event data, {key: [values, sorted]} with keys sorted, from Label pairs or
    a mapping of key to a value or a list of values."""
    pairs: list[tuple[str, str]] = []
    if labels is None:
        return {}
    if isinstance(labels, Mapping):
        for key, values in labels.items():
            for value in ([values] if isinstance(values, str) else values):
                pairs.append((key, value))
    elif isinstance(labels, Iterable) and not isinstance(labels, (str, bytes)):
        for n, item in enumerate(labels):
            if not isinstance(item, Label):
                raise InvalidInput(f"{field}[{n}] must be a label (key and value)", field=f"{field}[{n}]")
            pairs.append((item.key, item.value))
    else:
        raise InvalidInput(f"{field} must be a list of labels", field=field)
    out: dict[str, set[str]] = {}
    for n, (key, value) in enumerate(pairs):
        out.setdefault(check_key(key, f"{field}[{n}].key"), set()).add(check_value(value, f"{field}[{n}].value"))
    if sum(len(v) for v in out.values()) > MAX_LABELS:
        raise InvalidInput(f"{field} may hold at most {MAX_LABELS} key-value pairs", field=field)
    return {key: sorted(out[key]) for key in sorted(out)}


def annotations_data(annotations: Any, field: str = "annotations") -> dict[str, str]:
    """Annotations as event data, {key: value} with keys sorted; a key given twice is refused."""
    if annotations is None:
        return {}
    if isinstance(annotations, Mapping):
        pairs = list(annotations.items())
    elif isinstance(annotations, Iterable) and not isinstance(annotations, (str, bytes)):
        pairs = []
        for n, item in enumerate(annotations):
            if not isinstance(item, Annotation):
                raise InvalidInput(f"{field}[{n}] must be an annotation (key and value)", field=f"{field}[{n}]")
            pairs.append((item.key, item.value))
    else:
        raise InvalidInput(f"{field} must be a list of annotations", field=field)
    out: dict[str, str] = {}
    for n, (key, value) in enumerate(pairs):
        check_key(key, f"{field}[{n}].key")
        if key in out:
            raise InvalidInput(f"{field}[{n}].key: {key!r} is given twice", field=f"{field}[{n}].key")
        if not isinstance(value, str):
            raise InvalidInput(f"{field}[{n}].value must be text", field=f"{field}[{n}].value")
        if len(value) > ANNOTATION_MAX_LENGTH:
            raise InvalidInput(f"{field}[{n}].value is at most {ANNOTATION_MAX_LENGTH} characters",
                               field=f"{field}[{n}].value")
        out[key] = check_text(value, f"{field}[{n}].value")
    if len(out) > MAX_ANNOTATIONS:
        raise InvalidInput(f"{field} may hold at most {MAX_ANNOTATIONS} annotations", field=field)
    return dict(sorted(out.items()))


def labels_of(data: Mapping[str, Any] | None) -> tuple[Label, ...]:
    """Event data (a mapping key -> values) to the state's sorted pairs."""
    return tuple(Label(k, v) for k in sorted(data or {}) for v in sorted(data[k]))


def annotations_of(data: Mapping[str, str] | None) -> tuple[Annotation, ...]:
    return tuple(Annotation(k, v) for k, v in sorted((data or {}).items()))


def matches(labels: Iterable[Label], selectors: Iterable[tuple[str, str | None]]) -> bool:
    """True when every selector holds: (key, value) needs that pair, (key, None) the key."""
    have = {(x.key, x.value) for x in labels}
    keys = {k for k, _ in have}
    return all((key, value) in have if value is not None else key in keys for key, value in selectors)
