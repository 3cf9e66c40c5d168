"""What every resolver gets: the actor (or why there is none), loaders, clock and publisher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as StrawberryInfo

from casegraph.clock import Clock, utc_now
from casegraph.domain.enums import Role
from casegraph.domain.errors import DomainError
from casegraph.domain.relations import Actor
from casegraph.events.live import LiveEvents
from casegraph.services.attachments import AttachmentDesk
from casegraph.services.publisher import NullPublisher, Publisher
from casegraph.services.reply_addresses import ReplyAddresses
from casegraph.settings import QueryLimits
from resolvers.loaders import Loaders

# The same roles see internal attachments (domain/attachments.INTERNAL_VIEW_ROLES).
STAFF_VIEW_ROLES = frozenset({Role.AGENT, Role.MANAGER, Role.FIELD_AGENT, Role.ADMIN})


class Unauthenticated(Exception):
    """No valid token for an operation that needs one."""


@dataclass
class Context:
    actor: Actor | None = None
    auth_error: str | None = None
    clock: Clock = utc_now
    publisher: Publisher = field(default_factory=NullPublisher)
    live: LiveEvents | None = None
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None
    # Subscriptions only run over a WebSocket; over HTTP they are refused before execution.
    over_websocket: bool = False
    # `first` above this is refused (Settings.query_limits.max_page_size; services/page_sizes.py).
    max_page_size: int = QueryLimits.max_page_size
    # Webhook URLs may name loopback/private addresses (Settings.webhooks_may_target_private).
    webhooks_may_target_private: bool = True
    # Per-case reply tokens of e-mail intake (None while intake is off).
    reply_addresses: ReplyAddresses | None = None
    # The languages mails can be written in (casegraph/mail's catalogues).
    mail_languages: frozenset[str] = frozenset({"en"})
    # Derives the secrets of mailed sign-in links (Settings.mail_signing_secret); None: no links.
    mail_signing_secret: str | None = None
    # Attachments (issue 18): their store, scanner, download links and limits.
    attachments: AttachmentDesk | None = None
    # Made on first use, for the actor then known: a request authenticates before it resolves
    # anything, so each request builds its loaders once.
    _loaders: Loaders | None = field(default=None, init=False, repr=False)

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.actor)
        return self._loaders

    @loaders.setter
    def loaders(self, value: Loaders) -> None:
        self._loaders = value

    def __post_init__(self) -> None:
        """Kept so that subclasses' ``__post_init__`` runs (dataclasses call it only if the base has one)."""

    def forget_loaders(self) -> None:
        """The actor changed (authentication): loaders are made again, for it, on first use."""
        self._loaders = None

    def require_actor(self) -> Actor:
        if self.actor is None:
            raise Unauthenticated(self.auth_error or "Authentication required.")
        return self.actor

    @property
    def sees_internal(self) -> bool:
        """Staff see internal fields (work notes, findings); constituents and partners do not."""
        return self.actor is not None and bool(self.actor.roles & STAFF_VIEW_ROLES)


Info = StrawberryInfo[Context, None]


def query_error(error: DomainError) -> Exception:
    """Refusals in queries become top-level errors carrying the same code."""
    from graphql import GraphQLError

    extensions = {"code": error.code.value, "field": error.field}
    if error.reason is not None:
        extensions["reason"] = error.reason
    return GraphQLError(error.message, extensions=extensions)
