"""``casegraph mail failed`` and ``casegraph mail retry ID... | --all``: mails that gave up, by hand;
``casegraph mail feed FILE|-``: a saved mail delivered to the running server's intake.

The rules are services/failed_mail.py's; this prints them for an operator. ``failed`` prints one
line per delivery (tab-separated: id, created, recipient, template, case number, attempts, last
error) and a count; ``retry`` queues the given deliveries again (all or none: an id that is not a
failed delivery changes nothing and exits 1) and says which sign-in mails it left, their links
having expired. The running server's mail dispatcher sends what was queued at its next pass.

``feed`` is how a reply by mail is tried on one machine (``make run`` has no inbound mail): it
POSTs the file's bytes (or stdin's) to ``/intake/email`` of the server at ``--url`` (default
``CASEGRAPH_PUBLIC_URL``) exactly as a mail gateway's webhook does, with the intake secret of
``CASEGRAPH_INTAKE_SECRET`` — the same route, secret check and mail checks (with
``CASEGRAPH_INTAKE_AUTHSERV_ID`` the file must carry that gateway's Authentication-Results, as a
real mail would). It prints the server's answer and exits 0 when the mail was taken in.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from casegraph.persisted_queries.command_line import in_database
from casegraph.settings import Settings


def add_mail_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("mail", help="mails that gave up (list, queue again); feed a saved mail to intake")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("failed", help="print every failed mail delivery and why it failed").set_defaults(func=_failed)
    retry = actions.add_parser("retry", help="queue failed deliveries again (after fixing the cause)")
    chosen = retry.add_mutually_exclusive_group(required=True)
    chosen.add_argument("ids", nargs="*", default=[], metavar="ID", help="delivery ids, as `mail failed` prints")
    chosen.add_argument("--all", action="store_true", help="every failed delivery")
    retry.set_defaults(func=_retry)
    feed = actions.add_parser("feed", help="deliver a saved mail (.eml) to the running server's intake")
    feed.add_argument("file", help="the mail as saved (RFC 822 / .eml), or - for stdin")
    feed.add_argument("--url", help="the server (default: CASEGRAPH_PUBLIC_URL)")
    feed.set_defaults(func=_feed)


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


# As the intake route is: the mail gateway's webhook.
INTAKE_PATH = "/intake/email"
SECRET_HEADER = "X-Casegraph-Intake-Secret"


def _feed(args: argparse.Namespace, settings: Settings) -> int:
    import httpx

    if settings.intake_secret is None:
        print("set CASEGRAPH_INTAKE_SECRET (the server's) to feed mail to its intake", file=sys.stderr)
        return 1
    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as error:
        print(f"cannot read the mail: {error}", file=sys.stderr)
        return 1
    url = (args.url or settings.public_url).rstrip("/") + INTAKE_PATH
    try:
        answer = httpx.post(
            url,
            content=raw,
            headers={SECRET_HEADER: settings.intake_secret, "Content-Type": "message/rfc822"},
            timeout=30,
        )
    except httpx.HTTPError as error:
        print(f"the server at {url} did not answer: {error}", file=sys.stderr)
        return 1
    print(f"{answer.status_code}\t{answer.text}")
    return 0 if answer.is_success else 1
