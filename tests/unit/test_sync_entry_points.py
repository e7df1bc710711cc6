"""The sync entry points the CLI calls: typed results, and callable again and again in one
process (a function named like a submodule of ``iconctl.sync`` was replaced by that module on
first import, so the second call raised ``TypeError: 'module' object is not callable``)."""

from __future__ import annotations

from pathlib import Path

import pytest

import iconctl.sync as sync
from iconctl.errors import IntegrityError
from iconctl.sync.catalog import PruneResult, SnapshotInfo, VerifyResult
from iconctl.sync.restore import RestoreResult
from iconctl.sync.snapshot import SnapshotResult
from tests.helpers.sync import chain_tree, make_data_dir


def test_every_entry_point_twice_in_one_process(tmp_path: Path):
    node = make_data_dir(tmp_path / "node", tables=2, table_size=64 * 1024)
    store = str(tmp_path / "store")

    snapshots = [sync.take_snapshot(node, store, show_progress=False) for _ in range(2)]
    assert all(isinstance(s, SnapshotResult) for s in snapshots)
    assert snapshots[1].bytes_uploaded == 0  # the second one found every chunk in the store

    for n in range(2):
        restored = sync.restore_into(store, tmp_path / f"restored{n}", show_progress=False)
        assert isinstance(restored, RestoreResult) and restored.id == snapshots[1].id
        assert chain_tree(tmp_path / f"restored{n}") == chain_tree(node)

    for _ in range(2):
        rows = sync.list_store(store)
        assert [type(r) for r in rows] == [SnapshotInfo, SnapshotInfo]
        assert [r.id for r in rows] == sorted(s.id for s in snapshots)
        assert [r.latest for r in rows] == [False, True]

    for _ in range(2):
        verified = sync.verify_store(store, None, show_progress=False)
        assert isinstance(verified, VerifyResult) and verified.ok
        verified.check()  # nothing wrong: no error

    pruned = [sync.prune_store(store, 1, min_age=0) for _ in range(2)]
    assert all(isinstance(p, PruneResult) for p in pruned)
    assert pruned[0].deleted == [snapshots[0].id] and pruned[1].deleted == []


def test_list_rows_keep_their_json_shape():
    valid = SnapshotInfo("20260101T000000Z-a", True, "2026-01-01T00:00:00Z", 3, 10, valid=True)
    assert valid.to_json() == {
        "id": "20260101T000000Z-a", "latest": True, "created": "2026-01-01T00:00:00Z",
        "files": 3, "bytes": 10, "valid": True,
    }  # fmt: skip
    refused = SnapshotInfo("x", False, "c", None, None, valid=False, error="bad manifest")
    assert refused.to_json()["error"] == "bad manifest"


def test_verify_problems_are_an_integrity_error():
    result = VerifyResult("s1", chunks=30, problems=[f"missing chunk {i:02}" for i in range(25)])
    assert not result.ok and result.to_json()["ok"] is False
    with pytest.raises(IntegrityError) as caught:
        result.check()
    assert caught.value.message == (
        "snapshot s1 failed verification (25 problems): "
        + "; ".join(f"missing chunk {i:02}" for i in range(20))
        + "; and 5 more"
    )


def test_every_result_prints_its_fields_with_seconds_to_the_millisecond():
    snapshot = SnapshotResult("s1", "file:///x", pause_seconds=0.12345, duration_seconds=2.0004)
    restore = RestoreResult("s1", "file:///x", "/data", duration_seconds=1.23456)
    pruned = PruneResult(kept=["s2"], deleted=["s1"], bytes_freed=10)
    assert snapshot.to_json()["pause_seconds"] == 0.123
    assert snapshot.to_json()["duration_seconds"] == 2.0
    assert set(snapshot.to_json()) == set(snapshot.__dataclass_fields__)
    assert restore.to_json()["duration_seconds"] == 1.235
    assert set(restore.to_json()) == set(restore.__dataclass_fields__)
    assert pruned.to_json() == {
        "kept": ["s2"], "deleted": ["s1"], "chunks_deleted": 0, "bytes_freed": 10,
        "chunks_deferred": False,
    }  # fmt: skip
    assert VerifyResult("s1").to_json() == {
        "id": "s1", "files": 0, "chunks": 0, "bytes_verified": 0, "problems": [], "ok": True,
    }  # fmt: skip
