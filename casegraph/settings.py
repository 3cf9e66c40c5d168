"""Configuration from the environment (and an optional ``.env``), read once at start."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEV_SECRET = "casegraph-development-secret-do-not-use-in-production"
# HS256 keys shorter than the hash output are guessable (RFC 7518, section 3.2).
MIN_SECRET_BYTES = 32


def _load_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite://casegraph.sqlite3"
    broadcast_url: str = "memory://"
    jwt_secret: str = DEV_SECRET
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    env: str = "development"
    allowed_origins: tuple[str, ...] = field(default=())
    # Seconds between SLA evaluator passes (CASEGRAPH_SLA_INTERVAL); 0 turns the evaluator off.
    sla_interval: float = 30.0
    intake_secret: str | None = None
    intake_case_type: str | None = None

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def uses_dev_secret(self) -> bool:
        return self.jwt_jwks_url is None and self.jwt_secret == DEV_SECRET

    def production_problem(self) -> str | None:
        """Why this configuration must not serve in production, or None."""
        if not self.production:
            return None
        if self.uses_dev_secret:
            return "CASEGRAPH_ENV=production needs CASEGRAPH_JWT_SECRET (or CASEGRAPH_JWT_JWKS_URL)."
        if self.jwt_jwks_url is None and len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            return f"CASEGRAPH_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes in production."
        return None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        env = {**_load_dotenv(dotenv or Path(".env")), **(environ if environ is not None else os.environ)}

        def get(name: str) -> str | None:
            value = env.get(f"CASEGRAPH_{name}")
            return value if value else None

        origins = get("ALLOWED_ORIGINS")
        return cls(
            database_url=get("DATABASE_URL") or cls.database_url,
            broadcast_url=get("BROADCAST_URL") or cls.broadcast_url,
            jwt_secret=get("JWT_SECRET") or DEV_SECRET,
            jwt_jwks_url=get("JWT_JWKS_URL"),
            jwt_issuer=get("JWT_ISSUER"),
            jwt_audience=get("JWT_AUDIENCE"),
            env=get("ENV") or "development",
            allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()) if origins else (),
            sla_interval=_seconds("CASEGRAPH_SLA_INTERVAL", get("SLA_INTERVAL"), cls.sla_interval),
            intake_secret=get("INTAKE_SECRET"),
            intake_case_type=get("INTAKE_CASE_TYPE"),
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
