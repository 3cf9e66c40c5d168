"""``casegraph mail failed`` and ``casegraph mail retry ID... | --all``: mails that gave up, by hand.

The rules are services/failed_mail.py's; this prints them for an operator. ``failed`` prints one
line per delivery (tab-separated: id, created, recipient, template, case number, attempts, last
error) and a count; ``retry`` queues the given deliveries again (all or none: an id that is not a
failed delivery changes nothing and exits 1) and says which sign-in mails it left, their links
having expired. The running server's mail dispatcher sends what was queued at its next pass.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from casegraph.persisted_queries.command_line import in_database
from casegraph.settings import Settings


def add_mail_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("mail", help="list the mails that gave up, and queue them again")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("failed", help="print every failed mail delivery and why it failed").set_defaults(func=_failed)
    retry = actions.add_parser("retry", help="queue failed deliveries again (after fixing the cause)")
    chosen = retry.add_mutually_exclusive_group(required=True)
    chosen.add_argument("ids", nargs="*", default=[], metavar="ID", help="delivery ids, as `mail failed` prints")
    chosen.add_argument("--all", action="store_true", help="every failed delivery")
    retry.set_defaults(func=_retry)


def _failed(args: argparse.Namespace, settings: Settings) -> int:
    from casegraph.services.failed_mail import failed_mails

    rows = asyncio.run(in_database(settings.database_url, failed_mails))
    for row in rows:
        error = " ".join((row.last_error or "").split())
        print(
            f"{row.id}\t{row.created_at.isoformat()}\t{row.recipient}\t{row.template}\t"
            f"{row.case_number or '-'}\t{row.attempts}\t{error}"
        )
    print(f"{len(rows)} failed mail deliveries" + ("" if rows else ": nothing to retry"))
    return 0


def _retry(args: argparse.Namespace, settings: Settings) -> int:
    from casegraph.domain.errors import DomainError
    from casegraph.services.failed_mail import retry_failed_mails

    ids = None if args.all else list(args.ids)
    try:
        retried = asyncio.run(
            in_database(settings.database_url, lambda: retry_failed_mails(ids=ids, now=datetime.now(UTC)))
        )
    except DomainError as refusal:
        # A command line, not GraphQL: the refusal (an unknown id) is the operator's message and exit code.
        print(f"nothing queued: {refusal.message}", file=sys.stderr)
        return 1
    for delivery in retried.queued:
        print(f"queued\t{delivery}")
    for delivery in retried.expired_links:
        print(f"left\t{delivery}\tits sign-in link has expired: the person asks for a new one")
    print(f"{len(retried.queued)} queued again; the server's mail dispatcher sends them at its next pass")
    return 0
