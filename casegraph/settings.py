"""Configuration from the environment (and an optional ``.env``), read once at start."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
from dataclasses import dataclass, field
from email.headerregistry import Address, HeaderRegistry
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.config import Config

DEV_SECRET = "casegraph-development-secret-do-not-use-in-production"
# HS256 keys shorter than the hash output are guessable (RFC 7518, section 3.2).
MIN_SECRET_BYTES = 32
# Agency codes (ours and partners'): what a token's agency claim and cases.referred_agency hold.
AGENCY_CODE = re.compile(r"[A-Z][A-Z0-9_-]{1,31}")
# CASEGRAPH_ENV: a typo ("prod", "Production ") must not quietly serve with development defaults.
ENVIRONMENTS = ("development", "production")
# `serve` tells the application where it listens; a server started any other way is taken to
# listen publicly, so the development conveniences stay off (fail closed).
BIND_HOST_VARIABLE = "CASEGRAPH_BIND_HOST"
LOOPBACK_NAMES = frozenset({"localhost"})
# An origin is scheme://host[:port]: no path, no trailing slash, no wildcard.
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
MIB = 1024 * 1024


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; False for 0.0.0.0, ::, names and unknown."""
    if host is None:
        return False
    if host.strip().lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Rate:
    """At most ``count`` hits per ``seconds`` (a fixed window), e.g. ``120/60``."""

    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}"


def parse_rate(name: str, value: str | None, default: Rate | None) -> Rate | None:
    """``N/SECONDS`` (``120/60``), or ``off``; unset keeps the default."""
    if value is None:
        return default
    if value.strip().lower() in {"off", "none", "0"}:
        return None
    count, _, seconds = value.partition("/")
    try:
        rate = Rate(int(count), int(seconds or "60"))
    except ValueError:
        raise ValueError(f"{name} must look like 120/60 (hits per seconds) or off, not {value!r}.") from None
    if rate.count < 1 or rate.seconds < 1:
        raise ValueError(f"{name} needs a positive count and window, not {value!r}.")
    return rate


