"""YAML read with its places: every value knows its file, document, field path and line.

PyYAML's composer keeps a mark (line, column) on every node; the spec readers walk those
nodes instead of plain dicts, so an error says `slos/checkout.yaml: document 2,
spec.objectives[0].target (line 14): ...`. A file holds several documents (`---`), and a
document may be one object or a YAML list of objects (the form `kubectl get -o yaml` and
many repositories use); a list item's path starts with its index, `[3].spec...`.
Documents and lines count from 1, list indices from 0, as editors and YAML show them.

Duplicate keys are errors (PyYAML would silently keep the last one).
"""

from __future__ import annotations

from typing import Any, Iterator

import yaml
from yaml.constructor import SafeConstructor

from domain.specs.model import Where


class SpecError(ValueError):
    """One error in a spec file, with where it is."""

    def __init__(self, where: Where, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


class SpecErrors(ValueError):
    """Every error found in one read (each document's first), so a user fixes them in one go."""

    def __init__(self, errors: list[SpecError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = tuple(errors)


def child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


_SCALARS = SafeConstructor()


class Item:
    """A YAML node and its place."""

    __slots__ = ("node", "file", "document", "path")

    def __init__(self, node: yaml.Node, file: str, document: int, path: str = "") -> None:
        self.node = node
        self.file = file
        self.document = document
        self.path = path

    @property
    def where(self) -> Where:
        return Where(self.file, self.document, self.path, self.node.start_mark.line + 1)

    def error(self, message: str) -> SpecError:
        return SpecError(self.where, message)

    def missing(self, key: str) -> SpecError:
        """An error for a field this mapping lacks, placed at the mapping."""
        return SpecError(Where(self.file, self.document, child_path(self.path, key), self.node.start_mark.line + 1),
                         "required field is missing")

    def at(self, node: yaml.Node, key: str | int) -> "Item":
        return Item(node, self.file, self.document, child_path(self.path, key))

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.node, yaml.MappingNode)

    @property
    def is_sequence(self) -> bool:
        return isinstance(self.node, yaml.SequenceNode)

    @property
    def is_null(self) -> bool:
        return isinstance(self.node, yaml.ScalarNode) and self.node.tag == "tag:yaml.org,2002:null"

    def mapping(self) -> dict[str, "Item"]:
        if not self.is_mapping:
            raise self.error("expected a mapping")
        out: dict[str, Item] = {}
        for key_node, value_node in self.node.value:
            key = _SCALARS.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise Item(key_node, self.file, self.document, self.path).error("mapping keys must be strings")
            if key in out:
                raise self.at(key_node, key).error("duplicate key")
            out[key] = self.at(value_node, key)
        return out

    def sequence(self) -> list["Item"]:
        if not self.is_sequence:
            raise self.error("expected a list")
        return [self.at(node, i) for i, node in enumerate(self.node.value)]

    def scalar(self) -> Any:
        if not isinstance(self.node, yaml.ScalarNode):
            raise self.error("expected a single value")
        return _SCALARS.construct_object(self.node)

    def text(self) -> str:
        value = self.scalar()
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"expected a non-empty string, got {value!r}")
        return value

    def number(self) -> float:
        value = self.scalar()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise self.error(f"expected a number, got {value!r}")
        return value

    def boolean(self) -> bool:
        value = self.scalar()
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, got {value!r}")
        return value

    def plain(self) -> Any:
        """The value as plain Python (dicts, lists, scalars), checked for duplicate keys."""
        if self.is_mapping:
            return {k: v.plain() for k, v in self.mapping().items()}
        if self.is_sequence:
            return [v.plain() for v in self.sequence()]
        return self.scalar()


def documents(text: str, file: str) -> Iterator[Item]:
    """Each object in the text: one per document, or one per item of a document's list."""
    index = 0
    try:
        for node in yaml.compose_all(text, Loader=yaml.SafeLoader):
            index += 1
            root = Item(node, file, index)
            if root.is_null:
                continue  # an empty document (a trailing `---`)
            if root.is_sequence:
                yield from root.sequence()
            else:
                yield root
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 0
        raise SpecError(Where(file, index + 1, "", line), f"not valid YAML: {e.problem or e}") from None
