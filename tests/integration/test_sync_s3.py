"""Snapshot, restore, list, verify and prune against moto's S3 server running on loopback."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from iconctl.exposition import samples
from tests.helpers.sync import chain_tree, create_bucket, make_data_dir, moto_server

pytestmark = pytest.mark.timeout(180)
TEN_MS = timedelta(milliseconds=10)


@pytest.fixture(scope="module")
def s3():
    with moto_server() as env:
        create_bucket(env, "demo-bucket")
        yield env


def test_snapshot_restore_list_verify_prune_over_s3(s3, tmp_path: Path, iconctl):
    node = make_data_dir(tmp_path / "node", tables=6)
    url = "s3://demo-bucket/snapshots"
    res = iconctl("sync", "snapshot", "--data-dir", str(node), "--store", url, "--json", env=s3)
    assert res.returncode == 0, res.stderr
    first = json.loads(res.stdout)
    assert first["bytes_uploaded"] == first["bytes_scanned"] > 12 * 1024 * 1024
    for key in ("files", "bytes_scanned", "bytes_uploaded", "pause_seconds", "duration_seconds"):
        assert key in first

    with open(node / "data/1/000004.log", "ab") as f:
        f.write(os.urandom(50_000))
    res = iconctl("sync", "snapshot", "--data-dir", str(node), "--store", url, "--json", env=s3)
    second = json.loads(res.stdout)
    assert res.returncode == 0 and second["bytes_uploaded"] == 50_000

    res = iconctl("sync", "list", "--store", url, "--json", env=s3)
    rows = json.loads(res.stdout)
    assert [r["id"] for r in rows] == [first["id"], second["id"]]
    assert all(r["created"] for r in rows) and rows[1]["latest"] is True

    target = tmp_path / "restored"
    metrics = tmp_path / "textfile" / "sync.prom"
    res = iconctl(
        "sync",
        "restore",
        "--store",
        url,
        "--data-dir",
        str(target),
        "--json",
        "--metrics-file",
        str(metrics),
        env=s3,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["id"] == second["id"]
    assert chain_tree(target) == chain_tree(node)
    restored = {
        name: value
        for name, labels, value in samples(metrics.read_text())
        if labels == {"operation": "restore"}
    }
    assert restored["icon_sync_last_success_timestamp_seconds"] > 0
    assert restored["icon_sync_last_bytes_transferred"] == second["bytes_scanned"]

    res = iconctl("sync", "verify", "--store", url, "--snapshot", first["id"], env=s3)
    assert res.returncode == 0, res.stderr

    res = iconctl(
        "sync", "prune", "--store", url, "--keep", "1", "--min-age", "0", "--json", env=s3
    )
    assert res.returncode == 0, res.stderr
    pruned = json.loads(res.stdout)
    # the log only grew, so the newer snapshot still references every chunk of the older one
    assert pruned["deleted"] == [first["id"]] and pruned["chunks_deleted"] == 0
    res = iconctl("sync", "verify", "--store", url, env=s3)
    assert res.returncode == 0, res.stderr


def test_s3_integrity_failure_exits_6(s3, tmp_path: Path, iconctl):
    import boto3

    node = make_data_dir(tmp_path / "node", tables=2)
    url = "s3://demo-bucket/broken"
    assert (
        iconctl("sync", "snapshot", "--data-dir", str(node), "--store", url, env=s3).returncode == 0
    )
    client = boto3.client("s3", region_name="us-east-1")
    keys = [
        o["Key"]
        for o in client.list_objects_v2(Bucket="demo-bucket", Prefix="broken/chunks/")["Contents"]
    ]
    client.put_object(Bucket="demo-bucket", Key=keys[0], Body=b"evil")
    res = iconctl("sync", "restore", "--store", url, "--data-dir", str(tmp_path / "t"), env=s3)
    assert res.returncode == 6, res.stderr
    res = iconctl("sync", "verify", "--store", url, env=s3)
    assert res.returncode == 6


def test_s3_lock_uses_conditional_writes(s3):
    from iconctl.errors import IntegrityError
    from iconctl.sync.lock import StoreLock
    from iconctl.sync.store import open_store

    store = open_store("s3://demo-bucket/locked")
    a = StoreLock(store, "snapshot")
    a.acquire()
    try:
        with pytest.raises(IntegrityError, match="locked"):
            StoreLock(store, "snapshot").acquire(wait=0)
    finally:
        a.release()
    b = StoreLock(store, "snapshot")
    b.acquire()
    b.release()


def test_missing_bucket_is_a_clear_error(s3, tmp_path: Path, iconctl):
    node = make_data_dir(tmp_path / "node", tables=1)
    res = iconctl(
        "sync", "snapshot", "--data-dir", str(node), "--store", "s3://no-such-bucket/x", env=s3
    )
    assert res.returncode == 5 and "NoSuchBucket" in res.stderr
    assert "Traceback" not in res.stderr


def test_chunk_reads_use_the_fast_client_and_fall_back_to_boto3(s3, tmp_path: Path):
    from iconctl.sync.restore import restore_snapshot
    from iconctl.sync.snapshot import create_snapshot
    from iconctl.sync.store import S3Store, open_store

    node = make_data_dir(tmp_path / "node", tables=3)
    create_snapshot(node, open_store("s3://demo-bucket/fast"))
    store = open_store("s3://demo-bucket/fast")
    restore_snapshot(store, tmp_path / "a")
    assert store._fast, "obstore was not used for chunk reads"
    assert chain_tree(tmp_path / "a") == chain_tree(node)

    broken = S3Store("demo-bucket", "fast", "s3://demo-bucket/fast")
    from obstore.store import S3Store as ObjectStoreS3

    broken._fast = ObjectStoreS3(
        "demo-bucket",
        prefix="fast",
        endpoint="http://127.0.0.1:9",
        region="us-east-1",
        skip_signature=True,
        client_options={"allow_http": True, "timeout": "2s"},
        retry_config={
            "max_retries": 0,
            "retry_timeout": timedelta(seconds=1),
            "backoff": {"init_backoff": TEN_MS, "max_backoff": TEN_MS, "base": 2},
        },
    )
    restore_snapshot(broken, tmp_path / "b")
    assert broken._fast is False
    assert chain_tree(tmp_path / "b") == chain_tree(node)
