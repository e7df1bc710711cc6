"""`iconctl sync ...` as an operator runs it: the whole cycle, exit codes, JSON, metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.sync import chain_tree, make_data_dir

pytestmark = pytest.mark.timeout(120)


def test_full_cycle_on_a_plain_path_store(tmp_path: Path, iconctl):
    node = make_data_dir(tmp_path / "node", tables=4)
    store = tmp_path / "store"
    metrics = tmp_path / "sync.prom"
    res = iconctl(
        "sync",
        "snapshot",
        "--data-dir",
        str(node),
        "--store",
        str(store),
        "--metrics-file",
        str(metrics),
    )
    assert res.returncode == 0, res.stderr
    assert "published" in res.stdout and "node paused" in res.stdout
    assert 'icon_sync_last_success_timestamp_seconds{operation="snapshot"}' in metrics.read_text()

    res = iconctl("sync", "list", "--store", f"file://{store}", "--json")
    rows = json.loads(res.stdout)
    assert res.returncode == 0 and len(rows) == 1 and {"id", "created"} <= rows[0].keys()
    res = iconctl("sync", "list", "--store", str(store))
    assert rows[0]["id"] in res.stdout and "latest" in res.stdout

    res = iconctl("sync", "verify", "--store", str(store), "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["ok"] is True

    target = tmp_path / "new-node"
    res = iconctl(
        "sync",
        "restore",
        "--store",
        str(store),
        "--data-dir",
        str(target),
        "--metrics-file",
        str(metrics),
    )
    assert res.returncode == 0, res.stderr
    assert chain_tree(target) == chain_tree(node)
    text = metrics.read_text()
    assert 'operation="snapshot"' in text and 'operation="restore"' in text

    # a re-run at the next boot is a no-op
    res = iconctl("sync", "restore", "--store", str(store), "--data-dir", str(target), "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["already_complete"] is True

    res = iconctl("sync", "prune", "--store", str(store), "--keep", "1", "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["kept"] == [rows[0]["id"]]


def test_failure_is_recorded_in_metrics(tmp_path: Path, iconctl):
    metrics = tmp_path / "sync.prom"
    res = iconctl(
        "sync",
        "restore",
        "--store",
        str(tmp_path / "empty"),
        "--data-dir",
        str(tmp_path / "t"),
        "--metrics-file",
        str(metrics),
    )
    assert res.returncode == 6 and "no snapshot" in res.stderr
    assert 'icon_sync_last_failure_timestamp_seconds{operation="restore"}' in metrics.read_text()
    assert "icon_sync_last_success_timestamp_seconds{" not in metrics.read_text()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["sync", "snapshot", "--store", "x"], 2, "--data-dir"),
        (["sync", "restore", "--data-dir", "x"], 2, "--store"),
        (["sync", "prune", "--store", "x", "--keep", "0"], 2, "--keep"),
        (
            ["sync", "snapshot", "--data-dir", "/nonexistent-dir", "--store", "/tmp/s"],
            3,
            "not a directory",
        ),
        (["sync", "list", "--store", "ftp://host/x"], 3, "unsupported store URL"),
        (["sync", "list", "--store", "s3://"], 3, "invalid store URL"),
        (["sync", "verify", "--store", "/tmp", "--snapshot", "nope"], 6, "invalid snapshot id"),
    ],
)
def test_bad_input_exit_codes(args, code, message, iconctl):
    res = iconctl(*args)
    assert res.returncode == code, (res.stdout, res.stderr)
    assert message in res.stderr and "Traceback" not in res.stderr


def test_an_unusable_path_is_one_line_of_bad_input(tmp_path: Path, iconctl):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    target = blocker / "data"  # a path below a regular file can never be created
    res = iconctl("sync", "restore", "--store", str(tmp_path), "--data-dir", str(target))
    assert res.returncode == 3, res.stderr
    assert res.stderr.strip() == f"error: {target}: Not a directory"
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr
