"""Restores from a read-only http:// store (a real HTTP server on loopback): a round trip,
kill -9 in the middle then resume, and a real LevelDB opened after the restore."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from iconctl.sync.restore import MARKER_FILE, PART_PREFIX, STATE_FILE
from tests.helpers import need_module
from tests.helpers.sync import (
    chain_tree,
    http_server,
    https_server,
    make_data_dir,
    nginx_server,
)

pytestmark = pytest.mark.timeout(180)


def test_restore_from_http_store(tmp_path: Path, iconctl):
    node = make_data_dir(tmp_path / "node", tables=8)
    store = tmp_path / "store"
    assert (
        iconctl("sync", "snapshot", "--data-dir", str(node), "--store", str(store)).returncode == 0
    )
    with http_server(store) as base:
        res = iconctl(
            "sync", "restore", "--store", f"{base}/", "--data-dir", str(tmp_path / "t"), "--json"
        )
        assert res.returncode == 0, res.stderr
        assert chain_tree(tmp_path / "t") == chain_tree(node)
        # read-only: snapshots and prunes are refused with a usage-level error
        res = iconctl("sync", "snapshot", "--data-dir", str(node), "--store", base)
        assert res.returncode == 3 and "read-only" in res.stderr
        res = iconctl("sync", "prune", "--store", base, "--keep", "1")
        assert res.returncode == 3
        res = iconctl(
            "sync", "restore", "--store", f"{base}/nothing-here", "--data-dir", str(tmp_path / "u")
        )
        assert res.returncode == 6 and "no snapshot" in res.stderr


def test_restore_through_nginx_and_a_404_chunk(tmp_path: Path, iconctl):
    node = make_data_dir(tmp_path / "node", tables=6)
    store = tmp_path / "www" / "snapshots"
    assert (
        iconctl("sync", "snapshot", "--data-dir", str(node), "--store", str(store)).returncode == 0
    )
    with nginx_server(tmp_path / "www", tmp_path / "nginx") as base:
        res = iconctl(
            "sync",
            "restore",
            "--store",
            f"{base}/snapshots",
            "--data-dir",
            str(tmp_path / "t"),
            "--json",
        )
        assert res.returncode == 0, res.stderr
        assert chain_tree(tmp_path / "t") == chain_tree(node)
        res = iconctl("sync", "verify", "--store", f"{base}/snapshots")
        assert res.returncode == 0, res.stderr
        victim = next(p for p in (store / "chunks").rglob("*") if p.is_file())
        victim.unlink()
        res = iconctl(
            "sync", "restore", "--store", f"{base}/snapshots", "--data-dir", str(tmp_path / "u")
        )
        assert res.returncode == 6 and "missing" in res.stderr


def test_restore_over_https_verifies_the_server_certificate(tmp_path: Path, iconctl):
    node = make_data_dir(tmp_path / "node", tables=3)
    store = tmp_path / "store"
    assert (
        iconctl("sync", "snapshot", "--data-dir", str(node), "--store", str(store)).returncode == 0
    )
    with https_server(store, tmp_path / "tls") as (base, cert):
        res = iconctl("sync", "restore", "--store", base, "--data-dir", str(tmp_path / "t"),
                      env={"SSL_CERT_FILE": str(cert)})  # fmt: skip
        assert res.returncode == 0, res.stderr
        assert chain_tree(tmp_path / "t") == chain_tree(node)
        # without trusting the certificate the restore refuses to talk to the server, at once:
        # an untrusted certificate is not an outage to ride out
        started = time.monotonic()
        res = iconctl("sync", "restore", "--store", base, "--data-dir", str(tmp_path / "u"),
                      env={"SSL_CERT_FILE": "/nonexistent"})  # fmt: skip
        assert res.returncode == 5 and "CERTIFICATE_VERIFY_FAILED" in res.stderr
        assert time.monotonic() - started < 20
        assert not (tmp_path / "u" / "data").exists()


def _final_tables(target: Path) -> list[Path]:
    """Tables under their final names (working files carry a reserved prefix)."""
    return [p for p in target.rglob("*.ldb") if not p.name.startswith(PART_PREFIX)]


def test_kill_9_during_restore_then_resume_fetches_only_what_is_missing(tmp_path: Path):
    node = make_data_dir(tmp_path / "node", tables=40, table_size=512 * 1024)
    store = tmp_path / "store"
    from iconctl.sync.snapshot import create_snapshot
    from iconctl.sync.store import open_store

    snap = create_snapshot(node, open_store(str(store)))
    target = tmp_path / "t"
    with http_server(store, delay=0.1) as base:
        argv = [
            sys.executable,
            "-m",
            "iconctl",
            "sync",
            "restore",
            "--store",
            base,
            "--data-dir",
            str(target),
            "--workers",
            "2",
            "--json",
        ]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = [p for p in _final_tables(target) if p.is_file() and p.stat().st_size]
            if len(done) >= 5:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        assert (target / STATE_FILE).exists() and not (target / MARKER_FILE).exists()
        finished = {
            p.relative_to(target).as_posix() for p in _final_tables(target) if p.stat().st_size
        }
        for rel in finished:  # anything under its final name is complete and verified
            assert (target / rel).read_bytes() == (node / rel).read_bytes()
        assert 5 <= len(finished) < 40

        res = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        assert out["resumed"] is True and out["id"] == snap.id
        assert out["bytes_reused"] >= len(finished) * 512 * 1024
        assert out["bytes_fetched"] + out["bytes_reused"] == out["bytes_total"]
        assert out["bytes_fetched"] < out["bytes_total"]
    assert chain_tree(target) == chain_tree(node)
    assert (target / MARKER_FILE).exists() and not (target / STATE_FILE).exists()
    assert not list(target.rglob(f"{PART_PREFIX}*"))


def test_real_leveldb_restored_and_opened(tmp_path: Path):
    plyvel = need_module("plyvel")
    node = tmp_path / "node"
    db_path = node / "data" / "1"
    db_path.parent.mkdir(parents=True)
    db = plyvel.DB(str(db_path), create_if_missing=True, write_buffer_size=256 * 1024)
    expected = {}
    for i in range(20_000):
        key = b"\x01" + i.to_bytes(8, "big") + os.urandom(8)  # ICON-like prefixed keys
        value = os.urandom(64 + i % 200)
        expected[key] = value
        db.put(key, value)
    from iconctl.sync.restore import restore_snapshot
    from iconctl.sync.snapshot import create_snapshot
    from iconctl.sync.store import open_store

    # The database is open (a live node): the checkpoint still gives a consistent copy
    # because nothing writes while it is built.
    create_snapshot(node, open_store(str(tmp_path / "store")))
    db.close()
    with http_server(tmp_path / "store") as base:
        restore_snapshot(open_store(base), tmp_path / "t")
    restored = plyvel.DB(str(tmp_path / "t" / "data" / "1"))
    try:
        got = dict(restored.iterator())
    finally:
        restored.close()
    assert got == expected
