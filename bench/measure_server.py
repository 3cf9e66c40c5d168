"""Drive a real ``casegraph serve`` with wrk and report requests/s, latency and server CPU per request.

    python -m bench.measure_server --database-url postgres://…/qa_perf --token T \
        --first 50 --seconds 10 [--py-spy profile.svg | --py-spy-top]

A development tool for the profile-then-fix loop (the benchmark suite in bench/ is the judge).
Server CPU is read from /proc (user + system time of the server process) before and after the
run, so it counts only the server, not wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.perf.queue_query import QUEUE_QUERY

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def wrk_script(body: str, token: str) -> str:
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--secret", default="perf-secret-perf-secret-perf-secret-32")
    parser.add_argument("--first", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=18431)
    parser.add_argument("--query", default=QUEUE_QUERY)
    parser.add_argument("--py-spy", dest="py_spy", help="record a flame graph (SVG) of the server during the run")
    parser.add_argument("--py-spy-top", action="store_true", help="print py-spy's hottest functions (--format raw)")
    args = parser.parse_args()

    env = {
        **os.environ,
        "CASEGRAPH_DATABASE_URL": args.database_url,
        "CASEGRAPH_JWT_SECRET": args.secret,
        "CASEGRAPH_SLA_INTERVAL": "0",
        "CASEGRAPH_OUTBOX_INTERVAL": "0",
        "CASEGRAPH_LOG_LEVEL": "WARNING",
        "CASEGRAPH_RATE_LIMITS": "off",
    }
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen(
        [str(bin_dir / "casegraph"), "serve", "--port", str(args.port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{args.port}"
    try:
        wait_ready(url)
        body = json.dumps({"query": args.query, "variables": {"first": args.first}, "operationName": "AgentQueue"})
        request = urllib.request.Request(
            f"{url}/graphql",
            data=body.encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {args.token}"},
        )
        with urllib.request.urlopen(request) as answer:
            sample = json.loads(answer.read())
        if sample.get("errors"):
            raise RuntimeError(f"the query failed: {sample['errors']}")
        edges = len(sample["data"]["cases"]["edges"])
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(wrk_script(body, args.token))
        # Warm up (caches, connection pool), then measure.
        subprocess.run(
            ["wrk", "-t2", "-c8", "-d2s", "-s", script.name, f"{url}/graphql"], check=True, capture_output=True
        )
        spy = None
        if args.py_spy or args.py_spy_top:
            out = args.py_spy or "/tmp/py-spy-raw.txt"
            fmt = ["--format", "raw"] if args.py_spy_top else []
            spy = subprocess.Popen(
                [
                    str(bin_dir / "py-spy"),
                    "record",
                    "--pid",
                    str(server.pid),
                    "-o",
                    out,
                    "-d",
                    str(args.seconds),
                    "-r",
                    "200",
                    *fmt,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        before = cpu_seconds(server.pid)
        run = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "--latency",
                "-s",
                script.name,
                f"{url}/graphql",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        used = cpu_seconds(server.pid) - before
        if spy is not None:
            spy.wait()
        total = int(re.search(r"(\d+) requests in", run.stdout).group(1))  # type: ignore[union-attr]
        rate = re.search(r"Requests/sec:\s+([\d.]+)", run.stdout).group(1)  # type: ignore[union-attr]
        p50 = re.search(r"50%\s+(\S+)", run.stdout).group(1)  # type: ignore[union-attr]
        p99 = re.search(r"99%\s+(\S+)", run.stdout).group(1)  # type: ignore[union-attr]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", run.stdout)
        print(
            f"edges={edges} requests={total} req/s={rate} p50={p50} p99={p99} "
            f"server_cpu_ms/req={1000 * used / max(total, 1):.2f} non2xx={errors.group(1) if errors else 0}"
        )
        if args.py_spy_top:
            print(top_functions(Path("/tmp/py-spy-raw.txt")))
    finally:
        server.terminate()
        server.wait(timeout=10)


def top_functions(raw: Path, count: int = 40) -> str:
    """Self and inclusive sample counts per function from py-spy's collapsed-stack output."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        n = int(samples)
        total += n
        frames = stack.split(";")
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
    lines = [f"total samples {total}", "-- self --"]
    for frame, n in sorted(own.items(), key=lambda kv: -kv[1])[:count]:
        lines.append(f"{100 * n / total:5.1f}% {frame}")
    lines.append("-- inclusive --")
    for frame, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:count]:
        lines.append(f"{100 * n / total:5.1f}% {frame}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