@dataclass(frozen=True)
class SmtpServer:
    """Where mail is sent (CASEGRAPH_SMTP_URL). ``smtps``: TLS from the first byte (port 465);
    ``smtp``: STARTTLS whenever the server offers it, and required before credentials are sent
    to a host that is not loopback."""

    implicit_tls: bool
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def parse_smtp_url(value: str | None) -> SmtpServer | None:
    """``smtp://[user:pass@]host[:port]`` (port 587 by default) or ``smtps://…`` (465)."""
    if value is None:
        return None
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"CASEGRAPH_SMTP_URL has a malformed host or port: {value!r}.") from None
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname or parts.path not in {"", "/"} or parts.query:
        raise ValueError(
            "CASEGRAPH_SMTP_URL must look like smtp://user:password@host:587 (STARTTLS) or smtps://host:465, "
            f"not {value!r}."
        )
    implicit_tls = parts.scheme == "smtps"
    username = unquote(parts.username) if parts.username else None
    if (parts.password is not None) != (username is not None):
        raise ValueError("CASEGRAPH_SMTP_URL needs both a user name and a password, or neither.")
    return SmtpServer(
        implicit_tls=implicit_tls,
        host=parts.hostname,
        port=port or (465 if implicit_tls else 587),
        username=username,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def parse_mail_from(value: str | None) -> str | None:
    """CASEGRAPH_MAIL_FROM: one address, optionally with a display name (``City <cases@city.gov>``)."""
    if value is None:
        return None
    text = value.strip()
    header = HeaderRegistry()("From", text) if "\n" not in text and "\r" not in text else None
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    if header is None or header.defects or len(addresses) != 1 or not addresses[0].username or not addresses[0].domain:
        raise ValueError(f"CASEGRAPH_MAIL_FROM must be one address such as City <cases@city.example>, not {value!r}.")
    return str(addresses[0])


# CASEGRAPH_OIDC_ROLE_MAP: what a value of the roles claim makes someone here.
OIDC_ROLES = ("CONSTITUENT", "AGENT", "FIELD_AGENT", "MANAGER", "ADMIN")
OIDC_DEFAULT_SCOPES = "openid email profile"


@dataclass(frozen=True)
class OidcProvider:
    """An OpenID provider people sign in with (CASEGRAPH_OIDC_*): the authorization code flow
    with PKCE, run by the server (casegraph/oidc_pages.py), so no provider token reaches a page.

    ``client_secret`` None: a public client (PKCE only); else client_secret_basic at the token
    endpoint. ``roles_claim`` names a claim (a dotted path into nested objects) whose values
    ``role_map`` turns into roles here; None: roles are not taken from the provider.
    """

    issuer: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    name: str = "your organisation"
    scopes: str = OIDC_DEFAULT_SCOPES
    roles_claim: str | None = None
    role_map: tuple[tuple[str, str], ...] = ()
    # Sent as acr_values when set: the assurance level asked for (Login.gov requires one).
    acr_values: str | None = None

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"


def parse_oidc(
    *,
    issuer: str | None,
    client_id: str | None,
    client_secret: str | None,
    name: str | None,
    scopes: str | None,
    roles_claim: str | None,
    role_map: str | None,
    acr_values: str | None = None,
) -> OidcProvider | None:
    """The provider, or None when no CASEGRAPH_OIDC_* is set; a half-configured one is an error."""
    given = {
        "CASEGRAPH_OIDC_CLIENT_SECRET": client_secret,
        "CASEGRAPH_OIDC_NAME": name,
        "CASEGRAPH_OIDC_SCOPES": scopes,
        "CASEGRAPH_OIDC_ROLES_CLAIM": roles_claim,
        "CASEGRAPH_OIDC_ROLE_MAP": role_map,
        "CASEGRAPH_OIDC_ACR_VALUES": acr_values,
    }
    if issuer is None and client_id is None:
        stray = [variable for variable, value in given.items() if value is not None]
        if stray:
            raise ValueError(f"{', '.join(stray)} needs CASEGRAPH_OIDC_ISSUER and CASEGRAPH_OIDC_CLIENT_ID.")
        return None
    if issuer is None or client_id is None:
        missing = "CASEGRAPH_OIDC_ISSUER" if issuer is None else "CASEGRAPH_OIDC_CLIENT_ID"
        raise ValueError(f"Sign-in with an identity provider needs {missing} too.")
    parts = urlsplit(issuer.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"CASEGRAPH_OIDC_ISSUER must be the provider's https:// issuer URL, not {issuer!r}.")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        # Discovery, keys and the code exchange over plain HTTP could be rewritten on the way.
        raise ValueError(f"CASEGRAPH_OIDC_ISSUER must use https:// (http only on loopback), not {issuer!r}.")
    words = (scopes or OIDC_DEFAULT_SCOPES).split()
    if "openid" not in words:
        raise ValueError(f"CASEGRAPH_OIDC_SCOPES must include openid, not {scopes!r}.")
    if role_map is not None and roles_claim is None:
        raise ValueError("CASEGRAPH_OIDC_ROLE_MAP needs CASEGRAPH_OIDC_ROLES_CLAIM (the claim it reads).")
    return OidcProvider(
        issuer=issuer.strip(),
        client_id=client_id.strip(),
        client_secret=client_secret,
        name=(name or OidcProvider.name).strip()[:80],
        scopes=" ".join(words),
        roles_claim=roles_claim.strip() if roles_claim else None,
        role_map=_role_map(role_map),
        acr_values=" ".join(acr_values.split()) if acr_values else None,
    )


def _role_map(value: str | None) -> tuple[tuple[str, str], ...]:
    """``caseworker=AGENT,supervisor=MANAGER``: a provider's value, then one of our roles."""
    if value is None:
        return ()
    pairs: list[tuple[str, str]] = []
    for item in value.split(","):
        if not item.strip():
            continue
        theirs, equals, ours = item.partition("=")
        if not equals or not theirs.strip() or ours.strip().upper() not in OIDC_ROLES:
            raise ValueError(
                "CASEGRAPH_OIDC_ROLE_MAP lists provider-value=ROLE pairs such as caseworker=AGENT,admins=ADMIN "
                f"(roles: {', '.join(OIDC_ROLES)}), not {item.strip()!r}."
            )
        pairs.append((theirs.strip(), ours.strip().upper()))
    return tuple(pairs)


@dataclass(frozen=True)
class QueryLimits:
    """What one GraphQL document may ask for (api.md *Limits*); refused before execution."""

    max_depth: int = 15
    max_aliases: int = 100
    max_tokens: int = 5000
    # Estimated fields resolved: list fields multiply what they select by their page size.
    max_complexity: int = 20000
    max_page_size: int = 100
    # Federation: representations one ``_entities`` call may resolve (each is also priced).
    max_representations: int = 500


@dataclass(frozen=True)
class RateLimits:
    """Per user and per client IP; None turns one limit off. Refusals carry Retry-After."""

    mutations_per_user: Rate | None = Rate(120, 60)
    mutations_per_ip: Rate | None = Rate(600, 60)
    connections_per_user: Rate | None = Rate(30, 60)
    connections_per_ip: Rate | None = Rate(120, 60)
    # memory (one process), database or redis; None picks redis when the broadcast channel is
    # Redis, the database when it is PostgreSQL, memory for SQLite.
    backend: str | None = None
    # WebSocket connections one user may hold open at once (in the same store as the counters).
    sockets_per_user: int | None = 20

    @classmethod
    def off(cls) -> RateLimits:
        return cls(None, None, None, None, sockets_per_user=None)


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite://casegraph.sqlite3"
    broadcast_url: str = "memory://"
    jwt_secret: str = DEV_SECRET
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    env: str = "development"
    # The address `serve` binds (CASEGRAPH_BIND_HOST, set by `serve` itself); None: unknown.
    bind_host: str | None = None
    # Origins (scheme://host[:port]) whose pages may call the API: CORS over HTTP and the
    # WebSocket handshake's Origin check alike.
    allowed_origins: tuple[str, ...] = field(default=())
    # Request bodies above these are refused with 413 before they are read whole.
    max_body_bytes: int = MIB
    max_intake_bytes: int = 10 * MIB
    # Seconds between SLA evaluator passes (CASEGRAPH_SLA_INTERVAL); 0 turns the evaluator off.
    sla_interval: float = 30.0
    # Seconds between outbox dispatcher passes (CASEGRAPH_OUTBOX_INTERVAL); 0 turns it off.
    outbox_interval: float = 1.0
    # Webhook URLs on loopback/private addresses are refused in production unless this is set.
    webhook_allow_private: bool = False
    # This agency's code among partner agencies (CASEGRAPH_AGENCY_CODE): the audience of the
    # service tokens partners send us and the issuer name of ours.
    agency_code: str = "CASEGRAPH"
    intake_secret: str | None = None
    intake_case_type: str | None = None
    # The intake mailbox (CASEGRAPH_INTAKE_ADDRESS): per-case reply addresses are sub-addresses of it.
    intake_address: str | None = None
    # The mail gateway's authserv-id (CASEGRAPH_INTAKE_AUTHSERV_ID): its Authentication-Results
    # header is trusted, and a mail failing DMARC or DKIM there is refused.
    intake_authserv_id: str | None = None
    # Wrong intake secrets per client address; over it the address is refused for the window.
    intake_guesses: Rate | None = Rate(10, 60)
    # Outbound mail (issue 17). No SMTP server: every mail is written to the maildir instead.
    smtp: SmtpServer | None = None
    mail_from: str | None = None
    maildir: str = "var/mail"
    # A directory of templates overriding the built-in ones (casegraph/mail/templates), file by file.
    mail_templates: str | None = None
    # The agency's time zone (IANA name): the dates and times mails state are its wall clock.
    mail_timezone: str = "UTC"
    # The address people reach the portal at, for the links in mails.
    public_url: str = "http://127.0.0.1:8000"
    # Signs unsubscribe links and attachment download links; unset: the intake secret, else the
    # JWT secret.
    mail_secret: str | None = None
    # Attachments (issue 18): where their bytes are kept (a directory, content-addressed), the
    # largest file, the most all of one case's files may hold, and how long a download link lives.
    attachments_dir: str = "var/attachments"
    attachment_max_bytes: int = 10 * MIB
    attachment_case_max_bytes: int = 100 * MIB
    attachment_link_seconds: int = 300
    # Several machines: an S3-compatible bucket (``s3://bucket/prefix``) instead of the directory,
    # at this endpoint (unset: AWS's own, or botocore's AWS_ENDPOINT_URL[_S3]); credentials and
    # region come from botocore's usual chain (AWS_ACCESS_KEY_ID…, AWS_PROFILE, instance roles).
    attachments_url: S3Location | None = None
    s3_endpoint_url: str | None = None
    # ClamAV's clamd (``tcp://host:port`` or ``unix:///path``): files wait PENDING until it clears them.
    clamd_url: ClamdAddress | None = None
    query_limits: QueryLimits = field(default_factory=QueryLimits)
    rate_limits: RateLimits = field(default_factory=RateLimits)
    # Operations per batched HTTP request; 0 refuses batches (the default).
    batch_max_operations: int = 0
    # The compiled path for planned queries (casegraph/fastpath, CASEGRAPH_COMPILED_QUERIES=off):
    # an accelerator only, so turning it off changes speed, never an answer.
    compiled_queries: bool = True
    # off, apq (Automatic Persisted Queries: hashes are learnt from clients) or allowlist (only
    # operations registered with `casegraph persisted-queries register` run).
    persisted_queries: str = "apq"
    # Client addresses come from X-Forwarded-For only when the peer is one of these proxies.
    trusted_proxies: tuple[str, ...] = field(default=())
    log_format: str = "json"
    log_level: str = "INFO"
    # OTLP/HTTP traces endpoint (e.g. http://collector:4318/v1/traces); unset: no tracing.
    otel_endpoint: str | None = None
    # When set, GET /metrics needs ``Authorization: Bearer <token>``.
    metrics_token: str | None = None
    # Production refuses to start without a metrics token unless this says /metrics is public.
    metrics_public: bool = False
    # Sign-in with the agency's identity provider (issue 17); None: not offered.
    oidc: OidcProvider | None = None

    @property
    def oidc_issuer(self) -> str | None:
        """The organisation's OpenID provider, if any. While one is configured staff sign in there:
        a mailed sign-in link signs in constituents only (services/sign_in.py)."""
        return None if self.oidc is None else self.oidc.issuer

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def webhooks_may_target_private(self) -> bool:
        return not self.production or self.webhook_allow_private

    @property
    def sender(self) -> str:
        return self.mail_from or "Casegraph <casegraph@localhost>"

    @property
    def mail_signing_secret(self) -> str:
        return self.mail_secret or self.intake_secret or self.jwt_secret

    @property
    def refresh_successor_secret(self) -> str:
        """Derives each refresh token's successor (services/sign_in.py): whoever holds it and an
        old refresh token can compute the session's current one. Both secrets go in, so it stays
        private while either does: the mail one alone may be the intake secret, which the mail
        gateway's operator holds too; the JWT one alone may be the development default when
        access tokens come from an identity provider's key set."""
        key = hmac.new(self.jwt_secret.encode(), b"casegraph refresh successor v1", hashlib.sha256).digest()
        return hmac.new(key, self.mail_signing_secret.encode(), hashlib.sha256).hexdigest()

    @property
    def uses_dev_secret(self) -> bool:
        return self.jwt_jwks_url is None and self.jwt_secret == DEV_SECRET

    @property
    def binds_loopback(self) -> bool:
        return is_loopback(self.bind_host)

    @property
    def development_tools(self) -> bool:
        """GraphiQL and /dev/demo-users: development on a loopback address only."""
        return not self.production and self.binds_loopback

    def startup_problem(self) -> str | None:
        """Why this configuration must not serve, or None: checked before anything listens."""
        if self.env not in ENVIRONMENTS:
            return f"CASEGRAPH_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.env!r}."
        if self.oidc is not None and self.jwt_jwks_url is not None:
            # The sessions it starts are our own HS256 access tokens, which a JWKS-only server refuses.
            return (
                "CASEGRAPH_OIDC_ISSUER signs people in with this server's own access tokens: "
                "set CASEGRAPH_JWT_SECRET instead of CASEGRAPH_JWT_JWKS_URL."
            )
        if not self.production:
            if self.uses_dev_secret and not self.binds_loopback:
                # Anyone who can reach the port could mint an ADMIN token with the published secret.
                where = (
                    self.bind_host or f"an unknown one ({BIND_HOST_VARIABLE} is unset: start with `casegraph serve`)"
                )
                return (
                    f"the development JWT secret is served on a loopback address only, not on {where}; "
                    "set CASEGRAPH_JWT_SECRET (or CASEGRAPH_JWT_JWKS_URL), or serve --host 127.0.0.1."
                )
            return None
        if self.uses_dev_secret:
            return "CASEGRAPH_ENV=production needs CASEGRAPH_JWT_SECRET (or CASEGRAPH_JWT_JWKS_URL)."
        if self.jwt_jwks_url is None and len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            return f"CASEGRAPH_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes in production."
        if self.intake_secret is not None and len(self.intake_secret.encode()) < MIN_SECRET_BYTES:
            return f"CASEGRAPH_INTAKE_SECRET must be at least {MIN_SECRET_BYTES} bytes in production."
        if self.mail_secret is not None and len(self.mail_secret.encode()) < MIN_SECRET_BYTES:
            return f"CASEGRAPH_MAIL_SECRET must be at least {MIN_SECRET_BYTES} bytes in production."
        if self.smtp is not None:
            # Mails leave the building: they must name a real sender and real links, and their
            # unsubscribe links must not be signed with the published development secret.
            if self.mail_from is None:
                return "CASEGRAPH_SMTP_URL in production needs CASEGRAPH_MAIL_FROM (the sender of every mail)."
            if not self.public_url.startswith("https://"):
                return "CASEGRAPH_SMTP_URL in production needs CASEGRAPH_PUBLIC_URL, an https:// address of the portal."
            if self.mail_signing_secret == DEV_SECRET:
                return "CASEGRAPH_SMTP_URL in production needs CASEGRAPH_MAIL_SECRET (it signs unsubscribe links)."
        if self.oidc is not None and not self.public_url.startswith("https://"):
            # The provider sends people back to CASEGRAPH_PUBLIC_URL with a code in the address.
            return "CASEGRAPH_OIDC_ISSUER in production needs CASEGRAPH_PUBLIC_URL, an https:// address of the portal."
        if self.metrics_token is None and not self.metrics_public:
            return (
                "CASEGRAPH_ENV=production needs CASEGRAPH_METRICS_TOKEN for /metrics "
                "(or CASEGRAPH_METRICS_PUBLIC=true to serve it to anyone)."
            )
        return None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        # Starlette's Config reads the environment first, then the .env file (the environment wins).
        # A missing .env is the usual case, not worth Starlette's "not found" warning.
        path = dotenv or Path(".env")
        config = Config(
            env_file=path if path.is_file() else None,
            environ=environ if environ is not None else os.environ,
            env_prefix="CASEGRAPH_",
        )

        def get(name: str) -> str | None:
            value: str | None = config(name, default=None)
            return value if value else None

        proxies = get("TRUSTED_PROXIES")
        limits = QueryLimits(
            max_depth=_count("CASEGRAPH_MAX_DEPTH", get("MAX_DEPTH"), QueryLimits.max_depth),
            max_aliases=_count("CASEGRAPH_MAX_ALIASES", get("MAX_ALIASES"), QueryLimits.max_aliases),
            max_tokens=_count("CASEGRAPH_MAX_TOKENS", get("MAX_TOKENS"), QueryLimits.max_tokens),
            max_complexity=_count("CASEGRAPH_MAX_COMPLEXITY", get("MAX_COMPLEXITY"), QueryLimits.max_complexity),
            max_page_size=_count("CASEGRAPH_MAX_PAGE_SIZE", get("MAX_PAGE_SIZE"), QueryLimits.max_page_size),
            max_representations=_count(
                "CASEGRAPH_MAX_REPRESENTATIONS", get("MAX_REPRESENTATIONS"), QueryLimits.max_representations
            ),
        )
        defaults = RateLimits()
        rates = RateLimits(
            mutations_per_user=parse_rate(
                "CASEGRAPH_RATE_MUTATIONS_PER_USER", get("RATE_MUTATIONS_PER_USER"), defaults.mutations_per_user
            ),
            mutations_per_ip=parse_rate(
                "CASEGRAPH_RATE_MUTATIONS_PER_IP", get("RATE_MUTATIONS_PER_IP"), defaults.mutations_per_ip
            ),
            connections_per_user=parse_rate(
                "CASEGRAPH_RATE_CONNECTIONS_PER_USER", get("RATE_CONNECTIONS_PER_USER"), defaults.connections_per_user
            ),
            connections_per_ip=parse_rate(
                "CASEGRAPH_RATE_CONNECTIONS_PER_IP", get("RATE_CONNECTIONS_PER_IP"), defaults.connections_per_ip
            ),
            backend=_choice("CASEGRAPH_RATE_LIMIT_BACKEND", get("RATE_LIMIT_BACKEND"), ("memory", "database", "redis")),
            sockets_per_user=_count_or_off(
                "CASEGRAPH_RATE_SOCKETS_PER_USER", get("RATE_SOCKETS_PER_USER"), defaults.sockets_per_user
            ),
        )
        if (get("RATE_LIMITS") or "").lower() == "off":
            rates = RateLimits.off()
        return cls(
            database_url=get("DATABASE_URL") or cls.database_url,
            broadcast_url=get("BROADCAST_URL") or cls.broadcast_url,
            jwt_secret=get("JWT_SECRET") or DEV_SECRET,
            jwt_jwks_url=get("JWT_JWKS_URL"),
            jwt_issuer=get("JWT_ISSUER"),
            jwt_audience=get("JWT_AUDIENCE"),
            env=_choice("CASEGRAPH_ENV", get("ENV"), ENVIRONMENTS) or "development",
            bind_host=get(BIND_HOST_VARIABLE.removeprefix("CASEGRAPH_")),
            allowed_origins=_origins(get("ALLOWED_ORIGINS")),
            max_body_bytes=_count("CASEGRAPH_MAX_BODY_BYTES", get("MAX_BODY_BYTES"), cls.max_body_bytes),
            max_intake_bytes=_count("CASEGRAPH_MAX_INTAKE_BYTES", get("MAX_INTAKE_BYTES"), cls.max_intake_bytes),
            sla_interval=_seconds("CASEGRAPH_SLA_INTERVAL", get("SLA_INTERVAL"), cls.sla_interval),
            outbox_interval=_seconds("CASEGRAPH_OUTBOX_INTERVAL", get("OUTBOX_INTERVAL"), cls.outbox_interval),
            webhook_allow_private=(get("WEBHOOK_ALLOW_PRIVATE") or "").lower() in {"1", "true", "yes"},
            agency_code=_agency_code(get("AGENCY_CODE")),
            intake_secret=get("INTAKE_SECRET"),
            intake_case_type=get("INTAKE_CASE_TYPE"),
            intake_address=_mailbox(get("INTAKE_ADDRESS")),
            intake_authserv_id=get("INTAKE_AUTHSERV_ID"),
            intake_guesses=parse_rate("CASEGRAPH_RATE_INTAKE_GUESSES", get("RATE_INTAKE_GUESSES"), cls.intake_guesses),
            smtp=parse_smtp_url(get("SMTP_URL")),
            mail_from=parse_mail_from(get("MAIL_FROM")),
            maildir=get("MAILDIR") or cls.maildir,
            mail_templates=_directory("CASEGRAPH_MAIL_TEMPLATES", get("MAIL_TEMPLATES")),
            mail_timezone=_time_zone("CASEGRAPH_MAIL_TIMEZONE", get("MAIL_TIMEZONE")) or cls.mail_timezone,
            public_url=_public_url(get("PUBLIC_URL")),
            mail_secret=get("MAIL_SECRET"),
            attachments_dir=get("ATTACHMENTS_DIR") or cls.attachments_dir,
            attachment_max_bytes=_count(
                "CASEGRAPH_ATTACHMENT_MAX_BYTES", get("ATTACHMENT_MAX_BYTES"), cls.attachment_max_bytes
            ),
            attachment_case_max_bytes=_count(
                "CASEGRAPH_ATTACHMENT_CASE_MAX_BYTES", get("ATTACHMENT_CASE_MAX_BYTES"), cls.attachment_case_max_bytes
            ),
            attachment_link_seconds=_count(
                "CASEGRAPH_ATTACHMENT_LINK_SECONDS", get("ATTACHMENT_LINK_SECONDS"), cls.attachment_link_seconds
            ),
            attachments_url=parse_s3_location(get("ATTACHMENTS_URL")),
            s3_endpoint_url=_endpoint_url(get("S3_ENDPOINT_URL")),
            clamd_url=parse_clamd_address(get("CLAMD_URL")),
            query_limits=limits,
            rate_limits=rates,
            batch_max_operations=_count("CASEGRAPH_BATCH_MAX_OPERATIONS", get("BATCH_MAX_OPERATIONS"), 0, minimum=0),
            compiled_queries=parse_switch("CASEGRAPH_COMPILED_QUERIES", get("COMPILED_QUERIES"), cls.compiled_queries),
            persisted_queries=_choice(
                "CASEGRAPH_PERSISTED_QUERIES", get("PERSISTED_QUERIES"), ("off", "apq", "allowlist")
            )
            or "apq",
            trusted_proxies=tuple(p.strip() for p in proxies.split(",") if p.strip()) if proxies else (),
            log_format=_choice("CASEGRAPH_LOG_FORMAT", get("LOG_FORMAT"), ("json", "text")) or "json",
            log_level=(get("LOG_LEVEL") or "INFO").upper(),
            otel_endpoint=get("OTEL_ENDPOINT"),
            metrics_token=get("METRICS_TOKEN"),
            metrics_public=_flag("CASEGRAPH_METRICS_PUBLIC", get("METRICS_PUBLIC")),
            oidc=parse_oidc(
                issuer=get("OIDC_ISSUER"),
                client_id=get("OIDC_CLIENT_ID"),
                client_secret=get("OIDC_CLIENT_SECRET"),
                name=get("OIDC_NAME"),
                scopes=get("OIDC_SCOPES"),
                roles_claim=get("OIDC_ROLES_CLAIM"),
                role_map=get("OIDC_ROLE_MAP"),
                acr_values=get("OIDC_ACR_VALUES"),
            ),
        )


def _seconds(name: str, value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {value!r}.") from None
    if not seconds >= 0:
        raise ValueError(f"{name} must not be negative.")
    return seconds


def _count(name: str, value: str | None, default: int, *, minimum: int = 1) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}.") from None
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}.")
    return number


