"""CPU per request counts the processes that ended during the measurement (PostgreSQL backends)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest

from bench.procstat import TICKS_PER_SECOND, CpuSample

BUSY_CHILD = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_child_that_ended_during_the_measurement_still_counts() -> None:
    # given
    before = CpuSample.of_tree(os.getpid())
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)

    # when: a child burns CPU and exits (reaped by subprocess.run) between the two samples
    subprocess.run([sys.executable, "-c", BUSY_CHILD], check=True)
    spent = CpuSample.of_tree(os.getpid()).since(before)

    # then: at least the child's CPU, as the kernel accounted it to us, within a tick each way
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (children.ru_utime - children_before.ru_utime) + (children.ru_stime - children_before.ru_stime)
    assert child_cpu > 0.2
    assert spent >= child_cpu - 2 / TICKS_PER_SECOND
