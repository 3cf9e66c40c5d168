"""Load the queue data set into a fresh database and print a token per role, for profiling.

    python -m bench.load_queue_data --database-url postgres://…/qa --cases 3000 --secret S

The database is created (PostgreSQL) or must be empty; migrations are applied first, as
``casegraph serve`` would.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from tortoise import Tortoise

from casegraph.auth import issue_token
from casegraph.db import migrate, tortoise_config
from casegraph.settings import Settings
from tests.perf.queue_dataset import load_queue_dataset


async def _create_postgres_database(url: str) -> None:
    import asyncpg

    base, _, name = url.rpartition("/")
    connection = await asyncpg.connect(f"{base}/postgres".replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _load(url: str, cases: int) -> None:
    if url.startswith("postgres"):
        await _create_postgres_database(url)
    await migrate(url)
    await Tortoise.init(config=tortoise_config(url))
    try:
        await load_queue_dataset(cases=cases, now=datetime.now(UTC))
    finally:
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--secret", required=True, help="the server's CASEGRAPH_JWT_SECRET")
    args = parser.parse_args()
    asyncio.run(_load(args.database_url, args.cases))
    settings = Settings(jwt_secret=args.secret)
    from tests.perf.queue_dataset import PEOPLE

    for who, person in PEOPLE.items():
        token = issue_token(
            settings,
            sub=person.sub,
            roles=list(person.roles),
            name=person.name,
            email=f"{person.sub}@example.org",
            agency=person.agency,
        )
        print(f"{who}\t{token}")


if __name__ == "__main__":
    main()
