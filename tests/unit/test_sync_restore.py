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
from tests.sync_support import chain_tree, make_data_dir

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
