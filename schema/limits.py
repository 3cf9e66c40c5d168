"""Query cost limits (api.md *Limits*): what one document may ask for, refused before it runs.

Four limits, all from ``Settings.query_limits``:

* **tokens** — the parser stops past ``max_tokens`` lexical tokens (comments count too), so a huge
  document costs no more than that to reject;
* **depth** — fields on the longest path from the root to a leaf: ``{ me { id } }`` is 2 deep.
  An introspection root field (``__schema``, ``__type``) counts as one level whatever it selects:
  its shape is fixed by the schema, not by data, and graphql-core's introspection nesting rule
  refuses the cyclic ``fields { type { fields … } }`` documents that would blow up (here with
  our code too, as limit ``introspectionDepth``);
* **aliases** — every aliased field, a fragment's counted once per spread;
* **complexity** — an estimate of the fields resolved. Each field costs 1; a list field multiplies
  what it selects by its length: the page size of a field taking ``first`` (``min(first,
  max_page_size)``, from the literal, the variable or the argument's default; on a connection it
  sizes the lists directly inside it, ``edges``), the size a field declares (``LIST_SIZE`` in its
  metadata) or ``ASSUMED_LIST_SIZE`` for the other lists (``tasks``, ``comments``, ``members``…),
  ``INTROSPECTION_LIST_SIZE`` for introspection's own. Federation's ``_entities`` resolves one
  entity per representation it is sent, so its list counts as long as ``representations`` is;
* **representations** — at most ``max_representations`` in one ``_entities`` call, however
  cheap each: every one is a key lookup and a visibility check before anything is selected.
  Fragments (named and inline) count where they are spread, every branch of an abstract type
  counts, and ``@skip``/``@include`` are ignored: the estimate is of what the document *may* ask
  for, so it cannot be gamed by a variable, and it stays one cheap walk.

Depth, aliases and complexity are measured in one walk per operation, with each named fragment
measured once (per page size), before graphql-core's validation: a refused document costs
neither validation nor execution, and the walk itself tolerates what validation would refuse
(unknown fields and fragments, fragment cycles). Refusals are top-level errors without a path,
``extensions = {code: QUERY_LIMIT_EXCEEDED, limit, max, actual}`` (no ``actual`` for tokens: the
parser stops counting at the limit).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeGuard

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from graphql.validation import ASTValidationRule, MaxIntrospectionDepthRule
from strawberry.extensions import MaxTokensLimiter

from casegraph._compat.graphql_core_validation import INTROSPECTION_LIST_DEPTH
from casegraph._compat.strawberry_schema import graphql_schema
from casegraph.services.case_queries import DEFAULT_PAGE
from casegraph.settings import QueryLimits

QUERY_LIMIT_EXCEEDED: Final = "QUERY_LIMIT_EXCEEDED"

# Lists without a size argument (a case's tasks, comments and work notes, a group's members):
# most hold a handful of items, a few dozen at most; ten keeps a dashboard row's lists affordable
# while a list nested in a list of a list still adds up fast.
ASSUMED_LIST_SIZE: Final = 10
# Introspection lists (types, fields, args…) are the schema itself, the same for every client.
# Five keeps the full introspection query (GraphiQL's) near 8,000, well inside the default
# budget, while aliases repeating introspection lists still add up.
INTROSPECTION_LIST_SIZE: Final = 5
# Estimates saturate here: a refused document need not be priced exactly, and numbers stay small.
COST_CEILING: Final = 10**12

INTROSPECTION_ROOTS: Final = frozenset({"__schema", "__type"})
PAGE_ARGUMENT: Final = "first"
# A list field that is long by nature, without a `first` (a year of daily buckets), declares its
# length: ``strawberry.field(metadata={LIST_SIZE: 366})``; the estimate then uses it.
LIST_SIZE: Final = "casegraph.list_size"
_STRAWBERRY_FIELD: Final = "strawberry-definition"
# Federation's entity lookup on the query root, and the argument whose length sizes its list.
ENTITIES_FIELD: Final = "_entities"
REPRESENTATIONS_ARGUMENT: Final = "representations"


def limit_exceeded(limit: str, maximum: int, actual: int | None, message: str, nodes: Any = None) -> GraphQLError:
    extensions: dict[str, Any] = {"code": QUERY_LIMIT_EXCEEDED, "limit": limit, "max": maximum}
    if actual is not None:
        extensions["actual"] = actual
    return GraphQLError(f"Query limit exceeded: {message}", nodes, extensions=extensions)


@dataclass(frozen=True, slots=True)
class Measure:
    """Of one operation: its depth, its aliases, its estimated cost (fields resolved) and the
    longest representations list of its ``_entities`` calls."""

    depth: int
    aliases: int
    complexity: int
    representations: int = 0


# (depth, aliases, cost): tuples, not Measures, inside the walk — it runs on every request.
_Sizes = tuple[int, int, int]
_NOTHING: Final[_Sizes] = (0, 0, 0)


class _Walk:
    """Measures the operations of one document, given the request's variables."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        max_page_size: int,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.max_page_size = max_page_size
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.defaults: dict[str, ValueNode] = {}
        self.measured: dict[tuple[str, int | None], _Sizes] = {}
        self.entered: set[str] = set()
        self.representations = 0

    def operation(self, operation: OperationDefinitionNode) -> Measure:
        # A variable's default belongs to its operation, so fragment measures do too.
        self.defaults = {
            d.variable.name.value: d.default_value
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        }
        self.measured = {}
        self.representations = 0
        root = {
            OperationType.QUERY: self.schema.query_type,
            OperationType.MUTATION: self.schema.mutation_type,
            OperationType.SUBSCRIPTION: self.schema.subscription_type,
        }[operation.operation]
        depth, aliases, cost = self.selections(operation.selection_set, root, None)
        return Measure(depth=depth, aliases=aliases, complexity=cost, representations=self.representations)

    def selections(self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, page: int | None) -> _Sizes:
        """``page``: the size of a connection's lists (its ``first``), for the lists right inside it."""
        depth = aliases = cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                d, a, c = self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = parent if condition is None else self.schema.get_type(condition.name.value)
                d, a, c = self.selections(selection.selection_set, on, page)
            elif isinstance(selection, FragmentSpreadNode):
                d, a, c = self.spread(selection.name.value, page)
            else:  # pragma: no cover - the three kinds of selection
                continue
            depth = max(depth, d)
            aliases += a
            cost += c
        return depth, aliases, min(cost, COST_CEILING)

    def spread(self, name: str, page: int | None) -> _Sizes:
        key = (name, page)
        known = self.measured.get(key)
        if known is not None:
            return known
        fragment = self.fragments.get(name)
        if fragment is None or name in self.entered:
            return _NOTHING  # unknown or cyclic: validation refuses the document anyway
        self.entered.add(name)
        try:
            sizes = self.selections(
                fragment.selection_set, self.schema.get_type(fragment.type_condition.name.value), page
            )
        finally:
            self.entered.discard(name)
        self.measured[key] = sizes
        return sizes

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, page: int | None) -> _Sizes:
        alias = 1 if node.alias is not None else 0
        if node.selection_set is None:
            return 1, alias, 1  # a leaf, or a list of leaves: resolved at once
        name = node.name.value
        definition = _field_definition(parent, name)
        multiplier, inner_page, child = 1, None, None
        if definition is not None:
            field_type = get_nullable_type(definition.type)
            child = get_named_type(field_type)
            is_list = is_list_type(field_type)
            size_argument = definition.args.get(PAGE_ARGUMENT)
            if name == ENTITIES_FIELD and parent is self.schema.query_type:
                multiplier = self.list_length(node, REPRESENTATIONS_ARGUMENT)
                self.representations = max(self.representations, multiplier)
            elif size_argument is not None:
                size = self.page_size(node, size_argument)
                if is_list:
                    multiplier = size
                else:
                    inner_page = size  # a connection: its edges are the page
            elif is_list:
                if page is not None:
                    multiplier = page
                elif parent is not None and parent.name.startswith("__"):
                    multiplier = INTROSPECTION_LIST_SIZE
                else:
                    multiplier = _declared_size(definition)
        depth, aliases, cost = self.selections(node.selection_set, child, inner_page)
        if name in INTROSPECTION_ROOTS:
            depth = 0
        return 1 + depth, alias + aliases, min(1 + multiplier * cost, COST_CEILING)

    def page_size(self, node: FieldNode, argument: GraphQLArgument) -> int:
        """What the resolver will return at most: ``first`` (refused above the cap), or the default page."""
        given: object = None
        for passed in node.arguments or ():
            if passed.name.value == PAGE_ARGUMENT:
                given = self.value(passed.value)
        default = argument.default_value
        first = given if _is_int(given) else default if _is_int(default) else DEFAULT_PAGE
        return max(0, min(first, self.max_page_size))

    def list_length(self, node: FieldNode, argument: str) -> int:
        """Items of a list argument, literal or from a variable (a single value is a list of one)."""
        for passed in node.arguments or ():
            if passed.name.value != argument:
                continue
            value: object = passed.value
            if isinstance(value, VariableNode):
                name = value.name.value
                value = self.variables[name] if name in self.variables else self.defaults.get(name)
            if isinstance(value, (ListValueNode, list)):
                return len(value.values) if isinstance(value, ListValueNode) else len(value)
            return 0 if value is None else 1
        return 0

    def value(self, node: ValueNode) -> object:
        if isinstance(node, VariableNode):
            name = node.name.value
            if name in self.variables:
                return self.variables[name]
            node = self.defaults.get(name, node)
            if isinstance(node, VariableNode):
                return None
        if isinstance(node, IntValueNode):
            return int(node.value)
        return None  # null, or a value of the wrong type (validation refuses it)


def _declared_size(definition: GraphQLField) -> int:
    declared = getattr((definition.extensions or {}).get(_STRAWBERRY_FIELD), "metadata", None) or {}
    size = declared.get(LIST_SIZE)
    return size if _is_int(size) else ASSUMED_LIST_SIZE


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if name == "__schema":
        return SchemaMetaFieldDef
    if name == "__type":
        return TypeMetaFieldDef
    if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None  # __typename, unions, unknown types and fields


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    variables: Mapping[str, Any] | None = None,
    max_page_size: int = QueryLimits.max_page_size,
) -> list[tuple[str | None, Measure]]:
    """Each operation's name and measure, in document order."""
    # Variables that are not an object are refused when execution coerces them; price without them.
    walk = _Walk(schema, document, variables if isinstance(variables, Mapping) else {}, max_page_size)
    return [
        (d.name.value if d.name else None, walk.operation(d))
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]


def refusals(
    schema: GraphQLSchema,
    document: DocumentNode,
    limits: QueryLimits,
    *,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> list[GraphQLError]:
    """Why this document may not run, or nothing.

    Depth and aliases are the document's (its deepest operation, all its aliases: api.md speaks
    of documents); complexity is the operation's that would run (``operation_name``, else the
    first): variables are that operation's.
    """
    measures = measure(schema, document, variables=variables, max_page_size=limits.max_page_size)
    if not measures:
        return []
    errors: list[GraphQLError] = []
    depth = max(m.depth for _, m in measures)
    if depth > limits.max_depth:
        errors.append(
            limit_exceeded(
                "depth",
                limits.max_depth,
                depth,
                f"the document is {depth} levels deep; at most {limits.max_depth} are allowed.",
            )
        )
    aliases = sum(m.aliases for _, m in measures)
    if aliases > limits.max_aliases:
        errors.append(
            limit_exceeded(
                "aliases",
                limits.max_aliases,
                aliases,
                f"the document uses {aliases} aliases; at most {limits.max_aliases} are allowed.",
            )
        )
    running = next((m for name, m in measures if operation_name in (None, name)), None)
    if running is not None and running.representations > limits.max_representations:
        errors.append(
            limit_exceeded(
                "representations",
                limits.max_representations,
                running.representations,
                f"_entities was sent {running.representations} representations; at most "
                f"{limits.max_representations} are allowed in one call.",
            )
        )
    if running is not None and running.complexity > limits.max_complexity:
        errors.append(
            limit_exceeded(
                "complexity",
                limits.max_complexity,
                running.complexity,
                f"the operation's estimated cost is {running.complexity} fields; at most "
                f"{limits.max_complexity} are allowed. Each list counts once per item it may hold: "
                "ask for smaller pages (`first`) or fewer nested lists.",
            )
        )
    return errors


class IntrospectionNestingRule(MaxIntrospectionDepthRule):
    """graphql-core's rule against cyclic introspection, refusing with our code and numbers."""

    def report_error(self, error: GraphQLError) -> None:
        allowed = INTROSPECTION_LIST_DEPTH - 1
        super().report_error(
            limit_exceeded(
                "introspectionDepth",
                allowed,
                None,
                f"introspection lists (fields, interfaces, possibleTypes, inputFields) nest at most {allowed} deep.",
                error.nodes,
            )
        )


class QueryLimitsGuard(MaxTokensLimiter):
    """Applies ``QueryLimits`` to every operation, over HTTP and WebSocket alike.

    Give it to the schema as a factory (one instance per operation). An extension that parses
    or validates by itself (a parser or validation cache) must come *before* it: Strawberry's
    ``MaxTokensLimiter`` (the base) sets the token limit in ``parse_options`` when the operation
    starts, and this guard refuses in ``on_validate`` only if nothing refused earlier.
    """

    def __init__(self, limits: QueryLimits) -> None:
        super().__init__(max_token_count=limits.max_tokens)
        self.limits = limits

    def on_parse(self) -> Iterator[None]:
        yield
        # The parser's refusal is a plain syntax error: give it the code and numbers of the others.
        maximum = self.max_token_count
        abort = f"Syntax Error: Document contains more than {maximum} tokens. Parsing aborted."
        for error in self.execution_context.pre_execution_errors or ():
            if isinstance(error, GraphQLSyntaxError) and error.message == abort:
                error.message = f"Query limit exceeded: the document has more than {maximum} tokens."
                error.extensions = {"code": QUERY_LIMIT_EXCEEDED, "limit": "tokens", "max": maximum}

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            errors = refusals(
                graphql_schema(context.schema),
                document,
                self.limits,
                variables=context.variables,
                operation_name=context.operation_name,
            )
            if errors:
                # Set before validation: Strawberry then skips it and refuses with these.
                context.pre_execution_errors = errors
        context.validation_rules = _with_our_introspection_rule(context.validation_rules)
        yield


def _with_our_introspection_rule(
    rules: tuple[type[ASTValidationRule], ...],
) -> tuple[type[ASTValidationRule], ...]:
    """graphql-core's specified rules include MaxIntrospectionDepthRule: ours replaces it."""
    kept = tuple(rule for rule in rules if rule is not MaxIntrospectionDepthRule)
    return kept if IntrospectionNestingRule in kept else (*kept, IntrospectionNestingRule)
