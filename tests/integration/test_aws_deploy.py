"""`iconctl plan / apply / plan / destroy` through the pipeline, with the real Terraform and
the real hashicorp/aws provider against moto's AWS API on loopback.

What cannot exist here is replaced at the edge only: the node VMs behind moto's instances
(the configuration steps' plays record the hosts and variables Terraform reported instead
of configuring them, tests/fixtures/aws/ansible; Session Manager's plugin, which preflight
asks for, is a stub the stand-in play never calls) and Cloudflare (the global layer and the
zone steps need its provider, absent here: the AWS region runs as a lone region). After
`destroy`, the AWS API itself is asked what is left.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from iconctl.rehearsal import DEBIAN_AMI, TERRAFORM_VARIABLES, moto_server_env
from iconctl.rehearsal import terraform_cli_config as cli_config
from tests.helpers import EXAMPLES, ROOT, need_module, need_tool, run_iconctl
from tests.helpers.aws import need_aws_provider
from tests.helpers.sync import moto_process

pytestmark = pytest.mark.timeout(1800)

STAND_IN = ROOT / "tests" / "fixtures" / "aws"

# What moto does not keep, or answers differently from AWS, so that a plan right after an
# apply shows it as an in-place update (docs/terraform.md, "Rehearsing on a local AWS API").
# Any other change in that plan fails the test.
MOTO_DRIFT = {
    "aws_autoscaling_group": {
        "default_instance_warmup",
        "launch_template",
        "capacity_reservation_specification",
    },
    "aws_autoscaling_policy": {"enabled", "predictive_scaling_configuration"},
    "aws_launch_template": {"tag_specifications", "default_version", "latest_version"},
    "aws_lb_target_group": {"target_group_health"},
    "aws_vpc_security_group_ingress_rule": {"description"},
}


class Lab:
    """moto's AWS API, the provider mirror and the assets the pipeline runs with."""

    def __init__(self, folder: Path, aws_env: dict[str, str], mirror: Path) -> None:
        self.folder = folder
        self.aws_env = aws_env
        self.record = folder / "configured"
        self.record.mkdir()
        assets = folder / "assets"
        assets.mkdir()
        shipped = ("terraform", "packer", "compose", "edge", "monitoring", "logging", "kubernetes")
        for name in shipped:
            (assets / name).symlink_to(ROOT / name)
        (assets / "ansible").symlink_to(STAND_IN / "ansible")
        stubs = folder / "bin"
        stubs.mkdir()
        for tool in ("aws", "session-manager-plugin"):
            (stubs / tool).write_text("#!/bin/sh\necho 'stand-in: never called' >&2\nexit 1\n")
            (stubs / tool).chmod(0o755)
        self.env = {
            **aws_env,
            "PATH": f"{stubs}{os.pathsep}{os.environ.get('PATH', '')}",
            "TF_CLI_CONFIG_FILE": str(cli_config(mirror, folder)),
            "ICONCTL_ASSETS": str(assets),
            "ICONCTL_TEST_RECORD": str(self.record),
            # moto's gaps (docs/terraform.md, "Rehearsing on a local AWS API").
            **TERRAFORM_VARIABLES,
            "SLACK_WEBHOOK_URL": "https://hooks.example.invalid/sentinel-slack-5120",
            "TELEGRAM_BOT_TOKEN": "sentinel-telegram-5121",
            "ELASTICSEARCH_PASSWORD": "sentinel-es-5122",
        }

    def client(self, service: str, region: str):
        boto3 = need_module("boto3")
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.aws_env["AWS_ENDPOINT_URL"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def iconctl(self, spec: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return run_iconctl(*args, str(spec), cwd=spec.parent, env=self.env, timeout=1200)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    mirror = need_aws_provider()
    need_tool("terraform", "ansible-playbook")
    folder = tmp_path_factory.mktemp("aws")
    with moto_process("us-east-1", moto_server_env(folder)) as (env, _):
        lab = Lab(folder, env, mirror)
        # The operator's public zone, parent of both examples' hostnames.
        lab.client("route53", "us-east-1").create_hosted_zone(
            Name="example.org", CallerReference="example.org"
        )
        yield lab


def _report(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def _steps(report: dict) -> dict[str, str]:
    return {f"{s['unit']}/{s['step']}": s["status"] for s in report["steps"]}


def _plans(report: dict) -> dict[str, tuple[int, int, int]]:
    return {
        f"{s['unit']}/{s['step']}": (s["plan"]["add"], s["plan"]["change"], s["plan"]["destroy"])
        for s in report["steps"]
        if s.get("plan")
    }


def _any_unknown(unknown: object) -> bool:
    """after_unknown mirrors the value's shape with true where a value is unknown."""
    if isinstance(unknown, dict):
        return any(_any_unknown(v) for v in unknown.values())
    if isinstance(unknown, list):
        return any(_any_unknown(v) for v in unknown)
    return unknown is True


def _changed(before: object, after: object, unknown: object) -> bool:
    return before != after or _any_unknown(unknown)


def _unexpected_updates(lab: Lab, spec: Path, report: dict, unit: str, stack: str) -> dict:
    """The plan's in-place updates beyond MOTO_DRIFT: address -> changed attributes."""
    work = spec.parent / ".iconctl" / "work" / unit
    plan_file = Path(report["run_dir"]) / f"{unit}.tfplan"
    shown = subprocess.run(
        ["terraform", f"-chdir={work / 'terraform' / 'stacks' / stack}", "show", "-json",
         str(plan_file)],
        env={**os.environ, **lab.env, "TF_DATA_DIR": str(work / "tfdata")},
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    unexpected = {}
    for change in json.loads(shown.stdout).get("resource_changes", []):
        if change["change"]["actions"] != ["update"]:
            continue
        before = change["change"]["before"] or {}
        after = change["change"]["after"] or {}
        unknown = change["change"].get("after_unknown") or {}
        keys = {
            key for key in set(before) | set(after)
            if _changed(before.get(key), after.get(key), unknown.get(key))
        }  # fmt: skip
        extra = keys - MOTO_DRIFT.get(change["type"], set())
        if extra:
            unexpected[change["address"]] = sorted(extra)
    return unexpected


def _no_secret_kept(spec: Path) -> None:
    for path in (spec.parent / ".iconctl").rglob("*"):
        if path.is_file() and not path.name.endswith(".tfplan"):
            text = path.read_text(errors="replace")
            assert "sentinel-" not in text, f"a secret value reached {path}"


def _left_in(lab: Lab, region: str, deployment: str) -> dict[str, list]:
    """What the AWS API still holds of a deployment, asked through the API."""
    ec2 = lab.client("ec2", region)
    left: dict[str, list] = {
        "instances": [
            i["InstanceId"]
            for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]
            if i["State"]["Name"] != "terminated"
        ],
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]],
        "addresses": [a.get("AllocationId") for a in ec2.describe_addresses()["Addresses"]],
        "security_groups": [
            g["GroupId"]
            for g in ec2.describe_security_groups()["SecurityGroups"]
            if g["GroupName"] != "default"
        ],
        "volumes": [
            v["VolumeId"]
            for v in ec2.describe_volumes()["Volumes"]
            if any(t["Key"] == "iconctl-deployment" for t in v.get("Tags", []))
        ],
        "launch_templates": [
            t["LaunchTemplateId"] for t in ec2.describe_launch_templates()["LaunchTemplates"]
        ],
        "load_balancers": [
            lb["LoadBalancerArn"]
            for lb in lab.client("elbv2", region).describe_load_balancers()["LoadBalancers"]
        ],
        "target_groups": [
            tg["TargetGroupArn"]
            for tg in lab.client("elbv2", region).describe_target_groups()["TargetGroups"]
        ],
        "autoscaling_groups": [
            g["AutoScalingGroupName"]
            for g in lab.client("autoscaling", region).describe_auto_scaling_groups()[
                "AutoScalingGroups"
            ]
        ],
        "certificates": [
            c["CertificateArn"]
            for c in lab.client("acm", region).list_certificates()["CertificateSummaryList"]
        ],
        "nat_gateways": [
            g["NatGatewayId"]
            for g in ec2.describe_nat_gateways()["NatGateways"]
            if g["State"] not in ("deleted", "deleting")
        ],
    }
    iam = lab.client("iam", region)
    roles = iam.list_roles()["Roles"]
    left["roles"] = [r["RoleName"] for r in roles if deployment in r["RoleName"]]
    left["instance_profiles"] = [
        p["InstanceProfileName"]
        for p in iam.list_instance_profiles()["InstanceProfiles"]
        if deployment in p["InstanceProfileName"]
    ]
    left["policies"] = [
        p["PolicyName"]
        for p in iam.list_policies(Scope="Local")["Policies"]
        if deployment in p["PolicyName"]
    ]
    route53 = lab.client("route53", region)
    left["records"] = [
        f"{record['Name']} {record['Type']}"
        for zone in route53.list_hosted_zones()["HostedZones"]
        for record in route53.list_resource_record_sets(HostedZoneId=zone["Id"])[
            "ResourceRecordSets"
        ]
        if record["Type"] not in ("NS", "SOA")
    ]
    kms = lab.client("kms", region)
    # Keys the services make for themselves (alias/aws/ebs for encrypted volumes) are not
    # the deployment's; destroying a key schedules its deletion.
    managed = {
        a.get("TargetKeyId")
        for a in kms.list_aliases()["Aliases"]
        if a["AliasName"].startswith("alias/aws/")
    }
    left["kms_keys"] = [
        k["KeyId"]
        for k in kms.list_keys()["Keys"]
        if k["KeyId"] not in managed
        and kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
    ]
    return {kind: items for kind, items in left.items() if items}


def _buckets(lab: Lab) -> list[str]:
    return [b["Name"] for b in lab.client("s3", "us-east-1").list_buckets()["Buckets"]]


def test_single_node_example_plan_apply_plan_destroy(lab: Lab, tmp_path: Path) -> None:
    """The single-node example, with its region's private monitoring host (the spec's
    default monitoring.prometheus: true)."""
    spec = tmp_path / "iconctl.yaml"
    shutil.copy(EXAMPLES / "single-node.yaml", spec)
    region = "us-east-2"
    monitoring = f"{region}-monitoring"
    before = set(_buckets(lab))

    planned = _report(lab.iconctl(spec, "plan", "--json"))
    # The monitoring host joins the region's network: planned once apply has created it.
    assert _steps(planned) == {f"{region}/infra": "planned", f"{monitoring}/infra": "deferred"}
    add, change, destroy = _plans(planned)[f"{region}/infra"]
    assert add > 15 and change == destroy == 0
    assert _left_in(lab, region, "my-icon-node") == {}, "plan changed something"

    applied = _report(lab.iconctl(spec, "apply", "--auto-approve", "--json"))
    assert _steps(applied) == {
        f"{region}/infra": "done",
        f"{region}/config": "done",
        f"{monitoring}/infra": "done",
        f"{monitoring}/config": "done",
    }
    assert all(s["seconds"] > 0 for s in applied["steps"])
    # In order: the region, then its monitoring host.
    assert [s["unit"] for s in applied["steps"]] == [region, region, monitoring, monitoring]

    # The node as the AWS API sees it: the official Debian image, IMDSv2, encrypted disks.
    ec2 = lab.client("ec2", region)
    running = [
        i
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] == "running"
    ]
    roles = {_tag(i, "iconctl-role"): i for i in running}
    assert sorted(roles) == ["monitoring", "node"]
    instance, host = roles["node"], roles["monitoring"]
    assert instance["ImageId"] == DEBIAN_AMI
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    volumes = ec2.describe_volumes(
        Filters=[{"Name": "attachment.instance-id", "Values": [instance["InstanceId"]]}]
    )["Volumes"]
    assert volumes and all(v["Encrypted"] for v in volumes)
    [address] = [a for a in ec2.describe_addresses()["Addresses"] if a.get("InstanceId")]
    assert address["InstanceId"] == instance["InstanceId"]
    records = lab.client("route53", region).list_resource_record_sets(
        HostedZoneId=lab.client("route53", region).list_hosted_zones()["HostedZones"][0]["Id"]
    )["ResourceRecordSets"]
    [a_record] = [r for r in records if r["Name"] == "node.example.org." and r["Type"] == "A"]
    assert a_record["ResourceRecords"] == [{"Value": address["PublicIp"]}]

    # The configuration step got the host Terraform reported, with the rendered variables.
    configured = json.loads((lab.record / f"{address['PublicIp']}.json").read_text())
    assert "icon_nodes" in configured["groups"]
    assert configured["region"] == region
    assert configured["node_image"] == "iconloop/icon2-node:v1.4.4"

    _check_monitoring_host(lab, region, host, instance)
    # Its config step: the instance id as the host, through Session Manager, the files tree.
    given = json.loads((lab.record / f"{host['InstanceId']}.json").read_text())
    assert given["groups"] == ["icon_monitoring"]
    assert given["global"] is True  # the spec's only aws region holds the global view
    assert given["listen_address"] == host["PrivateIpAddress"]
    [data_volume] = [v for v in _host_volumes(lab, region, host) if v["Size"] == 50]
    assert given["data_device"] == (
        "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol" + data_volume["VolumeId"][4:]
    )
    assert "AWS-StartSSHSession" in given["ssh_common_args"]
    assert f"--region {region}" in given["ssh_common_args"]
    assert given["files_dir"] == str(spec.parent / ".iconctl" / "work" / monitoring / "files")
    assert Path(given["files_dir"]).is_dir()

    replanned = _report(lab.iconctl(spec, "plan", "--json"))
    assert _plans(replanned)[f"{region}/infra"] == (0, 0, 0), "a second plan wants changes"
    add, _, destroy = _plans(replanned)[f"{monitoring}/infra"]
    assert (add, destroy) == (0, 0), "a second plan wants to replace the monitoring host"
    assert _unexpected_updates(lab, spec, replanned, monitoring, "aws-monitoring") == {}

    # Monitoring turned off: plan plans the host's removal (its NAT gateway and the rules it
    # added to the node's firewall go with its stack), apply removes it before the region's
    # apply closes the metrics ports, and nothing is left behind unnamed.
    data = yaml.safe_load(spec.read_text())
    data.setdefault("monitoring", {})["prometheus"] = False
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    off = lab.iconctl(spec, "plan", "--json")
    assert "no longer deploys" not in off.stderr
    add, _, destroy = _plans(_report(off))[f"{monitoring}/infra"]
    assert add == 0 and destroy > 5
    removed = _report(lab.iconctl(spec, "apply", "--auto-approve", "--json"))
    assert [(s["unit"], s["step"], s["status"]) for s in removed["steps"]][:2] == [
        (monitoring, "infra", "destroyed"),
        (region, "infra", "done"),
    ]
    assert [
        i
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] == "running" and _tag(i, "iconctl-role") == "monitoring"
    ] == []
    assert _left_in(lab, region, "my-icon-node").get("nat_gateways") is None
    again = _report(lab.iconctl(spec, "plan", "--json"))
    assert monitoring not in {s["unit"] for s in again["steps"]}

    destroyed = _report(lab.iconctl(spec, "destroy", "--auto-approve", "--json"))
    assert [(s["unit"], s["status"]) for s in destroyed["steps"]] == [(region, "destroyed")]
    assert _left_in(lab, region, "my-icon-node") == {}
    assert set(_buckets(lab)) == before
    _no_secret_kept(spec)


