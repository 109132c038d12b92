"""What a GraphQL operation may cost the server, estimated before it runs.

Depth, token and alias limits bound the text of a query, not its work: thirty aliases
of `auditIntegrity` each read the whole log. The cost of an operation is the sum over
its fields of

    own cost  x  how many times the field runs (the product of the list sizes above it)

* a field returning an object costs 1, a scalar or enum 0;
* a field that reads much (`EXPENSIVE`: the chain check, the report, a replay, a budget,
  a ledger, causation walks) costs its entry there instead, and an `asOf` given costs
  `AS_OF` more (a fold from a snapshot);
* a connection runs its selection `first` times (absent: its page cap); `edges` and
  `nodes` under it run once more per item, not again `first` times; any other list of
  objects counts as `LIST_SIZE` items.

An operation over `Settings.max_query_cost` (`SLOGOV_MAX_QUERY_COST`) is refused before
anything runs, with BAD_USER_INPUT, a message naming its cost and the limit, and both in
`extensions` (`cost`, `maxCost`). Fragments are expanded; both branches of a type
condition count (an upper bound).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterator, Mapping

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

BAD_USER_INPUT = "BAD_USER_INPUT"

# (type, field) -> own cost. The chain check and the report read the whole log or every
# read model; a replay folds the log up to a position; a budget reads a ledger.
EXPENSIVE: dict[tuple[str, str], int] = {
    ("Query", "auditIntegrity"): 10_000,
    ("Query", "leadershipReport"): 10_000,
    ("Query", "replayDeployDecision"): 5_000,
    ("Objective", "budget"): 10,
    ("Objective", "budgetLedger"): 10,
    ("Objective", "feasibility"): 5,
    ("Journey", "composite"): 10,
    ("AuditEvent", "causes"): 20,
    ("AuditEvent", "consequences"): 20,
    ("Subscription", "events"): 100,
}
AS_OF = 10
LIST_SIZE = 10
# Page caps of connections whose cap is not `Settings.max_page_size`.
PAGE_CAPS: dict[tuple[str, str], int] = {("Objective", "budgetLedger"): 1000}


class _Walk:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode],
                 variables: Mapping[str, Any], page_cap: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.page_cap = page_cap
        self.used_variables = False

    def selections(self, parent: Any, selection_set: SelectionSetNode | None,
                   spreading: frozenset[str] = frozenset()) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(on, selection.selection_set, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spreading:  # invalid documents never get here
                    continue
                on = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selections(on, fragment.selection_set, spreading | {name})
        return total

    def _argument(self, node: FieldNode, name: str) -> tuple[bool, Any]:
        for argument in node.arguments or ():
            if argument.name.value == name:
                value = argument.value
                if isinstance(value, VariableNode):
                    self.used_variables = True
                    return True, self.variables.get(value.name.value)
                if isinstance(value, NullValueNode):
                    return True, None
                if isinstance(value, IntValueNode):
                    return True, int(value.value)
                return True, value
        return False, None

    def field(self, parent: Any, node: FieldNode) -> int:
        name = node.name.value
        fields = getattr(parent, "fields", None)
        if name.startswith("__") or fields is None or name not in fields:
            return 0
        definition = fields[name]
        returned = get_named_type(definition.type)
        key = (parent.name, name)
        own = EXPENSIVE.get(key, 0 if is_leaf_type(returned) else 1)
        if "asOf" in definition.args:
            given, value = self._argument(node, "asOf")
            own += AS_OF if given and value is not None else 0
        if is_leaf_type(returned):
            return own
        return own + self._times(parent, definition, node) * self.selections(returned, node.selection_set)

    def _times(self, parent: Any, definition: Any, node: FieldNode) -> int:
        if "first" in definition.args:
            _, first = self._argument(node, "first")
            cap = PAGE_CAPS.get((parent.name, node.name.value), self.page_cap)
            return max(first, 0) if isinstance(first, int) else cap
        kind = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
        if isinstance(kind, GraphQLList):
            # A connection's page was counted on the connection field.
            return 1 if parent.name.endswith("Connection") else LIST_SIZE
        return 1


def operation_cost(schema: GraphQLSchema, document: Any, operation_name: str | None,
                   variables: Mapping[str, Any] | None, page_cap: int) -> tuple[int, bool]:
    """(cost, whether it depends on the variables) of the operation to run."""
    operation: OperationDefinitionNode | None = get_operation_ast(document, operation_name)
    if operation is None:
        return 0, False
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root = schema.get_root_type(operation.operation)
    walk = _Walk(schema, fragments, variables or {}, page_cap)
    return walk.selections(root, operation.selection_set), walk.used_variables


def cost_error(cost: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"This query would cost {cost:,} and the limit is {limit:,} (SLOGOV_MAX_QUERY_COST): ask for "
        "fewer items (first), fewer aliases or fewer expensive fields (auditIntegrity, leadershipReport, "
        "replayDeployDecision, budgets and ledgers)",
        extensions={"code": BAD_USER_INPUT, "cost": cost, "maxCost": limit},
    )


class QueryCostLimiter(SchemaExtension):
    """Refuse an operation whose cost is over `max_cost` before it runs.

    Put it after strawberry's ``ValidationCache``: its ``on_validate`` runs once the
    document is known valid, and an error it sets is reported as a validation error.
    Costs that do not depend on variables are kept per query text.
    """

    def __init__(self, max_cost: int, page_cap: int, cache: "OrderedDict[tuple[str, str | None], int]") -> None:
        super().__init__()
        self.max_cost = max_cost
        self.page_cap = page_cap
        self._cache = cache

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if not context.pre_execution_errors and context.graphql_document is not None:
            cost = self._cost(context)
            if cost > self.max_cost:
                context.pre_execution_errors = [cost_error(cost, self.max_cost)]
        yield

    def _cost(self, context: Any) -> int:
        key = (context.query or "", context.operation_name)
        cost = self._cache.get(key)
        if cost is not None:
            return cost
        cost, varies = operation_cost(context.schema._schema, context.graphql_document, context.operation_name,
                                      context.variables, self.page_cap)
        if not varies and context.query:
            self._cache[key] = cost
            while len(self._cache) > 256:
                self._cache.popitem(last=False)
        return cost


__all__ = ["AS_OF", "EXPENSIVE", "LIST_SIZE", "QueryCostLimiter", "operation_cost"]
