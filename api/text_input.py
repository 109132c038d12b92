"""The text rule (``domain.text``) at the API's edge, for every string a request carries.

GraphQL: ``TextInputExtension`` looks, once the document is valid and before anything
runs, at every string in the variables and every string literal in the document
(arguments, input objects, lists, defaults), whatever field it is for: ids, names,
filters, idempotency keys, policy documents. The first one the rule refuses answers
BAD_USER_INPUT naming where it was (``input.name``, ``objective.id``), before a
resolver or the database sees it. The JSON gate route calls ``check_texts`` on its body.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from graphql import GraphQLError
from graphql.language import (
    ArgumentNode,
    FieldNode,
    ListValueNode,
    Node,
    ObjectFieldNode,
    StringValueNode,
    VariableDefinitionNode,
)
from strawberry.extensions import SchemaExtension

from api.errors import BAD_USER_INPUT
from domain.text import problem, strings_in


def _literals(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, value) for every string literal under `node`: `field.argument.key[n]`."""
    if isinstance(node, StringValueNode):
        yield path, node.value
        return
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _literals(item, path)
        return
    if isinstance(node, ListValueNode):
        for n, item in enumerate(node.values):
            yield from _literals(item, f"{path}[{n}]")
        return
    if not isinstance(node, Node):
        return
    if isinstance(node, FieldNode):
        path = node.name.value
    elif isinstance(node, (ArgumentNode, ObjectFieldNode)):
        path = f"{path}.{node.name.value}" if path else node.name.value
    elif isinstance(node, VariableDefinitionNode):
        path = node.variable.name.value
    for key in node.keys:
        if key not in ("loc", "name", "alias"):
            yield from _literals(getattr(node, key, None), path)


def _plainly_clean(variables: Any) -> bool:
    """True when no string in `variables` can break the rule, judged from orjson's output in
    C: it escapes every C0 control (so no backslash means none), writes DEL and the C1
    controls raw (0x7F; 0xC2 0x80-0x9F in UTF-8) and refuses lone surrogates. A push of a
    thousand intervals is judged in a millisecond this way, not in tens walking it."""
    try:
        out = orjson.dumps(variables)
    except (TypeError, orjson.JSONEncodeError):
        return False
    return b"\\" not in out and b"\x7f" not in out and b"\xc2" not in out


def first_problem(variables: Any, document: Any, source: str | None = None) -> tuple[str, str] | None:
    """(where, why) for the first refused string of a request, or None. `source`, the
    document's text: without a backslash or a refused character its literals are clean."""
    sources = []
    if variables and not _plainly_clean(variables):
        sources.append(strings_in(variables, ""))
    if document is not None and (source is None or "\\" in source or problem(source) is not None):
        sources.append(_literals(document.definitions, ""))
    for found in sources:
        for where, text in found:
            why = problem(text)
            if why is not None:
                return where, why
    return None


class TextInputExtension(SchemaExtension):
    """Refuse a request whose strings break the text rule, before execution.

    Put it after ``ValidationCache``: strawberry judges the errors inside the validation
    hooks, so they are set before this yields, on the cache's verdict (an invalid
    document keeps its own errors; without a cache, this verdict comes first).
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors:
            found = first_problem(context.variables, context.graphql_document, context.query)
            if found is not None:
                where, why = found
                # A new list: the validation cache holds the one it set.
                context.pre_execution_errors = [
                    GraphQLError(f"{where} {why}", extensions={"code": BAD_USER_INPUT, "field": where})
                ]
        yield


__all__ = ["TextInputExtension", "first_problem"]
