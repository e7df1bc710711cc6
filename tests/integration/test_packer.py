"""The node image template: packer fmt, a full packer validate per cloud, and the contract
with the renderer (its pkrvars set only declared variables)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.helpers import ROOT, need_module, need_tool

pytestmark = pytest.mark.timeout(300)

PACKER = ROOT / "packer"
SOURCES = json.loads((PACKER / "sources.json").read_text())
# Packer 1.6's -only also skips validation, so both sources are validated together: the
# other cloud's required values get placeholders.
OTHER_CLOUD = {
    "aws": ["-var", "project_id=placeholder", "-var", "zone=placeholder-a"],
    "gcp": ["-var", "region=us-east-1"],
}


def _packer(*args: str) -> subprocess.CompletedProcess:
    tools = need_tool("packer", "ansible-playbook")  # the ansible provisioner needs it
    env = {**os.environ, "PACKER_NO_COLOR": "1", "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(
        [tools["packer"], *args], capture_output=True, text=True, timeout=240, env=env, cwd=ROOT
    )


def _declared() -> set[str]:
    hcl2 = need_module("hcl2")
    with (PACKER / "variables.pkr.hcl").open() as fh:
        parsed = hcl2.load(fh)
    # python-hcl2 keeps block labels quoted and adds bookkeeping keys ("__comments__", ...)
    return {
        name.strip('"')
        for block in parsed["variable"]
        for name in block
        if not name.startswith("__")
    }


def _values(text: str) -> set[str]:
    hcl2 = need_module("hcl2")
    return {k for k in hcl2.loads(text) if not k.startswith("__")}


def test_fmt():
    result = _packer("fmt", "-check", "-diff", str(PACKER))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("cloud", sorted(SOURCES))
def test_validate(cloud):
    result = _packer(
        "validate",
        "-var-file",
        str(PACKER / f"{cloud}.pkrvars.hcl"),
        *OTHER_CLOUD[cloud],
        str(PACKER),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_catches_errors():
    """A bad value is refused by the template's validation, so the check above can fail."""
    result = _packer(
        "validate",
        "-var-file",
        str(PACKER / "aws.pkrvars.hcl"),
        *OTHER_CLOUD["aws"],
        "-var",
        "image_name=Not-Lower-Case",
        str(PACKER),
    )
    assert result.returncode != 0
    assert "image_name must be lower-case" in result.stdout + result.stderr


def test_sources_json_names_real_builds():
    """Names as `-only` matches them in Debian's Packer 1.6 and in current Packer alike:
    <build name>.<source type>.<source name>."""
    text = (PACKER / "sources.pkr.hcl").read_text()
    build = (PACKER / "build.pkr.hcl").read_text()
    for cloud, source in SOURCES.items():
        build_name, kind, name = source.split(".")
        assert f'source "{kind}" "{name}"' in text, (cloud, source)
        assert f'name    = "{build_name}"' in build, (cloud, source)
        assert f'"source.{kind}.{name}"' in build, (cloud, source)


def test_a_build_that_selects_nothing_is_an_error(tmp_path):
    """`-only` naming no build makes Packer exit 0 having built nothing: that is a failure."""
    need_tool("packer")
    from iconctl.errors import ToolFailed
    from iconctl.runners.packer import Packer

    template = ROOT / "tests" / "fixtures" / "assets" / "packer"
    packer = Packer(template, step="test image", log_path=tmp_path / "packer.log")
    manifest = tmp_path / "manifest.json"
    values = {
        "manifest_path": str(manifest),
        "image_name": "icon-node",
        "node_image": "n:1",
        "instance_type": "t3.small",
    }
    with pytest.raises(ToolFailed) as caught:
        packer.build([], values, manifest=manifest, only="amazon-ebs.icon-node")
    assert "built nothing" in caught.value.message
    assert "-only=amazon-ebs.icon-node" in caught.value.message


def test_provisioner_uses_the_repository_roles():
    build = (PACKER / "build.pkr.hcl").read_text()
    assert '"${path.root}/../ansible/playbooks/image.yml"' in build
    assert "ANSIBLE_ROLES_PATH=${path.root}/../ansible/roles" in build
    assert (ROOT / "ansible" / "playbooks" / "image.yml").is_file()


@pytest.mark.parametrize("cloud", sorted(SOURCES))
def test_example_pkrvars_set_only_declared_variables(cloud):
    values = _values((PACKER / f"{cloud}.pkrvars.hcl").read_text())
    assert {"image_name", "node_image", "instance_type"} <= values <= _declared()


@pytest.mark.parametrize("example", ["multi-region", "single-node"])
def test_rendered_pkrvars_set_only_declared_variables(example, tmp_path):
    from iconctl.render import render_files
    from iconctl.spec import load_spec

    files = render_files(load_spec(ROOT / "examples" / f"{example}.yaml"))
    rendered = {p: t for p, t in files.items() if "/packer/" in p and p.endswith(".pkrvars.hcl")}
    assert rendered
    declared = _declared()
    for path, text in rendered.items():
        values = _values(text)
        assert values, path
        assert values <= declared, (path, values - declared)
        assert path.rsplit("/", 1)[-1].split(".")[0] in SOURCES, path


def test_rendered_pkrvars_pass_packer_validate(tmp_path):
    """One rendered region per cloud through a full packer validate."""
    from iconctl.render import render_files
    from iconctl.spec import load_spec

    files = render_files(load_spec(ROOT / "examples" / "multi-region.yaml"))
    done = set()
    for path, text in sorted(files.items()):
        if "/packer/" not in path or not path.endswith(".pkrvars.hcl"):
            continue
        cloud = path.rsplit("/", 1)[-1].split(".")[0]
        if cloud in done:
            continue
        var_file = tmp_path / f"{cloud}.pkrvars.hcl"
        var_file.write_text(text)
        result = _packer("validate", "-var-file", str(var_file), *OTHER_CLOUD[cloud], str(PACKER))
        assert result.returncode == 0, (path, result.stdout + result.stderr)
        done.add(cloud)
    assert done == set(SOURCES)
