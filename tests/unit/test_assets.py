"""One asset locator: every reader of shipped files (the pipeline's Terraform, Packer and
Ansible trees, the kustomize base, the monitoring rules) asks iconctl.assets for its folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from iconctl.assets import asset_dir, assets_root
from iconctl.errors import InputError
from iconctl.render import render_files
from iconctl.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
K8S_SPEC = ROOT / "tests" / "fixtures" / "specs" / "kubernetes.yaml"


def test_the_checkout_is_the_root_without_an_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ICONCTL_ASSETS", raising=False)
    assert assets_root() == ROOT
    assert asset_dir("kubernetes", "base") == ROOT / "kubernetes" / "base"


def test_the_override_decides_for_every_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kustomize base comes from ICONCTL_ASSETS like the Terraform stacks do."""
    (tmp_path / "terraform").mkdir()
    for shipped in ("monitoring", "logging"):
        shutil.copytree(ROOT / shipped, tmp_path / shipped)
    shutil.copytree(ROOT / "kubernetes", tmp_path / "kubernetes")
    base = tmp_path / "kubernetes" / "base"
    (base / "zz-marker.yaml").write_text("# from the override\n")
    monkeypatch.setenv("ICONCTL_ASSETS", str(tmp_path))
    files = render_files(load_spec(K8S_SPEC))
    assert files["kubernetes/base/zz-marker.yaml"] == "# from the override\n"


def test_a_missing_folder_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "terraform").mkdir()
    monkeypatch.setenv("ICONCTL_ASSETS", str(tmp_path))
    with pytest.raises(InputError, match=r"no monitoring/ directory"):
        asset_dir("monitoring")
    without = tmp_path / "elsewhere"
    without.mkdir()
    monkeypatch.setenv("ICONCTL_ASSETS", str(without))
    with pytest.raises(InputError, match="no terraform/ directory"):
        assets_root()
