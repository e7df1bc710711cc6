"""Snapshot and restore through a file:// store: round trips, incremental uploads, every
integrity refusal, the non-empty target rule, locks and prune."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from iconctl.errors import IntegrityError
from iconctl.sync.catalog import prune, verify_snapshot
from iconctl.sync.lock import StoreLock
from iconctl.sync.manifest import LATEST_KEY, LOCK_KEY, encode_latest, hash_bytes
from iconctl.sync.restore import MARKER_FILE, PART_PREFIX, STATE_FILE, restore_snapshot
from iconctl.sync.snapshot import create_snapshot
from iconctl.sync.store import open_store
from tests.helpers.sync import chain_tree, make_data_dir, tree

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return make_data_dir(tmp_path / "node")


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


def snap(source: Path, store_dir: Path):
    return create_snapshot(source, open_store(f"file://{store_dir}"))


def test_round_trip_restores_chain_data_only(source, store_dir, tmp_path):
    r = snap(source, store_dir)
    assert r.files == 16 and r.bytes_uploaded == r.bytes_scanned > 24 * 1024 * 1024
    assert r.files_linked == 13 and r.files_copied == 3  # tables linked, mutable files copied
    assert not (source / ".iconctl-checkpoint").exists()
    target = tmp_path / "restored"
    res = restore_snapshot(open_store(str(store_dir)), target)
    assert res.bytes_fetched == r.bytes_scanned
    assert chain_tree(target) == chain_tree(source)
    assert not (target / "auth.json").exists() and not (target / "rconfig.json").exists()
    marker = json.loads((target / MARKER_FILE).read_text())
    assert marker["id"] == r.id
    assert not list(target.rglob(f"{PART_PREFIX}*"))
    # modes and mtimes come back too
    src_st = (source / "data/1/000005.ldb").stat()
    dst_st = (target / "data/1/000005.ldb").stat()
    assert dst_st.st_mtime_ns == src_st.st_mtime_ns and dst_st.st_mode == src_st.st_mode


def test_incremental_uploads_only_new_bytes(source, store_dir):
    first = snap(source, store_dir)
    same = snap(source, store_dir)
    assert same.bytes_uploaded == 0 and same.bytes_hashed == 0 and same.base == first.id
    log = source / "data/1/000004.log"
    with open(log, "ab") as f:
        f.write(os.urandom(123_456))  # the write-ahead log grew
    (source / "data/1/000099.ldb").write_bytes(os.urandom(2 * 1024 * 1024))  # a new table
    changed = 123_456 + 2 * 1024 * 1024
    third = snap(source, store_dir)
    assert changed <= third.bytes_uploaded <= 1.05 * changed + 1024 * 1024
    assert third.bytes_uploaded == changed  # appended bytes only: the old prefix is reused
    store = open_store(str(store_dir))
    assert verify_snapshot(store, third.id).problems == []


def test_restore_refuses_non_empty_target_unless_forced(source, store_dir, tmp_path, iconctl):
    snap(source, store_dir)
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    res = iconctl("sync", "restore", "--store", str(store_dir), "--data-dir", str(target))
    assert res.returncode == 3, res.stderr
    assert "not empty" in res.stderr and "Traceback" not in res.stderr
    assert not (target / "data").exists()
    res = iconctl(
        "sync", "restore", "--store", str(store_dir), "--data-dir", str(target), "--force"
    )
    assert res.returncode == 0, res.stderr
    assert chain_tree(target) == chain_tree(source)
    assert (target / "keep.txt").read_text() == "mine"


def test_restore_repairs_a_damaged_file_under_force(source, store_dir, tmp_path):
    snap(source, store_dir)
    target = tmp_path / "t"
    restore_snapshot(open_store(str(store_dir)), target)
    victim = target / "data/1/000007.ldb"
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF
    victim.write_bytes(bytes(data))
    res = restore_snapshot(open_store(str(store_dir)), target, force=True)
    assert res.bytes_fetched == 2 * 1024 * 1024  # just the damaged chunk
    assert chain_tree(target) == chain_tree(source)


def _tamper(store_dir: Path, edit) -> None:
    """Rewrite the latest manifest with ``edit(doc)`` and re-point latest at it (a store
    attacker can do both)."""
    latest = json.loads((store_dir / LATEST_KEY).read_text())
    path = store_dir / "snapshots" / f"{latest['id']}.json"
    doc = json.loads(path.read_text())
    edit(doc)
    body = json.dumps(doc).encode()
    path.write_bytes(body)
    (store_dir / LATEST_KEY).write_bytes(encode_latest(latest["id"], body, latest["created"]))


def _first_file(doc: dict) -> dict:
    return next(f for f in doc["files"] if f["size"] > 0)


MALICIOUS = {
    "absolute path": lambda d: _first_file(d).update(path="/tmp/iconctl-pwned"),
    "dot-dot path": lambda d: _first_file(d).update(path="../escape/owned.ldb"),
    "dot-dot inside": lambda d: _first_file(d).update(path="data/../../escape.ldb"),
    "symlink entry": lambda d: _first_file(d).update(type="symlink"),
    "repeated path": lambda d: d["files"].append(dict(_first_file(d))),
    "file under file": lambda d: d["files"].append(
        {**_first_file(d), "path": _first_file(d)["path"] + "/x"}
    ),
    "dir repeats file": lambda d: d["dirs"].append(_first_file(d)["path"]),
    "size mismatch": lambda d: _first_file(d).update(size=_first_file(d)["size"] + 1),
    "bad hash": lambda d: _first_file(d)["chunks"][0].__setitem__(1, "zz" * 32),
    "unknown version": lambda d: d.update(version=99),
    "setuid mode": lambda d: _first_file(d).update(mode=0o4755),
    "files not a list": lambda d: d.update(files={"a": 1}),
    # iconctl's own names: a working file, the marker, the state file, the checkpoint
    "legacy part name": lambda d: d["files"].append(
        {**_first_file(d), "path": _first_file(d)["path"] + ".iconctl-part"}
    ),
    "completion marker": lambda d: d["files"].append(
        {**_first_file(d), "path": ".iconctl-restore-complete"}
    ),
    "state file": lambda d: d["files"].append({**_first_file(d), "path": ".iconctl-restore.json"}),
    "checkpoint dir": lambda d: d["dirs"].append(".iconctl-checkpoint"),
    "newline in a name": lambda d: _first_file(d).update(path="data/x\nerror: all good"),
    "2000-level path": lambda d: d["dirs"].append("/".join(["d"] * 2000)),
}


@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_malicious_manifest_is_refused_with_exit_6(case, source, store_dir, tmp_path, iconctl):
    snap(source, store_dir)
    _tamper(store_dir, MALICIOUS[case])
    outside = tmp_path / "box"
    target = outside / "target"
    res = iconctl("sync", "restore", "--store", str(store_dir), "--data-dir", str(target))
    assert res.returncode == 6, (case, res.stdout, res.stderr)
    assert res.stderr.startswith("error: ") and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1  # nothing from the manifest echoed raw
    assert sorted(p.name for p in outside.iterdir()) == ["target"]
    assert not Path("/tmp/iconctl-pwned").exists()
    assert not (target / "data").exists()  # refused before anything was written


def test_malformed_manifest_and_pointer_are_refused(source, store_dir, tmp_path, iconctl):
    r = snap(source, store_dir)
    manifest = store_dir / "snapshots" / f"{r.id}.json"
    good = manifest.read_bytes()
    manifest.write_bytes(good[:-10])  # truncated, and no longer what latest recorded
    res = iconctl("sync", "restore", "--store", str(store_dir), "--data-dir", str(tmp_path / "a"))
    assert res.returncode == 6 and "does not match the hash" in res.stderr
    res = iconctl(
        "sync",
        "restore",
        "--store",
        str(store_dir),
        "--data-dir",
        str(tmp_path / "b"),
        "--snapshot",
        r.id,
    )
    assert res.returncode == 6 and "not valid JSON" in res.stderr
    manifest.write_bytes(good)
    (store_dir / LATEST_KEY).write_text("garbage")
    res = iconctl("sync", "restore", "--store", str(store_dir), "--data-dir", str(tmp_path / "c"))
    assert res.returncode == 6
    res = iconctl(
        "sync",
        "restore",
        "--store",
        str(store_dir),
        "--data-dir",
        str(tmp_path / "d"),
        "--snapshot",
        "../../etc/passwd",
    )
    assert res.returncode == 6 and "invalid snapshot id" in res.stderr


def test_corrupt_chunk_fails_with_6_and_never_appears_under_final_name(
    source, store_dir, tmp_path, iconctl
):
    r = snap(source, store_dir)
    store = open_store(str(store_dir))
    from iconctl.sync.catalog import load_manifest
    from iconctl.sync.manifest import chunk_key

    entry = next(f for f in load_manifest(store, r.id).files if f.path == "data/1/000008.ldb")
    chunk = store_dir / chunk_key(entry.chunks[0].digest)
    data = bytearray(chunk.read_bytes())
    data[12345] ^= 0x01
    chunk.write_bytes(bytes(data))

    target = tmp_path / "t"
    res = iconctl(
        "sync", "restore", "--store", str(store_dir), "--data-dir", str(target), "--workers", "2"
    )
    assert res.returncode == 6, res.stderr
    assert "does not match its hash" in res.stderr and "000008.ldb" in res.stderr
    assert not (target / "data/1/000008.ldb").exists()
    assert not (target / MARKER_FILE).exists()
    res = iconctl("sync", "verify", "--store", str(store_dir))
    assert res.returncode == 6 and entry.chunks[0].digest in res.stderr

    chunk.unlink()  # now missing altogether
    res = iconctl("sync", "restore", "--store", str(store_dir), "--data-dir", str(target))
    assert res.returncode == 6 and "missing" in res.stderr
    res = iconctl("sync", "verify", "--store", str(store_dir), "--json")
    assert res.returncode == 6 and json.loads(res.stdout)["ok"] is False


def test_symlink_in_target_is_never_followed(source, store_dir, tmp_path):
    snap(source, store_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = tmp_path / "t"
    target.mkdir()
    (target / "data").symlink_to(elsewhere)
    with pytest.raises(IntegrityError, match="link"):
        restore_snapshot(open_store(str(store_dir)), target, force=True)
    assert list(elsewhere.iterdir()) == []


def test_second_snapshot_is_refused_while_the_lock_is_held(source, store_dir, iconctl):
    snap(source, store_dir)
    store = open_store(str(store_dir))
    lock = StoreLock(store, "snapshot")
    lock.acquire()
    try:
        res = iconctl("sync", "snapshot", "--data-dir", str(source), "--store", str(store_dir))
        assert res.returncode == 6 and "locked" in res.stderr
        assert (source / "data").exists() and not (source / ".iconctl-checkpoint").exists()
    finally:
        lock.release()
    assert not (store_dir / LOCK_KEY).exists()


def test_stale_lock_is_taken_over(source, store_dir):
    store = open_store(str(store_dir))
    store.put(
        LOCK_KEY,
        json.dumps(
            {
                "owner": "dead:1",
                "purpose": "snapshot",
                "token": "x",
                "acquired": 0,
                "expires": time.time() - 1,
            }
        ).encode(),
    )
    r = snap(source, store_dir)
    assert r.id and not (store_dir / LOCK_KEY).exists()


def test_prune_keeps_what_kept_snapshots_reference(source, store_dir, tmp_path):
    ids = []
    for i in range(3):
        (source / "data/1" / f"{100 + i:06d}.ldb").write_bytes(os.urandom(100_000 + i))
        ids.append(snap(source, store_dir).id)
    store = open_store(str(store_dir))
    before = {p.name for p in (store_dir / "chunks").rglob("*") if p.is_file()}
    result = prune(store, 1, grace=0)
    assert result.kept == [ids[-1]] and result.deleted == ids[:2]
    assert result.chunks_deleted == 0  # every chunk of the older ones is still in the newest
    (source / "data/1/000100.ldb").unlink()
    ids.append(snap(source, store_dir).id)
    result = prune(store, 1, grace=0)
    assert result.chunks_deleted == 1 and result.bytes_freed == 100_000
    after = {p.name for p in (store_dir / "chunks").rglob("*") if p.is_file()}
    assert len(before - after) == 1
    assert verify_snapshot(store, None).problems == []
    target = tmp_path / "t"
    restore_snapshot(store, target)
    assert chain_tree(target) == chain_tree(source)


def test_prune_defers_chunk_collection_while_a_snapshot_runs(source, store_dir):
    first = snap(source, store_dir).id
    (source / "data/1/000050.ldb").write_bytes(os.urandom(300_000))
    store = open_store(str(store_dir))
    # A snapshot in progress: it holds the lock and has uploaded a chunk that no published
    # manifest references yet.
    lock = StoreLock(store, "snapshot")
    lock.acquire()
    orphan = "ab" * 32
    store.put(f"chunks/ab/{orphan}", b"in flight")
    try:
        result = prune(store, 1, grace=0)
        assert result.chunks_deferred and result.chunks_deleted == 0
        assert store.exists(f"chunks/ab/{orphan}")
    finally:
        lock.release()
    result = prune(store, 1, grace=0)
    assert result.kept == [first] and result.chunks_deleted == 1
    assert not store.exists(f"chunks/ab/{orphan}")


def test_concurrent_snapshots_and_prune_leave_a_restorable_store(source, store_dir, tmp_path):
    store = open_store(str(store_dir))
    snap(source, store_dir)
    errors: list[BaseException] = []
    stop = threading.Event()

    def pruner():
        while not stop.is_set():
            try:
                prune(open_store(str(store_dir)), 1, grace=0)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    t = threading.Thread(target=pruner)
    t.start()
    try:
        for i in range(4):
            (source / "data/1" / f"{200 + i:06d}.ldb").write_bytes(os.urandom(1_500_000))
            create_snapshot(source, store, lock_wait=30)
    finally:
        stop.set()
        t.join()
    assert not errors, errors
    assert verify_snapshot(store, None).problems == []
    target = tmp_path / "t"
    restore_snapshot(store, target)
    assert chain_tree(target) == chain_tree(source)
    assert tree(target)  # sanity
    assert hash_bytes(b"") != ""  # hash helper stays importable for the tests above


def test_checkpoint_follows_changes_between_prelink_and_pause(source, tmp_path):
    from iconctl.sync.snapshot import DEFAULT_EXCLUDES, SnapshotResult, _Checkpoint

    chain = source / "data/1"
    cp = _Checkpoint(source, tmp_path / "cp", DEFAULT_EXCLUDES, SnapshotResult("x", "s"))
    cp.prelink()
    # the running node compacts: one table gone, one new, the log grows, a new directory
    (chain / "000005.ldb").unlink()
    (chain / "000777.ldb").write_bytes(b"new table")
    with open(chain / "000004.log", "ab") as f:
        f.write(b"more")
    (source / "data/2").mkdir()
    (source / "data/2/000001.ldb").write_bytes(b"t")
    dirs, files = cp.finish()
    with open(chain / "000004.log", "ab") as f:
        f.write(b"after the pause")  # must not reach the checkpoint
    assert "data/2" in dirs and "data/1/000005.ldb" not in files
    got = tree(tmp_path / "cp")
    assert "data/1/000005.ldb" not in got and got["data/1/000777.ldb"] == b"new table"
    assert got["data/1/000004.log"].endswith(b"more")
    assert (tmp_path / "cp/data/1/000006.ldb").stat().st_ino == (chain / "000006.ldb").stat().st_ino
    assert "auth.json" not in got


def test_kill_9_during_snapshot_leaves_latest_and_store_usable(source, store_dir, tmp_path):
    import signal
    import subprocess
    import sys

    first = snap(source, store_dir)
    for i in range(40):
        (source / "data/1" / f"{300 + i:06d}.ldb").write_bytes(os.urandom(1024 * 1024))
    proc = subprocess.Popen(
        [sys.executable, "-m", "iconctl", "sync", "snapshot", "--data-dir", str(source),
         "--store", str(store_dir), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (store_dir / LOCK_KEY).exists():
        time.sleep(0.01)
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = open_store(str(store_dir))
    latest = json.loads((store_dir / LATEST_KEY).read_text())["id"]
    # either the kill came first (latest unchanged) or the snapshot had fully published
    assert latest == first.id or verify_snapshot(store, latest).problems == []
    assert verify_snapshot(store, first.id).problems == []
    # the dead writer's lock expires; then the next snapshot takes it over and succeeds
    if (store_dir / LOCK_KEY).exists():
        doc = json.loads((store_dir / LOCK_KEY).read_text())
        doc["expires"] = time.time() - 1
        (store_dir / LOCK_KEY).write_text(json.dumps(doc))
    again = create_snapshot(source, store)
    assert again.bytes_uploaded <= 40 * 1024 * 1024 + 1024 * 1024
    target = tmp_path / "t"
    restore_snapshot(store, target)
    assert chain_tree(target) == chain_tree(source)


def test_leftover_working_files_are_never_snapshotted(source, store_dir, tmp_path):
    # An interrupted restore of an older iconctl left a working file next to its final name;
    # the directory was later snapshotted. Both names in one manifest made the restore write
    # one entry's bytes under the other's name.
    real = source / "data/1/000005.ldb"
    (source / "data/1/000005.ldb.iconctl-part").write_bytes(os.urandom(real.stat().st_size))
    (source / "data/1/.iconctl-part.000006.ldb").write_bytes(b"a current working file")
    r = snap(source, store_dir)
    from iconctl.sync.catalog import load_manifest

    paths = {f.path for f in load_manifest(open_store(str(store_dir)), r.id).files}
    assert "data/1/000005.ldb" in paths
    assert not any("iconctl" in p for p in paths), sorted(paths)
    target = tmp_path / "t"
    restore_snapshot(open_store(str(store_dir)), target)
    assert (target / "data/1/000005.ldb").read_bytes() == real.read_bytes()


def _forge_marker_entry(store_dir: Path) -> None:
    """A manifest entry whose bytes are a completion marker, plus a chunk gone missing."""
    store = open_store(str(store_dir))
    latest = json.loads((store_dir / LATEST_KEY).read_text())
    body = json.dumps({"id": latest["id"], "files": 1, "bytes": 1}).encode()
    digest = hash_bytes(body)
    store.put(f"chunks/{digest[:2]}/{digest}", body)

    def edit(doc: dict) -> None:
        doc["files"].insert(
            0,
            {"path": MARKER_FILE, "size": len(body), "mode": 0o644, "mtime_ns": 1,
             "chunks": [[len(body), digest]]},
        )  # fmt: skip
        victim = next(f for f in reversed(doc["files"]) if f["chunks"])["chunks"][0][1]
        (store_dir / "chunks" / victim[:2] / victim).unlink()

    _tamper(store_dir, edit)


def test_a_manifest_cannot_forge_the_completion_marker(source, store_dir, tmp_path, iconctl):
    snap(source, store_dir)
    _forge_marker_entry(store_dir)
    target = tmp_path / "t"
    args = ("sync", "restore", "--store", str(store_dir), "--data-dir", str(target), "--json")
    first = iconctl(*args, "--workers", "1")
    assert first.returncode == 6, first.stderr
    second = iconctl(*args)
    assert second.returncode == 6, second.stdout  # never "already_complete" on missing data
    assert not (target / MARKER_FILE).exists()


def test_a_marker_next_to_a_state_file_is_not_completion(source, store_dir, tmp_path):
    r = snap(source, store_dir)
    target = tmp_path / "t"
    restore_snapshot(open_store(str(store_dir)), target)
    victim = target / "data/1/000007.ldb"
    victim.unlink()
    # a restore that crashed after it had started over in a completed directory
    (target / STATE_FILE).write_text(json.dumps({"id": r.id}))
    res = restore_snapshot(open_store(str(store_dir)), target)
    assert not res.already_complete and res.bytes_fetched == 2 * 1024 * 1024
    assert chain_tree(target) == chain_tree(source)
    marker = json.loads((target / MARKER_FILE).read_text())
    assert marker["id"] == r.id and len(marker["manifest_blake3"]) == 64


def test_a_hard_link_to_a_file_outside_the_target_is_replaced_not_written(
    source, store_dir, tmp_path
):
    snap(source, store_dir)
    target = tmp_path / "t"
    restore_snapshot(open_store(str(store_dir)), target)
    outside = tmp_path / "precious"
    size = (target / "data/1/000007.ldb").stat().st_size
    precious = os.urandom(size)  # same size, other bytes: the restore has to repair it
    outside.write_bytes(precious)
    (target / "data/1/000007.ldb").unlink()
    os.link(outside, target / "data/1/000007.ldb")
    restore_snapshot(open_store(str(store_dir)), target, force=True)
    assert outside.read_bytes() == precious
    assert chain_tree(target) == chain_tree(source)
    assert (target / "data/1/000007.ldb").stat().st_nlink == 1


def test_a_hard_linked_working_file_is_replaced_not_written(source, store_dir, tmp_path):
    from iconctl.sync.restore import part_path

    r = snap(source, store_dir)
    target = tmp_path / "t"
    (target / "data/1").mkdir(parents=True)
    (target / STATE_FILE).write_text(json.dumps({"id": r.id}))  # an interrupted restore
    outside = tmp_path / "precious"
    precious = os.urandom(3 * 1024 * 1024)
    outside.write_bytes(precious)
    os.link(outside, part_path(target / "data/1/000007.ldb"))
    restore_snapshot(open_store(str(store_dir)), target)
    assert outside.read_bytes() == precious
    assert chain_tree(target) == chain_tree(source)


def test_a_restore_whose_snapshot_was_pruned_starts_over_from_latest(
    source, store_dir, tmp_path, iconctl
):
    from iconctl.sync.manifest import chunk_key

    first = snap(source, store_dir)
    store = open_store(str(store_dir))
    from iconctl.sync.catalog import load_manifest

    entry = next(f for f in load_manifest(store, first.id).files if f.path == "data/1/000009.ldb")
    chunk = store_dir / chunk_key(entry.chunks[0].digest)
    saved = chunk.read_bytes()
    chunk.unlink()  # the first attempt stops on it, leaving a half-done target
    target = tmp_path / "t"
    args = ("sync", "restore", "--store", str(store_dir), "--data-dir", str(target))
    assert iconctl(*args, "--workers", "1").returncode == 6
    assert (target / STATE_FILE).exists()
    chunk.write_bytes(saved)
    (source / "data/1/000099.ldb").write_bytes(os.urandom(1_000_000))
    second = snap(source, store_dir)
    prune(store, 1, grace=0)  # the snapshot being restored is gone
    assert not (store_dir / "snapshots" / f"{first.id}.json").exists()

    res = iconctl(*args)
    assert res.returncode == 0, res.stderr
    assert first.id in res.stdout and second.id in res.stdout and "latest" in res.stdout
    assert chain_tree(target) == chain_tree(source)
    assert json.loads((target / MARKER_FILE).read_text())["id"] == second.id

    # an explicitly requested snapshot that no longer exists is still an error
    res = iconctl(*args, "--force", "--snapshot", first.id)
    assert res.returncode == 6 and "not found" in res.stderr


def test_restart_from_latest_reuses_what_is_on_disk(source, store_dir, tmp_path):
    first = snap(source, store_dir)
    target = tmp_path / "t"
    target.mkdir()
    restore_snapshot(open_store(str(store_dir)), target)
    (target / MARKER_FILE).unlink()
    (target / STATE_FILE).write_text(json.dumps({"id": first.id}))
    (source / "data/1/000098.ldb").write_bytes(os.urandom(500_000))
    second = snap(source, store_dir)
    prune(open_store(str(store_dir)), 1, grace=0)
    res = restore_snapshot(open_store(str(store_dir)), target)
    assert res.id == second.id and res.restarted_from == first.id
    assert res.bytes_fetched == 500_000 and res.bytes_reused == first.bytes_scanned


@pytest.fixture
def small_tmpfs(tmp_path: Path):
    """A real 8 MiB filesystem (tmpfs) to fill up; skipped where mounting is not allowed."""
    import subprocess

    mnt = tmp_path / "small"
    mnt.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)],
        capture_output=True,
        check=False,
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_is_one_line_naming_the_target_and_a_rerun_resumes(
    source, store_dir, small_tmpfs, iconctl
):
    import subprocess

    snap(source, store_dir)  # about 25 MiB: does not fit in 8 MiB
    target = small_tmpfs / "data"
    args = ("sync", "restore", "--store", str(store_dir), "--data-dir", str(target))
    res = iconctl(*args, "--workers", "2")
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert str(target) in lines[0] and "No space left on device" in lines[0]
    assert "run the restore again" in lines[0]
    assert not (target / MARKER_FILE).exists()

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_tmpfs)], check=True)
    res = iconctl(*args, "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["resumed"] is True and out["bytes_reused"] > 0
    assert chain_tree(target) == chain_tree(source)
