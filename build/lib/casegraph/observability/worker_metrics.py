"""Metrics shared by the workers of ``casegraph serve --workers N``.

prometheus_client's multiprocess mode: each worker writes its samples to files in one directory
and a scrape, answered by any worker, sums them. The mode is fixed when prometheus_client is
first imported, so the directory is named in the environment before the workers start (they
inherit it); this module therefore does not import prometheus_client itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Final

DIRECTORY_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_mode() -> bool:
    return bool(os.environ.get(DIRECTORY_VARIABLE))


@contextlib.contextmanager
def shared_metrics_directory(workers: int) -> Iterator[str | None]:
    """A fresh directory for ``workers`` > 1 while the block runs (removed after), else nothing.

    A directory already named by the operator is used as it is (and left in place).
    """
    if workers <= 1 or multiprocess_mode():
        yield os.environ.get(DIRECTORY_VARIABLE)
        return
    # Fresh each start: files left by an earlier run would be summed into this one's counts.
    directory = tempfile.mkdtemp(prefix="casegraph-metrics-")
    os.environ[DIRECTORY_VARIABLE] = directory
    try:
        yield directory
    finally:
        os.environ.pop(DIRECTORY_VARIABLE, None)
        shutil.rmtree(directory, ignore_errors=True)
