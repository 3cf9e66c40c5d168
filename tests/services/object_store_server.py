"""An S3-compatible server on loopback for the object-store tests: moto's server mode in a
subprocess (``python -m moto.server``), one per test session, a fresh bucket per test."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Final

from casegraph.settings import S3Location

START_TIMEOUT: Final = 30.0
# moto accepts any credentials; botocore insists on some.
CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "casegraph-test",
    "AWS_SECRET_ACCESS_KEY": "casegraph-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ObjectStoreServer:
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"moto's server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"moto's server did not listen on port {self.port} within {START_TIMEOUT}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def new_bucket(self) -> S3Location:
        """An empty bucket of a test's own, created over the S3 API."""
        import boto3  # the sync client (moto's own dependency) is enough for the tests' set-up

        name = f"casegraph-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1").create_bucket(Bucket=name)
        return S3Location(name, "attachments/")


def bucket_keys(location: S3Location, endpoint_url: str) -> list[str]:
    """The keys under the location's prefix, and any multipart upload left unfinished there."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1")
    listed = s3.list_objects_v2(Bucket=location.bucket, Prefix=location.prefix)
    unfinished = s3.list_multipart_uploads(Bucket=location.bucket, Prefix=location.prefix)
    keys = [str(item["Key"]) for item in listed.get("Contents", [])]
    return sorted(keys + [f"unfinished:{upload['Key']}" for upload in unfinished.get("Uploads", [])])