def _count_or_off(name: str, value: str | None, default: int | None) -> int | None:
    """A whole number, or ``off``; unset keeps the default."""
    if value is None:
        return default
    if value.strip().lower() in {"off", "none", "0"}:
        return None
    return _count(name, value, 1)


def _choice(name: str, value: str | None, choices: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value.lower() not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value.lower()


def parse_switch(name: str, value: str | None, default: bool) -> bool:
    """``on`` or ``off`` (true/false, 1/0, yes/no too); unset: ``default``."""
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word in {"on", "1", "true", "yes"}:
        return True
    if word in {"off", "0", "false", "no"}:
        return False
    raise ValueError(f"{name} must be on or off, not {value!r}.")


def _flag(name: str, value: str | None) -> bool:
    if value is None:
        return False
    if value.strip().lower() in {"1", "true", "yes"}:
        return True
    if value.strip().lower() in {"0", "false", "no"}:
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}.")


def _origins(value: str | None) -> tuple[str, ...]:
    """CASEGRAPH_ALLOWED_ORIGINS: an explicit list; ``*`` would hand every site the API."""
    if value is None:
        return ()
    origins = tuple(origin.strip() for origin in value.split(",") if origin.strip())
    for origin in origins:
        if not ORIGIN.fullmatch(origin):
            raise ValueError(
                "CASEGRAPH_ALLOWED_ORIGINS lists origins like https://desk.example.gov "
                f"(scheme://host[:port], no path, no wildcard), not {origin!r}."
            )
    return origins


