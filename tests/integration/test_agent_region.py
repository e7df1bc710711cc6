"""/region/readyz with real processes on loopback: simulated nodes, their agents, and moto's
Elastic Load Balancing API standing in for the region's target group.

moto reports a registered instance target healthy while the instance runs and "unused" once
it is stopped, so stopping instances through the EC2 API takes nodes out of the count the
way failing health checks do on AWS.
"""

from __future__ import annotations

import pytest

from tests.helpers.sync import moto_process
from tests.integration.simagent import http, start_agent, start_sim, wait_for

pytestmark = pytest.mark.timeout(120)

REGION = "eu-central-1"
FAST = ("--poll-interval", "0.1", "--timeout", "0.5", "--rise", "2", "--fall", "2")


def elb_api():
    """moto's server as a real process; the agents are started with its environment."""
    return moto_process(REGION)


def target_group(env: dict[str, str], nodes: int) -> tuple[str, list[str], object]:
    """A target group with ``nodes`` running instances registered; (ARN, instance ids, ec2)."""
    import boto3

    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=env["AWS_ENDPOINT_URL"])
    elb = boto3.client("elbv2", region_name=REGION, endpoint_url=env["AWS_ENDPOINT_URL"])
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ids = [
        i["InstanceId"]
        for i in ec2.run_instances(ImageId="ami-12c6146b", MinCount=nodes, MaxCount=nodes)[
            "Instances"
        ]
    ]
    arn = elb.create_target_group(
        Name="icon-rpc",
        Protocol="TCP",
        Port=80,
        VpcId=vpc,
        TargetType="instance",
        HealthCheckProtocol="HTTP",
        HealthCheckPort="9900",
        HealthCheckPath="/readyz",
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": i, "Port": 80} for i in ids])
    return arn, ids, ec2


def region_probe(agent) -> tuple[int, str]:
    status, body = http("GET", agent.info["url"] + "/region/readyz")
    return status, body.decode()


def wait_region(agents, status: int, starts: str = "", timeout: float = 15) -> str:
    """Every agent gives the same answer: the load balancer may forward the probe to any."""

    def check():
        got = [region_probe(a) for a in agents]
        ok = all(g[0] == status and g[1].startswith(starts) for g in got)
        return got[0][1] if ok else None

    return wait_for(check, timeout=timeout, message=f"/region/readyz {status} {starts!r}")


def test_region_readyz_flips_at_min_ready_and_survives_the_source(tmp_path):
    with elb_api() as (env, api):
        arn, instances, ec2 = target_group(env, nodes=3)
        with (
            start_sim("--block-interval", "0.05") as sim_a,
            start_sim("--block-interval", "0.05") as sim_b,
        ):
            region = (
                "--region-source",
                f"aws:{arn}",
                "--region-min-ready",
                "2",
                "--region-interval",
                "1",
                "--region-max-stale",
                "3",
            )
            node_a = sim_a.info["url"].removesuffix("/api/v3")
            node_b = sim_b.info["url"].removesuffix("/api/v3")
            with (
                start_agent("--node", node_a, *FAST, *region) as agent_a,
                start_agent("--node", node_b, *FAST, *region) as agent_b,
            ):
                agents = [agent_a, agent_b]
                assert agent_a.info["region_source"] == f"aws:{arn}"
                assert wait_region(agents, 200) == "OK"  # 3 of 3

                ec2.stop_instances(InstanceIds=instances[:1])
                assert wait_region(agents, 200) == "OK"  # 2 of 3: still at N
                ec2.stop_instances(InstanceIds=instances[1:2])
                assert (
                    wait_region(agents, 503, "UNHEALTHY region")
                    == "UNHEALTHY region: 1 of 3 nodes ready < 2"
                )
                ec2.start_instances(InstanceIds=instances[1:2])
                assert wait_region(agents, 200) == "OK"

                # Probes are served from the prepared answer: the count of source reads
                # follows the interval, not the probe rate.
                def polls(agent) -> int:
                    text = http("GET", agent.info["url"] + "/metrics")[1].decode()
                    line = next(
                        x for x in text.splitlines() if x.startswith("icon_agent_polls_total")
                        and 'target="region"' in x and 'result="ok"' in x
                    )  # fmt: skip
                    return int(float(line.split()[-1]))

                before = polls(agent_a)
                for _ in range(200):
                    assert region_probe(agent_a) == (200, "OK")
                assert polls(agent_a) - before <= 2

                # The source goes away: the last count holds for --region-max-stale, then each
                # node answers with its own readiness, so a healthy region stays in ...
                api.kill()
                api.wait()
                wait_for(
                    lambda: (
                        "icon_region_fallback 1"
                        in http("GET", agent_a.info["url"] + "/metrics")[1].decode()
                    ),
                    timeout=15,
                    message="fallback",
                )
                assert region_probe(agent_a) == (200, "OK")
                # ... and a region whose nodes are not ready goes out.
                sim_b.stop()
                reason_b = wait_region([agent_b], 503, "UNHEALTHY region source unavailable")
                assert reason_b.endswith("this node: node not answering: connection refused")
