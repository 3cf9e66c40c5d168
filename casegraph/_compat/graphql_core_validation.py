# Follows upstream: graphql-core 3.3.2, graphql/validation/rules/max_introspection_depth_rule.py
"""How deep graphql-core's ``MaxIntrospectionDepthRule`` lets introspection lists nest.

The query limits (``schema/limits.py``) replace that rule with one refusing in our words and
numbers; the numbers are the rule's own constant, which its module does not export.
"""

from __future__ import annotations

from typing import Final

from graphql.validation.rules.max_introspection_depth_rule import MAX_LIST_DEPTH

# Lists of fields, interfaces, possibleTypes or inputFields nest at most this deep.
INTROSPECTION_LIST_DEPTH: Final[int] = MAX_LIST_DEPTH