def _agency_code(value: str | None) -> str:
    if value is None:
        return Settings.agency_code
    code = value.strip().upper()
    if not AGENCY_CODE.fullmatch(code):
        raise ValueError("CASEGRAPH_AGENCY_CODE: 2-32 letters, digits, '_' or '-', starting with a letter.")
    return code


def _mailbox(value: str | None) -> str | None:
    if value is None:
        return None
    address = value.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or "+" in local or any(c.isspace() or c in '<>"' for c in address):
        raise ValueError(f"CASEGRAPH_INTAKE_ADDRESS must be a plain mailbox such as cases@city.example, not {value!r}.")
    return address


def _directory(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not Path(value).is_dir():
        raise ValueError(f"{name} must name an existing directory, not {value!r}.")
    return value


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ends with "/"


def parse_s3_location(value: str | None) -> S3Location | None:
    """CASEGRAPH_ATTACHMENTS_URL: s3://bucket[/prefix]."""
    if not value or not value.strip():
        return None
    parts = urlsplit(value.strip())
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"CASEGRAPH_ATTACHMENTS_URL must look like s3://bucket/prefix, not {value!r}.")
    prefix = parts.path.strip("/")
    return S3Location(parts.netloc, f"{prefix}/" if prefix else "")


def _endpoint_url(value: str | None) -> str | None:
    """CASEGRAPH_S3_ENDPOINT_URL: http(s)://host[:port] of an S3-compatible server."""
    if not value or not value.strip():
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"CASEGRAPH_S3_ENDPOINT_URL must be an http(s) address, not {value!r}.")
    return value.strip().rstrip("/")


@dataclass(frozen=True)
class ClamdAddress:
    """Where clamd listens: a TCP host and port, or a Unix socket path."""

    host: str | None = None
    port: int | None = None
    socket_path: str | None = None


def parse_clamd_address(value: str | None) -> ClamdAddress | None:
    """CASEGRAPH_CLAMD_URL: tcp://host:port or unix:///path/to/clamd.sock."""
    if not value or not value.strip():
        return None
    parts = urlsplit(value.strip())
    if parts.scheme == "unix" and parts.path and not parts.netloc:
        return ClamdAddress(socket_path=parts.path)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme == "tcp" and parts.hostname and port is not None:
        return ClamdAddress(host=parts.hostname, port=port)
    raise ValueError(f"CASEGRAPH_CLAMD_URL must be tcp://host:port or unix:///path/to/clamd.sock, not {value!r}.")


def _time_zone(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(f"{name} must name a time zone such as America/Chicago or UTC, not {value!r}.") from None
    return value


def _public_url(value: str | None) -> str:
    """CASEGRAPH_PUBLIC_URL: scheme://host[:port][/path], without a trailing slash."""
    if value is None:
        return Settings.public_url
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(
            f"CASEGRAPH_PUBLIC_URL must be an http(s) address such as https://city.example, not {value!r}."
        )
    return url
