"""The renderer owns the Ansible inventory: the rendered file has the groups, and the same
function adds the hosts and variables Terraform reports."""

from __future__ import annotations

import yaml

from iconctl.render import ansible, render_files
from iconctl.spec import load_spec
from tests.helpers import EXAMPLES


def test_rendered_inventory_has_the_groups_and_no_hosts() -> None:
    spec = load_spec(EXAMPLES / "single-node.yaml")
    region = spec.regions[0]
    text = render_files(spec)[f"{region.name}/ansible/{ansible.INVENTORY}"]
    assert text == ansible.inventory_file(spec, region)
    inventory = yaml.safe_load(text)["all"]
    assert inventory["children"] == {"icon_nodes": {"hosts": {}}, "icon_source": {"hosts": {}}}
    assert inventory["vars"]["iconctl_region"] == region.name


def test_inventory_with_terraforms_hosts_and_vars() -> None:
    spec = load_spec(EXAMPLES / "single-node.yaml")
    region = spec.regions[0]
    text = ansible.inventory_file(
        spec,
        region,
        hosts={"icon_nodes": ["203.0.113.4", "203.0.113.5"], "icon_source": None,
               "bastion": ["198.51.100.1"]},
        extra_vars={"ansible_user": "admin", "iconctl_region": "overridden"},
    )  # fmt: skip
    inventory = yaml.safe_load(text)["all"]
    assert inventory["children"] == {
        "icon_nodes": {"hosts": {"203.0.113.4": {}, "203.0.113.5": {}}},
        "icon_source": {"hosts": {}},
        "bastion": {"hosts": {"198.51.100.1": {}}},
    }
    assert inventory["vars"]["ansible_user"] == "admin"
    # Terraform's variables win over the rendered ones, as they did when the file was edited.
    assert inventory["vars"]["iconctl_region"] == "overridden"
    assert inventory["vars"]["iconctl_deployment"] == spec.name
