"""Types every part of the schema uses: refusals and Relay page information."""

from __future__ import annotations

import strawberry

from schema.enums import ErrorCode


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="Why a mutation was refused; `field` names the input at fault.")
class UserError:
    code: ErrorCode
    message: str
    field: str | None = None
    reason: str | None = strawberry.field(
        default=None,
        description=(
            "Why, as a word a client can put in its own language where code and field leave it open: "
            "for a file, TOO_LARGE, EMPTY, TYPE, UNREADABLE, CASE_FULL or NOT_A_FILE."
        ),
    )
