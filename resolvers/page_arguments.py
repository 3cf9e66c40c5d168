"""Page sizes of the plain lists whose ``first`` has a default in the schema (``Int! = 50``).

The schema's default is what a client gets by not asking; it must not be refused when an
operator sets ``CASEGRAPH_MAX_PAGE_SIZE`` below it. So a ``first`` the client did not send is
the default cut to the cap, and one it sent is refused above the cap (services/page_sizes.py).
"""

from __future__ import annotations

from strawberry.types.nodes import SelectedField

from casegraph.services.page_sizes import checked_page_size
from schema.context import Info


def _sent(info: Info, argument: str) -> bool:
    # selected_fields: this field's own node(s), so SelectedFields with the arguments they were sent.
    return any(
        isinstance(field, SelectedField) and field.arguments.get(argument) is not None for field in info.selected_fields
    )


def list_page_size(info: Info, first: int, *, schema_default: int) -> int:
    cap = info.context.max_page_size
    return checked_page_size(first if _sent(info, "first") else None, cap=cap, default=schema_default)