def _tag(resource: dict, key: str) -> str | None:
    return next((t["Value"] for t in resource.get("Tags", []) if t["Key"] == key), None)


def _groups(instance: dict) -> list[str]:
    """The instance's security groups (moto reports them on its network interface)."""
    groups = instance.get("SecurityGroups") or instance["NetworkInterfaces"][0]["Groups"]
    return [g["GroupId"] for g in groups]


def _host_volumes(lab: Lab, region: str, host: dict) -> list[dict]:
    """The volumes attached to an instance."""
    return lab.client("ec2", region).describe_volumes(
        Filters=[{"Name": "attachment.instance-id", "Values": [host["InstanceId"]]}]
    )["Volumes"]


def _check_monitoring_host(lab: Lab, region: str, host: dict, node: dict) -> None:
    """The monitoring host as the AWS API sees it: private, IMDSv2, encrypted volumes, no
    ingress but federation, EC2 discovery and Session Manager, and the node admits it."""
    ec2 = lab.client("ec2", region)
    assert not host.get("PublicIpAddress"), "the monitoring host has a public address"
    assert host["ImageId"] == DEBIAN_AMI
    assert host["MetadataOptions"]["HttpTokens"] == "required"
    subnet = ec2.describe_subnets(SubnetIds=[host["SubnetId"]])["Subnets"][0]
    assert subnet["MapPublicIpOnLaunch"] is False
    volumes = _host_volumes(lab, region, host)
    assert sorted(v["Size"] for v in volumes)[-1] == 50  # monitoring.volume_gib
    assert len(volumes) == 2 and all(v["Encrypted"] for v in volumes)
    # The data volume is a volume of its own (resized in place), attached in the host's zone.
    [data] = [v for v in volumes if v["Size"] == 50]
    assert data["AvailabilityZone"] == host["Placement"]["AvailabilityZone"]
    assert [(a["Device"], a["State"]) for a in data["Attachments"]] == [("/dev/sdf", "attached")]
    # Its first boot installs and starts Session Manager's agent from the region's bucket.
    encoded = ec2.describe_instance_attribute(InstanceId=host["InstanceId"], Attribute="userData")
    script = base64.b64decode(encoded["UserData"]["Value"]).decode()
    assert script.startswith("#!/bin/sh\n")
    assert (
        f"https://s3.{region}.amazonaws.com/amazon-ssm-{region}/latest/debian_amd64/"
        "amazon-ssm-agent.deb" in script
    )
    assert "dpkg -i" in script and "systemctl enable amazon-ssm-agent.service" in script
    [group_id] = _groups(host)
    [group] = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    assert group["IpPermissions"] == [], "the monitoring host admits something"
    # Its outbound traffic leaves through the NAT gateway the stack made.
    [nat] = [g for g in ec2.describe_nat_gateways()["NatGateways"] if g["State"] == "available"]
    routes = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [host["SubnetId"]]}]
    )["RouteTables"][0]["Routes"]
    assert any(r.get("NatGatewayId") == nat["NatGatewayId"] for r in routes)
    # The node's group admits the host's group on the ports it scrapes, nothing else.
    [node_group_id] = _groups(node)
    [node_group] = ec2.describe_security_groups(GroupIds=[node_group_id])["SecurityGroups"]
    scraped = {
        (rule["FromPort"], rule["ToPort"])
        for rule in node_group["IpPermissions"]
        if any(pair["GroupId"] == group_id for pair in rule.get("UserIdGroupPairs", []))
    }
    assert scraped == {(9900, 9900), (9100, 9100), (9598, 9598)}
    # IAM: the discovery role with Session Manager's managed policy.
    iam = lab.client("iam", region)
    profile = host["IamInstanceProfile"]["Arn"].rsplit("/", 1)[-1]
    [role] = iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"]
    attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonSSMManagedInstanceCore"]
    inline = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
    assert len(inline) == 1 and inline[0].startswith("ec2-discovery-")


def _autoscaled_spec(folder: Path, image: str) -> Path:
    """The multi-region example's us-east-1 region as a lone region (no Cloudflare provider
    here for the global layer), S3 state, with the image pinned."""
    data = yaml.safe_load((EXAMPLES / "multi-region.yaml").read_text())
    [region] = [r for r in data["regions"] if r["name"] == "us-east-1"]
    region["image_id"] = image
    data["regions"] = [region]
    for key in ("geo", "gcp"):
        data.pop(key)
    data["protect"] = False
    # The monitoring host runs in the single-node test; here only the region (CI time).
    data["monitoring"]["prometheus"] = False
    spec = folder / "iconctl.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    return spec


def test_autoscaled_region_with_s3_state(lab: Lab, tmp_path: Path) -> None:
    region = "us-east-1"
    spec = _autoscaled_spec(tmp_path, DEBIAN_AMI)

    # Before the first apply the state bucket does not exist: the region's plan waits for it.
    planned = _report(lab.iconctl(spec, "plan", "--json"))
    assert _steps(planned) == {"state-backend/infra": "planned", f"{region}/infra": "deferred"}
    assert _plans(planned)["state-backend/infra"][0] > 0

    applied = _report(lab.iconctl(spec, "apply", "--auto-approve", "--json"))
    assert _steps(applied) == {
        "state-backend/infra": "done",
        f"{region}/infra": "done",
        f"{region}/config": "done",
    }
    # The region's state lives in the bucket the state-backend unit created.
    s3 = lab.client("s3", region)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="icon-api-tfstate")["Contents"]]
    assert f"iconctl/icon-api/{region}.tfstate" in keys
    groups = lab.client("autoscaling", region).describe_auto_scaling_groups()["AutoScalingGroups"]
    [group] = groups
    assert (group["MinSize"], group["MaxSize"]) == (2, 6)
    template = lab.client("ec2", region).describe_launch_template_versions(
        LaunchTemplateId=group["LaunchTemplate"]["LaunchTemplateId"], Versions=["$Latest"]
    )["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert template["ImageId"] == DEBIAN_AMI
    assert template["MetadataOptions"]["HttpTokens"] == "required"

    replanned = _report(lab.iconctl(spec, "plan", "--json"))
    add, _, destroy = _plans(replanned)[f"{region}/infra"]
    assert (add, destroy) == (0, 0), "a second plan wants to create or destroy"
    assert _unexpected_updates(lab, spec, replanned, region, "aws-asg") == {}

    destroyed = _report(lab.iconctl(spec, "destroy", "--auto-approve", "--json"))
    assert _steps(destroyed) == {f"{region}/infra": "destroyed"}
    # destroy keeps the state bucket and its key (they hold every unit's state); nothing
    # else of the deployment is left.
    state_key = s3.get_bucket_encryption(Bucket="icon-api-tfstate")[
        "ServerSideEncryptionConfiguration"
    ]["Rules"][0]["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    left = _left_in(lab, region, "icon-api")
    assert [state_key.rsplit("/", 1)[-1]] == left.pop("kms_keys", [])
    assert left == {}
    assert "icon-api-tfstate" in _buckets(lab)
    assert not [b for b in _buckets(lab) if b.startswith("icon-api-snapshots")]
    _no_secret_kept(spec)
