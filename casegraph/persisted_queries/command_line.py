"""``casegraph persisted-queries register FILE... | list | remove HASH``: the allow-list by hand.

Registration is all or nothing: every file is read and checked (manifest ids against their
bodies) before the database is touched, and the documents go in one transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from casegraph.settings import Settings

T = TypeVar("T")


def add_persisted_queries_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("persisted-queries", help="register, list or remove allow-listed operations")
    actions = parser.add_subparsers(dest="action", required=True)
    register = actions.add_parser(
        "register",
        help="register .graphql files (each whole, byte for byte) or Apollo persisted-query-manifest.json files",
    )
    register.add_argument("files", nargs="+", metavar="FILE")
    register.set_defaults(func=_register)
    actions.add_parser("list", help="print hash, registration time and name of each").set_defaults(func=_list)
    remove = actions.add_parser("remove", help="unregister one hash (servers may run it for up to 30 s more)")
    remove.add_argument("hash")
    remove.set_defaults(func=_remove)


async def in_database(database_url: str, work: Callable[[], Awaitable[T]]) -> T:
    from tortoise import Tortoise

    from casegraph.db import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url))
    try:
        return await work()
    finally:
        await Tortoise.close_connections()


def _register(args: argparse.Namespace, settings: Settings) -> int:
    from casegraph.persisted_queries.registry import RegistrationError, read_operation_file, register_documents

    try:
        documents = [document for name in args.files for document in read_operation_file(Path(name))]
    except RegistrationError as error:
        print(f"nothing registered: {error}", file=sys.stderr)
        return 1
    registrations = asyncio.run(
        in_database(settings.database_url, lambda: register_documents(documents, now=datetime.now(UTC)))
    )
    for registration in registrations:
        row = registration.row
        print(f"{'registered' if registration.created else 'already registered'}\t{row.sha256}\t{row.name or ''}")
    created = sum(1 for registration in registrations if registration.created)
    print(f"{len(registrations)} operations: {created} new, {len(registrations) - created} already registered")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from casegraph.persisted_queries.registry import registered_documents

    for row in asyncio.run(in_database(settings.database_url, registered_documents)):
        print(f"{row.sha256}\t{row.created_at.isoformat()}\t{row.name or ''}")
    return 0


def _remove(args: argparse.Namespace, settings: Settings) -> int:
    from casegraph.persisted_queries.caches import REGISTERED_TTL
    from casegraph.persisted_queries.registry import remove_document

    sha256 = str(args.hash)
    if not asyncio.run(in_database(settings.database_url, lambda: remove_document(sha256))):
        print(f"not registered: {sha256}", file=sys.stderr)
        return 1
    print(f"removed {sha256.lower()}; running servers may still accept it for up to {REGISTERED_TTL:g} s")
    return 0
