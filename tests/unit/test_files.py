"""write_atomic: the one way iconctl puts a file under its final name."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from iconctl.files import write_atomic


def test_replaces_whole_with_mode_and_no_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "state.json"
    assert write_atomic(target, "one") is True
    assert write_atomic(target, b"two", mode=0o600) is True
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(target.parent) == ["state.json"]


def test_exclusive_never_replaces(tmp_path: Path) -> None:
    target = tmp_path / "manifest"
    assert write_atomic(target, "first", exclusive=True) is True
    assert write_atomic(target, "second", exclusive=True) is False
    assert target.read_text() == "first"
    assert os.listdir(tmp_path) == ["manifest"]


def test_scratch_folder_holds_the_temporary_file(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    target = tmp_path / "db" / "CURRENT"
    seen: list[list[str]] = []
    real_replace = os.replace

    def watch(src: str, dst: object) -> None:
        seen.append([Path(src).parent.name, *os.listdir(target.parent)])
        real_replace(src, dst)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "replace", watch)
        write_atomic(target, b"MANIFEST-000001\n", durable=False, scratch=scratch)
    # Nothing but the final file ever stood beside it.
    assert seen == [["tmp"]]
    assert target.read_bytes() == b"MANIFEST-000001\n" and os.listdir(scratch) == []


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "progress.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["progress.json"]
