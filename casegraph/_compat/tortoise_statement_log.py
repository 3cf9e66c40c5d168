# Follows upstream: tortoise-orm 1.1.9, tortoise/log.py
# Follows upstream: tortoise-orm 1.1.9, tortoise/backends/asyncpg/client.py
"""Every statement Tortoise sends, as its database clients log it.

Tortoise's clients log each statement at DEBUG on ``tortoise.db_client`` (``tortoise/log.py``'s
``db_client_logger``; the asyncpg and SQLite clients' ``self.log.debug("%s: %s", query, values)``).
Counting statements (the tests' N+1 guards, ``bench.profile_writes``) listens there; the logger's
name and that it logs every statement are Tortoise's, not a documented interface, so they live
here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

STATEMENT_LOGGER: Final = "tortoise.db_client"


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """Every statement Tortoise sends on either backend while the block runs."""
    statements: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            statements.append(record.getMessage())

    logger = logging.getLogger(STATEMENT_LOGGER)
    handler, level, propagate = Collect(logging.DEBUG), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
