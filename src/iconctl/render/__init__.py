"""Rendering: every tool's input files derived from the spec, as a pure function.

``render_files(spec)`` maps relative paths to contents and depends on nothing but the spec,
so two renders of one spec are byte-identical. ``render(spec, out_dir)`` writes them into a
staging directory and swaps it in whole: a reader never sees a half-rendered tree, and files
of regions that left the spec do not linger.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from iconctl.errors import InputError
from iconctl.spec import Spec

MARKER = ".iconctl-render"


def render_files(spec: Spec) -> dict[str, str]:
    """Every rendered file: relative path -> content, in sorted path order."""
    from iconctl.render import ansible, compose, kubernetes, monitoring, packer, terraform

    files: dict[str, str] = {}
    for module in (terraform, packer, ansible, compose, monitoring, kubernetes):
        for path, content in module.files(spec).items():
            if path in files:
                raise RuntimeError(f"two renderers produce {path}")
            files[path] = content
    files["deployment.json"] = terraform.deployment_json(spec)
    return dict(sorted(files.items()))


def render(spec: Spec, out_dir: Path) -> list[Path]:
    """Render into ``out_dir`` (replacing an earlier render there); return the files written."""
    files = render_files(spec)
    out_dir = out_dir.absolute()
    if out_dir.exists() and (
        not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / MARKER).exists())
    ):
        raise InputError(
            f"{out_dir}: refusing to replace a directory iconctl did not render "
            "(choose an empty or new --out directory)"
        )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.render-"))
    try:
        for rel, content in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        (staging / MARKER).write_text(
            "Rendered by iconctl from the spec; edit the spec, not these files.\n", encoding="utf-8"
        )
        _fsync_tree(staging)
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [out_dir / rel for rel in files]


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``staging`` with renames only."""
    if not out_dir.exists():
        os.rename(staging, out_dir)
        return
    retired = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.old-"))
    os.rename(out_dir, retired / "tree")
    os.rename(staging, out_dir)
    shutil.rmtree(retired, ignore_errors=True)
