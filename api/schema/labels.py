"""Labels and annotations in the API (domain.labels): their types, inputs and the
label selectors the journey and objective list filters take."""

from __future__ import annotations

from typing import Any, Iterable

import strawberry

from domain.labels import Annotation as DomainAnnotation
from domain.labels import Label as DomainLabel


@strawberry.type(description="A label: one key-value pair. A key may carry several values (OpenSLO's list form).")
class Label:
    key: str
    value: str


@strawberry.type(description="An annotation: a free note kept as it came (OpenSLO metadata.annotations).")
class Annotation:
    key: str
    value: str


@strawberry.input(
    description="A label to set. Key: an optional DNS-subdomain prefix and '/', then 1-63 letters, digits, "
    "'-', '_' and '.', beginning and ending with a letter, digit or '_'. Value: 1-253 characters, no control "
    "characters, no surrounding whitespace. The same key twice gives it several values."
)
class LabelInput:
    key: str
    value: str


@strawberry.input(description="An annotation to keep: a key as a label's, any text up to 4,096 characters.")
class AnnotationInput:
    key: str
    value: str


@strawberry.input(description="Matches when the label is present: with a value, that key-value pair; without, "
                               "the key with any value. Several selectors must all match.")
class LabelSelector:
    key: str
    value: str | None = None


def domain_labels(labels: Iterable[LabelInput] | None) -> tuple[DomainLabel, ...]:
    return tuple(DomainLabel(x.key, x.value) for x in labels or ())


def domain_annotations(annotations: Iterable[AnnotationInput] | None) -> tuple[DomainAnnotation, ...]:
    return tuple(DomainAnnotation(x.key, x.value) for x in annotations or ())


def selectors(labels: Iterable[LabelSelector] | None) -> tuple[tuple[str, str | None], ...]:
    return tuple((x.key, x.value) for x in labels or ())


def labels_out(labels: Iterable[Any]) -> list[Label]:
    return [Label(key=x.key, value=x.value) for x in labels]


def annotations_out(annotations: Iterable[Any]) -> list[Annotation]:
    return [Annotation(key=x.key, value=x.value) for x in annotations]
