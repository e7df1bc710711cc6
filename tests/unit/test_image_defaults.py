"""One node image and one iconctl image: every shipped default names what the spec defaults to.

The spec (node.image, node.iconctl_image) is the one place these are decided; the roles, the
compose files, the Packer variables and examples, and the Kubernetes base carry the same values
so that each tool used on its own deploys the same thing. The iconctl image is tagged with the
package's version: no default names an image nothing builds (such as iconctl:latest).
"""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest
import yaml

from iconctl import __version__
from iconctl.spec import parse_spec
from iconctl.spec.model import ICONCTL_IMAGE, Node

ROOT = Path(__file__).resolve().parents[2]
NODE_IMAGE = Node().image
IMAGE_RE = re.compile(r"(?:iconloop/icon2-node|[\w./-]*iconctl)(?::[\w.-]+)?")


def test_the_iconctl_image_is_versioned_with_the_package():
    assert ICONCTL_IMAGE.endswith(f"/iconctl:{__version__}")
    assert Node().iconctl_image == ICONCTL_IMAGE


def _role_defaults(role: str) -> dict:
    return yaml.safe_load((ROOT / "ansible" / "roles" / role / "defaults" / "main.yml").read_text())


def test_role_defaults_are_the_spec_defaults():
    defaults = _role_defaults("icon_node")
    assert defaults["icon_node_image"] == NODE_IMAGE
    assert defaults["icon_node_iconctl_image"] == ICONCTL_IMAGE


@pytest.mark.parametrize("name", ["aws.pkrvars.hcl", "gcp.pkrvars.hcl"])
def test_packer_examples_are_the_spec_defaults(name):
    values = hcl2.loads((ROOT / "packer" / name).read_text())
    assert values["node_image"].strip('"') == NODE_IMAGE
    assert values["iconctl_image"].strip('"') == ICONCTL_IMAGE


def test_packer_has_no_iconctl_image_default():
    variables = hcl2.loads((ROOT / "packer" / "variables.pkr.hcl").read_text())["variable"]
    blocks = {name.strip('"'): body for block in variables for name, body in block.items()}
    iconctl = blocks["iconctl_image"]
    assert "default" not in iconctl  # required: rendered from the spec


@pytest.mark.parametrize("name", ["statefulset.yaml", "source.yaml"])
def test_kubernetes_base_images_are_the_spec_defaults(name):
    text = (ROOT / "kubernetes" / "base" / name).read_text()
    images = set(re.findall(r"image:\s*(\S+)", text))
    assert images <= {NODE_IMAGE, ICONCTL_IMAGE}, images


def test_no_shipped_file_names_an_unbuilt_latest_iconctl_image():
    for folder in ("compose", "ansible", "packer", "kubernetes"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in {".yaml", ".yml", ".hcl", ".j2", ".md"}:
                assert "iconctl:latest" not in path.read_text(), path


def test_compose_hint_names_the_spec_default():
    assert f"e.g. {NODE_IMAGE}" in (ROOT / "compose" / "compose.yaml").read_text()


def test_spec_iconctl_image_reaches_every_tool():
    from iconctl.render import ansible, compose, kubernetes, packer

    text = (ROOT / "examples" / "multi-region.yaml").read_text()
    text = text.replace(
        "  image: iconloop/icon2-node:v1.4.2\n",
        "  image: iconloop/icon2-node:v1.4.2\n  iconctl_image: registry.example/ops/iconctl:9.9\n",
    )
    spec = parse_spec(text)
    region = spec.regions[0]
    assert compose.env_values(spec, region, ["compose.yaml"])["ICON_ICONCTL_IMAGE"] == (
        "registry.example/ops/iconctl:9.9"
    )
    assert ansible.extravars(spec, region)["icon_node_iconctl_image"] == (
        "registry.example/ops/iconctl:9.9"
    )
    assert packer.variables(spec, region)["iconctl_image"] == "registry.example/ops/iconctl:9.9"
    k8s_text = text.replace("flavour: asg", "flavour: k8s", 1)
    k8s_spec = parse_spec(k8s_text)
    images = kubernetes.kustomization(k8s_spec, k8s_spec.regions[0])["images"]
    assert {
        "name": "ghcr.io/icon-community/iconctl",
        "newName": "registry.example/ops/iconctl",
        "newTag": "9.9",
    } in images
