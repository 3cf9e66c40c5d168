"""Load with wrk: one POST body at N connections for a fixed time; throughput and latency.

wrk (an event-loop load generator in C) keeps the client's share of the 2 cores small; one
thread drives all connections. Its ``--latency`` output gives the percentiles; a generous
``--timeout`` keeps slow answers in the latency figures instead of dropping them as timeouts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

SCRIPT: Final = Path(__file__).with_name("wrk_post.lua")
TIMEOUT_SECONDS: Final = 30


class WrkUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


def ensure_wrk() -> str:
    """wrk's path; installs Debian's package when missing and running as root (like CI)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found: apt-get install -y wrk")
        for command in (
            ["apt-get", "install", "-y", "wrk"],
            ["apt-get", "update"],
            ["apt-get", "install", "-y", "wrk"],
        ):
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            found = shutil.which("wrk")
            if found:
                return found
    raise WrkUnavailable("wrk is not installed and could not be installed (apt-get install -y wrk)")


def version(wrk: str) -> str:
    out = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    first = (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else "wrk"
    return first.split(" [")[0].removeprefix("wrk ")


def run_wrk(
    wrk: str,
    *,
    url: str,
    body: bytes,
    authorization: str | None,
    seconds: float,
    connections: int = 32,
) -> WrkResult:
    with tempfile.NamedTemporaryFile(prefix="bench-body.", suffix=".json") as body_file:
        body_file.write(body)
        body_file.flush()
        env = {**os.environ, "BENCH_BODY_FILE": body_file.name, "BENCH_AUTHORIZATION": authorization or ""}
        out = subprocess.run(
            [
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                f"--timeout={TIMEOUT_SECONDS}s",
                "--latency",
                "-s",
                str(SCRIPT),
                url,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    return parse(out.stdout)


_UNITS_MS: Final = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse(output: str) -> WrkResult:
    """The numbers out of wrk's text report."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE))
    if done is None or set(percentiles) != {"50", "99"}:
        raise ValueError(f"unexpected wrk output:\n{output}")
    requests = int(done.group(1))
    seconds = _ms(done.group(2) + done.group(3)) / 1000
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkResult(
        requests=requests,
        seconds=seconds,
        requests_per_second=requests / seconds if seconds else 0.0,
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )
