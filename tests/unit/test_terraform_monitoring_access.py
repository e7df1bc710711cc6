"""What the regional Prometheus is granted and what it can reach, read from the HCL.

Discovery identities hold exactly the read-only permissions the rendered discovery blocks
need (a missing one breaks discovery, an extra one is more than needed); GCP instances
carry the labels `gce_sd_configs` selects on; the metrics ports are opened to
`monitoring_cidrs` and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import ROOT, need_module

MODULES = ROOT / "terraform" / "modules"
STACKS = ROOT / "terraform" / "stacks"


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _parse(path: Path) -> dict:
    hcl2 = need_module("hcl2")
    with path.open() as handle:
        return hcl2.load(handle)


def _blocks(directory: Path, kind: str) -> dict[tuple[str, str], dict]:
    """(type, name) -> body for every `resource`/`data` block of a module."""
    found: dict[tuple[str, str], dict] = {}
    for tf in sorted(directory.glob("*.tf")):
        for block in _parse(tf).get(kind, []):
            for type_name, named in block.items():
                for name, body in named.items():
                    found[(_unquote(type_name), _unquote(name))] = body
    return found


def _strings(value: object) -> list[str]:
    return [_unquote(str(item)) for item in value] if isinstance(value, list) else []


# --- discovery permissions -----------------------------------------------------------------


def test_aws_discovery_policy_is_exactly_the_two_describe_actions() -> None:
    data = _blocks(MODULES / "aws-monitoring-discovery", "data")
    [statement] = data[("aws_iam_policy_document", "discovery")]["statement"]
    assert _unquote(statement.get("effect", '"Allow"')) == "Allow"
    assert sorted(_strings(statement["actions"])) == [
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInstances",
    ]
    # Describe calls take no resource-level permissions; the region condition narrows them.
    assert _strings(statement["resources"]) == ["*"]
    [condition] = statement["condition"]
    assert _unquote(condition["variable"]) == "aws:RequestedRegion"
    assert "not_actions" not in statement


def test_aws_discovery_role_holds_only_that_policy() -> None:
    resources = _blocks(MODULES / "aws-monitoring-discovery", "resource")
    assert {kind for kind, _ in resources} == {
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_iam_instance_profile",
    }, "no managed-policy attachment or second policy on the discovery role"
    policy = resources[("aws_iam_role_policy", "discovery")]
    assert "data.aws_iam_policy_document.discovery.json" in str(policy["policy"])
    role = resources[("aws_iam_role", "this")]
    assert "inline_policy" not in role and "managed_policy_arns" not in role
    assume = _blocks(MODULES / "aws-monitoring-discovery", "data")[
        ("aws_iam_policy_document", "assume")
    ]
    [principal] = assume["statement"][0]["principals"]
    assert _strings(principal["identifiers"]) == ["ec2.amazonaws.com"]


def test_gcp_discovery_role_is_exactly_instance_listing() -> None:
    resources = _blocks(MODULES / "gcp-monitoring-discovery", "resource")
    role = resources[("google_project_iam_custom_role", "this")]
    assert _strings(role["permissions"]) == ["compute.instances.list"]
    bindings = [
        body
        for (kind, _), body in resources.items()
        if kind.startswith("google_project_iam_") and kind != "google_project_iam_custom_role"
    ]
    assert len(bindings) == 1, "the account gets the custom role and nothing else"
    assert "google_project_iam_custom_role.this.id" in str(bindings[0]["role"])
    assert "google_service_account.this.email" in str(bindings[0]["member"])


@pytest.mark.parametrize(
    "stack, module",
    [
        ("aws-single", "aws-monitoring-discovery"),
        ("aws-asg", "aws-monitoring-discovery"),
        ("gcp-single", "gcp-monitoring-discovery"),
        ("gcp-asg", "gcp-monitoring-discovery"),
    ],
)
def test_region_stacks_create_the_discovery_identity(stack: str, module: str) -> None:
    modules = {}
    for tf in (STACKS / stack).glob("*.tf"):
        for block in _parse(tf).get("module", []):
            modules.update({_unquote(k): v for k, v in block.items()})
    body = modules["monitoring_discovery"]
    assert _unquote(body["source"]) == f"../../modules/{module}"
    assert "var.monitoring_cidrs" in str(body["count"])


# --- labels discovery selects on -----------------------------------------------------------


@pytest.mark.parametrize(
    "module, kind, role",
    [
        ("gcp-single-node", "google_compute_instance", "var.role"),
        ("gcp-mig", "google_compute_instance_template", '"node"'),
    ],
)
def test_gcp_instances_carry_the_discovery_role_label(module: str, kind: str, role: str) -> None:
    body = _blocks(MODULES / module, "resource")[(kind, "this")]
    labels = str(body["labels"])
    assert "var.labels" in labels, "iconctl-name comes from the naming module's labels"
    assert re.search(r'"iconctl-role"\s*=\s*' + re.escape(role), labels), labels


def test_gcp_source_node_is_a_single_node_with_role_source() -> None:
    modules = {}
    for block in _parse(MODULES / "gcp-source-node" / "main.tf").get("module", []):
        modules.update({_unquote(k): v for k, v in block.items()})
    [body] = [b for b in modules.values() if _unquote(b["source"]) == "../gcp-single-node"]
    assert _unquote(body["role"]) == "source"
    assert "var.labels" in str(body["labels"])


def test_naming_labels_carry_the_deployment_name() -> None:
    text = (MODULES / "naming" / "main.tf").read_text()
    assert re.search(r'"iconctl-name"\s*=\s*var\.name', text)


# --- metrics ports -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module, kind, name",
    [
        # the single and autoscaled AWS nodes share one firewall module
        ("aws-node-firewall", "aws_vpc_security_group_ingress_rule", "metrics"),
        # and the single and managed-group GCP nodes another
        ("gcp-node-firewall", "google_compute_firewall", "metrics"),
    ],
)
def test_metrics_ports_open_to_the_monitoring_range_only(module: str, kind: str, name: str) -> None:
    body = _blocks(MODULES / module, "resource")[(kind, name)]
    text = str(body)
    assert "0.0.0.0/0" not in text
    assert "var.exporter_ports" in text, f"{module}: {name} does not open the exporter ports"
    # goloop's /metrics is relayed by the agent: its port (and admin API) stays closed
    assert "var.rpc_port" not in text, f"{module}: {name} opens the RPC/admin port"
    if kind == "google_compute_firewall":
        assert str(body["source_ranges"]) == "${var.monitoring_cidrs}"
    else:
        assert "setproduct(var.monitoring_cidrs" in str(body["for_each"])
        assert str(body["cidr_ipv4"]) == "${each.value.cidr}"


@pytest.mark.parametrize("module", ["aws-single-node", "aws-asg", "gcp-single-node", "gcp-mig"])
def test_nodes_hand_the_monitoring_range_and_exporters_to_their_firewall(module: str) -> None:
    modules = {}
    for block in _parse(MODULES / module / "main.tf").get("module", []):
        modules.update({_unquote(k): v for k, v in block.items()})
    body = modules["firewall"]
    assert _unquote(body["source"]).endswith("-node-firewall")
    assert str(body["monitoring_cidrs"]) == "${var.monitoring_cidrs}"
    assert "var.exporter_ports" in str(body["exporter_ports"])


@pytest.mark.parametrize("module", ["aws-single-node", "aws-asg", "gcp-single-node", "gcp-mig"])
def test_exporter_ports_default_to_node_exporter_and_the_log_shipper(module: str) -> None:
    variables = {}
    for block in _parse(MODULES / module / "variables.tf").get("variable", []):
        variables.update({_unquote(k): v for k, v in block.items()})
    assert variables["exporter_ports"]["default"] == [9100, 9598]
    text = str(variables["monitoring_cidrs"])
    assert "0.0.0.0/0" in text and "validation" in text, "monitoring_cidrs refuses 0.0.0.0/0"


@pytest.mark.parametrize("module", ["aws-single-node", "aws-asg", "gcp-single-node", "gcp-mig"])
def test_baked_nodes_move_exporters_to_the_private_address_with_monitoring(module: str) -> None:
    modules = {}
    for block in _parse(MODULES / module / "main.tf").get("module", []):
        modules.update({_unquote(k): v for k, v in block.items()})
    body = modules["user_data"]
    assert "var.monitoring_cidrs" in str(body["metrics_on_private_address"])


@pytest.mark.parametrize("stack", ["aws-single", "aws-asg", "gcp-single", "gcp-asg"])
def test_ansible_vars_give_the_exporters_the_private_address_with_monitoring(stack: str) -> None:
    outputs = {}
    for block in _parse(STACKS / stack / "outputs.tf").get("output", []):
        outputs.update({_unquote(k): v for k, v in block.items()})
    value = str(outputs["ansible_vars"]["value"])
    assert re.search(
        r"length\(var\.monitoring_cidrs\) > 0[^?]*\? \{\s*\"?icon_node_metrics_address"
        r"\"?\s*=\s*module\.(node|source_node\[0\])\.private_ip",
        value,
    ), value


# --- the monitoring host's own identity and variables ---------------------------------------


def test_gcp_monitoring_host_names_its_identity_apart_from_the_region_stacks() -> None:
    """A region stack with monitoring_cidrs creates gcp-monitoring-discovery under the same
    prefix the monitoring stack passes its host: the host's must be named otherwise, or
    the monitoring stack's apply fails "already exists" (service account and role ids are
    project-wide)."""
    modules = {}
    for block in _parse(MODULES / "gcp-monitoring-host" / "main.tf").get("module", []):
        modules.update({_unquote(k): v for k, v in block.items()})
    assert str(modules["discovery"]["name"]) == "${local.discovery_name}"
    [local_block] = [b for b in _parse(MODULES / "gcp-monitoring-host" / "main.tf")["locals"]]
    expression = str(local_block["discovery_name"])
    assert '"${var.name}-mon"' in expression or "${var.name}-mon" in expression, expression


def test_aws_discovery_identity_names_are_prefixes() -> None:
    """On AWS the region's and the host's discovery roles share a name: name_prefix keeps
    them apart."""
    resources = _blocks(MODULES / "aws-monitoring-discovery", "resource")
    for kind in ("aws_iam_role", "aws_iam_instance_profile"):
        body = resources[(kind, "this")]
        assert "name_prefix" in body and "name" not in body, kind


@pytest.mark.parametrize("stack", ["aws-monitoring", "gcp-monitoring"])
def test_monitoring_stacks_call_their_range_federation_cidrs(stack: str) -> None:
    """Not monitoring_cidrs: the region stacks' variable of that name opens the nodes'
    exporters, and one TF_VAR_ in the operator's shell would set both."""
    variables = {}
    for block in _parse(STACKS / stack / "variables.tf").get("variable", []):
        variables.update({_unquote(k): v for k, v in block.items()})
    assert "federation_cidrs" in variables and "monitoring_cidrs" not in variables
    modules = {}
    for block in _parse(STACKS / stack / "main.tf").get("module", []):
        modules.update({_unquote(k): v for k, v in block.items()})
    assert str(modules["host"]["federation_cidrs"]) == "${var.federation_cidrs}"
