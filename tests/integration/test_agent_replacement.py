"""Replacement on liveness, with real processes on loopback: simulated nodes, their agents,
moto's Auto Scaling API and a stand-in for the instance metadata service (IMDSv2).

The agents run as on a node of an autoscaled region: ``--replace-unhealthy aws`` and the
metadata endpoint pointed at the stand-in, which names an instance of a group on moto. The
outcome is read through the API, as an operator would: DescribeAutoScalingInstances.
"""

from __future__ import annotations

import contextlib
import http.server as http_server
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.helpers.sync import moto_process
from tests.integration.simagent import http, start_agent, start_sim, wait_for

pytestmark = pytest.mark.timeout(120)

REGION = "eu-west-1"
FAST = ("--poll-interval", "0.1", "--timeout", "0.5", "--rise", "2", "--fall", "2")
TOKEN = "token-for-the-agent"


class _Metadata(http_server.BaseHTTPRequestHandler):
    """IMDSv2: PUT /latest/api/token, then reads that carry the token."""

    server: _MetadataServer

    def do_PUT(self) -> None:
        self.server.requests[self.path] += 1
        if self.path == "/latest/api/token" and self.headers.get(
            "X-aws-ec2-metadata-token-ttl-seconds"
        ):
            self._answer(200, TOKEN)
        else:
            self._answer(400, "bad token request")

    def do_GET(self) -> None:
        self.server.requests[self.path] += 1
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            self._answer(401, "")
            return
        answers = {
            "/latest/meta-data/instance-id": self.server.instance_id,
            "/latest/meta-data/placement/region": REGION,
        }
        if self.path in answers:
            self._answer(200, answers[self.path])
        else:
            self._answer(404, "")

    def _answer(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class _MetadataServer(http_server.ThreadingHTTPServer):
    def __init__(self, instance_id: str) -> None:
        super().__init__(("127.0.0.1", 0), _Metadata)
        self.instance_id = instance_id
        self.requests: Counter[str] = Counter()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextlib.contextmanager
def metadata_service(instance_id: str) -> Iterator[_MetadataServer]:
    server = _MetadataServer(instance_id)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def group():
    """An Auto Scaling group of three instances on moto; yields (autoscaling client, ids)."""
    import boto3

    with moto_process(REGION) as (env, _):
        ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=env["AWS_ENDPOINT_URL"])
        autoscaling = boto3.client(
            "autoscaling", region_name=REGION, endpoint_url=env["AWS_ENDPOINT_URL"]
        )
        ec2.create_launch_template(
            LaunchTemplateName="icon-node",
            LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"},
        )
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName="icon-nodes",
            LaunchTemplate={"LaunchTemplateName": "icon-node", "Version": "$Latest"},
            MinSize=3,
            MaxSize=3,
            DesiredCapacity=3,
            HealthCheckType="EC2",
            AvailabilityZones=[f"{REGION}a"],
        )
        described = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["icon-nodes"])
        ids = [i["InstanceId"] for i in described["AutoScalingGroups"][0]["Instances"]]
        assert len(ids) == 3
        yield autoscaling, ids


def health(autoscaling, instance_id: str) -> str:
    found = autoscaling.describe_auto_scaling_instances(InstanceIds=[instance_id])
    return found["AutoScalingInstances"][0]["HealthStatus"].upper()


def metric(agent, name: str) -> float | None:
    text = http("GET", agent.info["url"] + "/metrics")[1].decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def replace_options(imds: _MetadataServer, after: float, grace: float = 0) -> tuple[str, ...]:
    return (
        "--replace-unhealthy", "aws", "--replace-after", str(after),
        "--boot-grace", str(grace), "--imds-endpoint", imds.url,
    )  # fmt: skip


def test_liveness_failing_past_the_grace_replaces_the_instance_once(group) -> None:
    autoscaling, ids = group
    instance = ids[0]
    with (
        metadata_service(instance) as imds,
        start_sim("--block-interval", "0.05") as sim,
    ):
        node = sim.info["url"].removesuffix("/api/v3")
        with start_agent("--node", node, *FAST, *replace_options(imds, after=1)) as agent:
            assert agent.info["replace_unhealthy"] == "aws"
            assert wait_for(lambda: http("GET", agent.info["url"] + "/healthz")[0] == 200)
            sim.stop()  # the node process is gone
            wait_for(
                lambda: http("GET", agent.info["url"] + "/healthz")[0] == 503,
                message="liveness fails",
            )
            wait_for(lambda: health(autoscaling, instance) == "UNHEALTHY", timeout=15)
            assert metric(agent, "icon_agent_replacement_requested") == 1
            time.sleep(1.5)  # liveness keeps failing: no second request
            assert imds.requests["/latest/api/token"] == 1
            assert metric(agent, "icon_agent_replacement_errors_total") == 0
    assert [health(autoscaling, i) for i in ids[1:]] == ["HEALTHY", "HEALTHY"]


def test_no_replacement_within_the_boot_grace(group) -> None:
    """A node that has not answered yet (restoring) is live during the grace; after it, the
    failure counts, and replace_after later the instance is marked."""
    autoscaling, ids = group
    instance = ids[1]
    nowhere = "http://127.0.0.1:9"  # nothing listens: the node is "still restoring"
    with metadata_service(instance) as imds:
        started = time.monotonic()
        options = replace_options(imds, after=1, grace=4)
        with start_agent("--node", nowhere, *FAST, *options) as agent:
            status, body = http("GET", agent.info["url"] + "/healthz")
            assert (status, body) == (200, b"OK")
            while time.monotonic() - started < 3:
                assert health(autoscaling, instance) == "HEALTHY"
                assert http("GET", agent.info["url"] + "/readyz")[0] == 503
                time.sleep(0.2)
            assert not imds.requests
            wait_for(lambda: health(autoscaling, instance) == "UNHEALTHY", timeout=15)
            assert time.monotonic() - started >= 4 + 1
            status, body = http("GET", agent.info["url"] + "/healthz")
            assert status == 503 and body.startswith(b"UNHEALTHY node not answering")


def test_failing_readiness_alone_replaces_nothing(group) -> None:
    autoscaling, ids = group
    instance = ids[2]
    with (
        metadata_service(instance) as imds,
        start_sim("--stall") as sim,  # answers, but makes no blocks: never in sync
    ):
        node = sim.info["url"].removesuffix("/api/v3")
        options = ("--max-block-age", "1", *replace_options(imds, after=1))
        with start_agent("--node", node, *FAST, *options) as agent:
            wait_for(lambda: http("GET", agent.info["url"] + "/healthz")[0] == 200)
            # the stalled chain's last block turns older than --max-block-age within a second
            wait_for(lambda: http("GET", agent.info["url"] + "/readyz")[0] == 503)
            status, body = http("GET", agent.info["url"] + "/readyz")
            assert status == 503 and b"no readiness result" not in body
            deadline = time.monotonic() + 4  # four times --replace-after
            while time.monotonic() < deadline:
                assert http("GET", agent.info["url"] + "/healthz") == (200, b"OK")
                time.sleep(0.2)
            assert health(autoscaling, instance) == "HEALTHY"
            assert not imds.requests
            assert metric(agent, "icon_agent_replacement_requested") == 0
