"""``/readyz`` and the parts files need (issue 18): with an S3-compatible store configured it asks
the bucket (HEAD bucket), with clamd configured it asks clamd (PING), each within a short time,
and says which part is not ready. Against moto's S3 server and a real clamd on loopback."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from casegraph.settings import ClamdAddress, S3Location, Settings
from tests.helpers import GraphQLClient
from tests.live.support import free_port
from tests.services.clamd_server import ClamdServer
from tests.services.object_store_server import ObjectStoreServer


@pytest.fixture(params=["reachable", "unreachable"])
def settings(settings: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Files in a bucket, scanned by clamd: both there, or a missing bucket and no clamd listening."""
    objects: ObjectStoreServer = request.getfixturevalue("object_store_server")
    if request.param == "reachable":
        clamd: ClamdServer = request.getfixturevalue("clamd_server")
        bucket, scanner = objects.new_bucket(), clamd.tcp
    else:
        bucket = S3Location(bucket="casegraph-no-such-bucket", prefix="")
        scanner = ClamdAddress(host="127.0.0.1", port=free_port())
    return dataclasses.replace(
        settings,
        attachments_dir=str(tmp_path / "attachments"),
        attachments_url=bucket,
        s3_endpoint_url=objects.endpoint_url,
        clamd_url=scanner,
    )


async def test_readiness_asks_the_bucket_and_clamd_and_names_the_part_not_ready(
    client: GraphQLClient, request: pytest.FixtureRequest
) -> None:
    # given: the parts as the fixture set them up
    reachable = request.node.callspec.params["settings"] == "reachable"
    # when
    answer = await client.http.get("/readyz")
    # then: ready with both parts answering; else 503, each part that is not ready named
    checks = answer.json()["checks"]
    assert checks["database"] == "ok"
    if reachable:
        assert answer.status_code == 200, answer.text
        assert checks["attachmentStore"] == "ok" and checks["scanner"] == "ok"
    else:
        assert answer.status_code == 503 and answer.json()["ready"] is False
        assert checks["attachmentStore"].startswith("unavailable: ")
        assert checks["scanner"].startswith("unavailable: ")
