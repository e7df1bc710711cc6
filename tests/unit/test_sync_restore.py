"""Restore failures at the write boundary, injected: a full disk names the target and the
file, with the exit code of a machine failure, and a rerun resumes."""

from __future__ import annotations

import errno
import importlib
from pathlib import Path

import pytest

from iconctl.errors import ExitCode, IconctlError
from iconctl.sync.restore import restore_snapshot
from iconctl.sync.snapshot import create_snapshot
from iconctl.sync.store import open_store
from tests.helpers.sync import chain_tree, make_data_dir

# the module, not the function of the same name that iconctl.sync exports
restore_module = importlib.import_module("iconctl.sync.restore")


def test_disk_full_names_the_target_and_a_rerun_resumes(tmp_path: Path, monkeypatch):
    node = make_data_dir(tmp_path / "node", tables=4)
    store = open_store(str(tmp_path / "store"))
    create_snapshot(node, store)
    real = restore_module._pwrite_all
    calls = {"n": 0}

    def fills_up(fd: int, view, offset: int, piece: int = 0) -> None:
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, view, offset, piece)

    monkeypatch.setattr(restore_module, "_pwrite_all", fills_up)
    target = tmp_path / "target"
    with pytest.raises(IconctlError) as info:
        restore_snapshot(store, target, workers=1, durable=False)
    err = info.value
    assert err.exit_code == ExitCode.INTERNAL  # the machine failing (docs/cli.md), not exit 3
    assert len(err.lines()) == 1
    assert str(target) in err.message and "No space left on device" in err.message
    assert "data/1/" in err.message and "run the restore again" in err.message

    monkeypatch.setattr(restore_module, "_pwrite_all", real)
    again = restore_snapshot(store, target, workers=1, durable=False)
    assert again.resumed and again.bytes_reused > 0
    assert chain_tree(target) == chain_tree(node)


def test_working_files_of_long_names_stay_within_name_max(tmp_path: Path):
    from iconctl.sync.manifest import is_reserved_name
    from iconctl.sync.restore import part_path

    long = "x" * 250 + ".ldb"  # 254 bytes: the prefix would not fit
    for name in ("000005.ldb", long):
        part = part_path(tmp_path / name)
        assert part.parent == tmp_path and len(part.name.encode()) <= 255
        assert is_reserved_name(part.name)
    node = tmp_path / "node"
    (node / "data").mkdir(parents=True)
    (node / "data" / long).write_bytes(b"table" * 1000)
    store = open_store(str(tmp_path / "store"))
    create_snapshot(node, store)
    restore_snapshot(store, tmp_path / "t", durable=False)
    assert (tmp_path / "t/data" / long).read_bytes() == b"table" * 1000


def test_which_markers_count_as_completion(tmp_path: Path):
    import json

    from iconctl.sync.manifest import new_snapshot_id
    from iconctl.sync.restore import MARKER_FILE, STATE_FILE

    store = open_store(str(tmp_path / "store"))  # empty: a restore that ran would fail
    sid = new_snapshot_id()
    target = tmp_path / "t"
    target.mkdir()
    (target / "data").mkdir()
    # written by an earlier iconctl (no format field): still a completed restore
    (target / MARKER_FILE).write_text(json.dumps({"id": sid, "files": 1, "bytes": 1}))
    assert restore_snapshot(store, target).already_complete
    # a state file next to it: a restore started after the marker and did not finish
    (target / STATE_FILE).write_text(json.dumps({"id": sid}))
    with pytest.raises(IconctlError, match="no snapshot"):  # it resumes (then falls back)
        restore_snapshot(store, target)
    (target / STATE_FILE).unlink()
    # not a regular file, or no valid id: not a marker
    elsewhere = tmp_path / "forged"
    elsewhere.write_text(json.dumps({"id": sid}))
    (target / MARKER_FILE).unlink()
    (target / MARKER_FILE).symlink_to(elsewhere)
    with pytest.raises(IconctlError, match="not empty"):
        restore_snapshot(store, target)
    (target / MARKER_FILE).unlink()
    (target / MARKER_FILE).write_text(json.dumps({"id": "../../x"}))
    with pytest.raises(IconctlError, match="not empty"):
        restore_snapshot(store, target)
