"""e2e/rootfs_build.py: the project's Dockerfiles read as the engine's builder reads them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("rootfs_build", ROOT / "e2e" / "rootfs_build.py")
assert _spec is not None and _spec.loader is not None
rootfs_build = importlib.util.module_from_spec(_spec)
sys.modules["rootfs_build"] = rootfs_build
_spec.loader.exec_module(rootfs_build)

DOCKERFILES = [
    ROOT / "compose" / "iconctl.Dockerfile",
    *sorted((ROOT / "compose" / "local-images").glob("*.Dockerfile")),
    ROOT / "e2e" / "images" / "moto.Dockerfile",
]


def _config(dockerfile: Path, target: str | None, **args: str) -> rootfs_build.Config:
    """The configuration a target ends with, on a base like e2e/base-image.sh's."""
    _globals, stages = rootfs_build.parse(dockerfile.read_text(), {"BASE_IMAGE": "base", **args})
    steps, base = rootfs_build.resolve(stages, target)
    assert base == "base"
    config = rootfs_build.Config(
        env={"LANG": "C.UTF-8", "PATH": rootfs_build.DEFAULT_PATH}, cmd=["/bin/bash"]
    )
    for instruction, rest in steps:
        if instruction in rootfs_build.METADATA:
            rootfs_build.apply_metadata(config, instruction, rest, args)
    return config


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_every_project_dockerfile_builds_without_the_engines_builder(dockerfile: Path) -> None:
    # An instruction the rootfs build cannot honour would make the fast path's image differ.
    _globals, stages = rootfs_build.parse(dockerfile.read_text(), {"BASE_IMAGE": "base"})
    steps, base = rootfs_build.resolve(stages, None)
    assert base == "base"
    assert any(instruction == "RUN" for instruction, _ in steps)


def test_iconctl_target_runs_iconctl_unprivileged() -> None:
    config = _config(ROOT / "compose" / "iconctl.Dockerfile", "iconctl", ICONCTL_VERSION="1.2.3")
    assert config.user == "iconctl"
    assert config.entrypoint == ["iconctl"]
    # the base's CMD is dropped when the stage sets ENTRYPOINT, as the builder does
    assert config.cmd is None
    assert config.env["PATH"].startswith("/opt/iconctl/bin:")
    assert config.env["LANG"] == "C.UTF-8"


def test_sim_target_builds_on_the_iconctl_stage() -> None:
    _globals, stages = rootfs_build.parse(
        (ROOT / "compose" / "iconctl.Dockerfile").read_text(), {"BASE_IMAGE": "base"}
    )
    iconctl_steps, _ = rootfs_build.resolve(stages, "iconctl")
    sim_steps, _ = rootfs_build.resolve(stages, "sim")
    assert sim_steps[: len(iconctl_steps)] == iconctl_steps
    config = _config(ROOT / "compose" / "iconctl.Dockerfile", "sim")
    assert config.user == "root"
    assert config.entrypoint is not None and config.entrypoint[:2] == ["iconctl", "sim"]


def test_edge_stand_in_clears_the_entrypoint_and_keeps_its_cmd() -> None:
    config = _config(ROOT / "compose" / "local-images" / "edge.Dockerfile", None)
    assert config.entrypoint is None
    assert config.cmd == ["nginx", "-g", "daemon off;"]
    assert config.stopsignal == "SIGQUIT"


def test_changes_round_trip_values_with_spaces() -> None:
    config = rootfs_build.Config(env={"A": "x y"}, entrypoint=["a b"], labels={"k": "v w"})
    assert config.changes() == ['ENV A="x y"', 'ENTRYPOINT ["a b"]', 'LABEL k="v w"']


def test_stopsignal_is_not_an_import_change() -> None:
    # docker import refuses STOPSIGNAL: the build sets it apart (a one-line build on the import)
    config = rootfs_build.Config(stopsignal="SIGQUIT", cmd=["nginx"])
    assert config.changes() == ['CMD ["nginx"]']


def test_state_is_one_file_per_tag(tmp_path: Path) -> None:
    rootfs_build._write_state(tmp_path, "reg/a:1", {"key": "k1", "id": "i1"})
    rootfs_build._write_state(tmp_path, "reg/b:1", {"key": "k2", "id": "i2"})
    assert rootfs_build._read_state(tmp_path, "reg/a:1") == {"key": "k1", "id": "i1"}
    assert rootfs_build._read_state(tmp_path, "reg/c:1") == {}
    (tmp_path / "reg_a_1.json").write_text("not json")
    assert rootfs_build._read_state(tmp_path, "reg/a:1") == {}


@pytest.mark.parametrize(
    ("dockerfile", "error"),
    [
        ("FROM base\nADD x /x\n", "ADD is not supported"),
        ("FROM base\nHEALTHCHECK CMD true\n", "HEALTHCHECK is not supported"),
        ("RUN true\n", "RUN before FROM"),
        ("ARG X\n", "no FROM"),
        ("FROM base AS a b\n", "unsupported FROM"),
    ],
)
def test_unsupported_dockerfiles_are_refused(dockerfile: str, error: str) -> None:
    with pytest.raises(rootfs_build.BuildError, match=error) as caught:
        rootfs_build.parse(dockerfile, {})
    assert caught.value.exit_code == 2


def test_unknown_target_is_refused() -> None:
    _globals, stages = rootfs_build.parse("FROM base AS one\nRUN true\n", {})
    with pytest.raises(rootfs_build.BuildError, match="no stage 'two'"):
        rootfs_build.resolve(stages, "two")


def test_copy_outside_the_context_is_refused(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (tmp_path / "secret").write_text("x")
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(rootfs_build.BuildError, match="outside the build context"):
        rootfs_build._copy(root, context, "../secret /tmp/", {})
    assert not (root / "tmp").exists()


def test_copy_places_a_directory_like_the_builder(tmp_path: Path) -> None:
    context = tmp_path / "context"
    (context / "wheels").mkdir(parents=True)
    (context / "wheels" / "a.whl").write_bytes(b"wheel")
    root = tmp_path / "root"
    root.mkdir()
    rootfs_build._copy(root, context, "wheels /tmp/wheels", {})
    assert (root / "tmp" / "wheels" / "a.whl").read_bytes() == b"wheel"
