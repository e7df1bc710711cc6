"""Store URLs, the metrics textfile, the GCS backend (mocked: no emulator here)."""

from __future__ import annotations

import re
from pathlib import Path
from unittest import mock

import pytest

from iconctl.errors import InputError
from iconctl.sync.metrics import write_metrics
from iconctl.sync.store import (
    FileStore,
    GcsStore,
    HttpStore,
    NotFound,
    RetryPolicy,
    S3Store,
    StoreError,
    TooLarge,
    Transient,
    open_store,
)


def test_urls(tmp_path: Path, monkeypatch):
    assert isinstance(open_store(str(tmp_path)), FileStore)
    assert isinstance(open_store(f"file://{tmp_path}"), FileStore)
    monkeypatch.chdir(tmp_path)
    assert open_store("rel/dir").root == tmp_path / "rel/dir"
    s3 = open_store("s3://bucket/a/b/")
    assert isinstance(s3, S3Store) and (s3.bucket, s3.prefix) == ("bucket", "a/b")
    http = open_store("https://cdn.example.org/icon/snapshots/")
    assert isinstance(http, HttpStore) and http.read_only and http.base == "/icon/snapshots"
    with mock.patch("iconctl.sync.store.GcsStore.__init__", return_value=None) as init:
        assert isinstance(open_store("gs://b/p"), GcsStore)
        init.assert_called_once()
        assert init.call_args.args == ("b", "p", "gs://b/p")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://x/y",
        "s3://",
        "s3:///x",
        "file://host/x",
        "gs://b/p?x=1",
        "http:///nohost",
        "https://user:secret@cdn.example.org/x",
    ],
)
def test_bad_urls(url):
    with pytest.raises(InputError):
        open_store(url)


def test_file_store_is_not_created_by_reads(tmp_path: Path):
    store = open_store(str(tmp_path / "absent"))
    with pytest.raises(NotFound):
        store.get("latest.json")
    assert not (tmp_path / "absent").exists()
    assert store.put_if_absent("k", b"1") and not store.put_if_absent("k", b"2")
    assert store.get("k") == b"1"


def test_metrics_keep_other_series(tmp_path: Path):
    path = tmp_path / "sync.prom"
    write_metrics(path, "snapshot", ok=True, duration=2.5, bytes_transferred=10, now=100.0)
    write_metrics(path, "restore", ok=False, duration=1.0, bytes_transferred=5, now=200.0)
    write_metrics(path, "snapshot", ok=False, duration=3.0, bytes_transferred=0, now=300.0)
    text = path.read_text()
    values = dict(re.findall(r"^(\S+) (\S+)$", text, re.M))
    assert float(values['icon_sync_last_success_timestamp_seconds{operation="snapshot"}']) == 100
    assert float(values['icon_sync_last_failure_timestamp_seconds{operation="snapshot"}']) == 300
    assert float(values['icon_sync_last_failure_timestamp_seconds{operation="restore"}']) == 200
    assert float(values['icon_sync_last_duration_seconds{operation="snapshot"}']) == 3
    assert float(values['icon_sync_last_bytes_transferred{operation="restore"}']) == 5
    assert 'icon_sync_last_success_timestamp_seconds{operation="restore"}' not in values
    assert text.count("# TYPE") == 4 and not list(tmp_path.glob(".*tmp"))


class _Missing(Exception):
    code = 404


class _Precondition(Exception):
    code = 412


def test_gcs_store_with_a_mocked_client():
    blobs: dict[str, bytes] = {}

    def blob(name):
        b = mock.Mock()
        b.name = name

        def download(**kwargs):
            if name not in blobs:
                raise _Missing()
            end = kwargs.get("end")
            return blobs[name] if end is None else blobs[name][: end + 1]

        def upload(data, content_type=None, if_generation_match=None, **kwargs):
            if if_generation_match == 0 and name in blobs:
                raise _Precondition()
            blobs[name] = data

        b.download_as_bytes.side_effect = download
        b.upload_from_string.side_effect = upload
        b.exists.side_effect = lambda **kw: name in blobs
        b.delete.side_effect = lambda **kw: (
            blobs.pop(name) if name in blobs else (_ for _ in ()).throw(_Missing())
        )
        return b

    client = mock.Mock()
    client.bucket.return_value.blob.side_effect = blob
    store = GcsStore("bkt", "pre", "gs://bkt/pre", client=client)
    store.put("a/b", b"1")
    assert blobs == {"pre/a/b": b"1"} and store.get("a/b") == b"1"
    assert store.exists("a/b") and not store.exists("zz")
    with pytest.raises(NotFound):
        store.get("zz")
    assert store.put_if_absent("lock", b"x") and not store.put_if_absent("lock", b"y")
    store.delete("a/b")
    store.delete("a/b")  # absent: no error
    listed = mock.Mock(size=3, updated=None)
    listed.name = "pre/chunks/x"
    client.list_blobs.return_value = [listed]
    assert [i.key for i in store.list("chunks/")] == ["chunks/x"]
    client.list_blobs.assert_called_with(
        client.bucket.return_value, prefix="pre/chunks/", timeout=store.policy.timeout
    )


# --- one retry policy for every store ------------------------------------------------------


def test_retry_policy_backs_off_with_jitter_inside_its_deadline(monkeypatch):
    sleeps: list[float] = []
    clock = {"now": 0.0}
    monkeypatch.setattr("iconctl.sync.store.time.monotonic", lambda: clock["now"])

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["now"] += seconds

    monkeypatch.setattr("iconctl.sync.store.time.sleep", sleep)
    policy = RetryPolicy(timeout=5)  # deadline 20 s
    calls = {"n": 0}

    def always_down():
        calls["n"] += 1
        clock["now"] += 1.0  # each attempt takes a second
        raise Transient("HTTP 503")

    with pytest.raises(Transient):
        policy.run(always_down, lambda e: isinstance(e, Transient))
    assert clock["now"] <= policy.total + 1  # never starts an attempt past the deadline
    assert calls["n"] >= 5
    for n, pause in enumerate(sleeps, 1):
        step = min(policy.cap, policy.base * 2 ** (n - 1))
        assert step / 2 <= pause <= step  # exponential, half of it random
    assert len({round(p, 6) for p in sleeps}) == len(sleeps)  # jitter: no two alike

    with pytest.raises(ValueError):  # not retryable: raised at once
        policy.run(lambda: (_ for _ in ()).throw(ValueError("no")), lambda e: False)


class _Body:
    """A streaming body that records how much was asked of it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.read_sizes: list[int | None] = []

    def read(self, amt: int | None = None) -> bytes:
        self.read_sizes.append(amt)
        return self.data if amt is None else self.data[:amt]

    def close(self) -> None:
        pass


def _client_error(status: int, code: str):
    from botocore.exceptions import ClientError

    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "GetObject",
    )


def test_s3_store_retries_503_by_the_shared_policy():
    client = mock.Mock()
    answers = [_client_error(503, "SlowDown"), _client_error(503, "ServiceUnavailable")]

    def get_object(**kwargs):
        if answers:
            raise answers.pop(0)
        return {"Body": _Body(b"data"), "ContentLength": 4}

    client.get_object.side_effect = get_object
    fast = RetryPolicy(timeout=1, base=0.01, cap=0.02)
    store = S3Store("b", "p", "s3://b/p", client=client, fast_reads=False, policy=fast)
    assert store.get("k") == b"data" and client.get_object.call_count == 3

    client.get_object.side_effect = lambda **kw: (_ for _ in ()).throw(
        _client_error(403, "AccessDenied")
    )
    with pytest.raises(StoreError, match="AccessDenied"):  # not retried: it will not pass
        store.get("k")


def test_s3_store_refuses_an_oversized_object_before_reading_it():
    body = _Body(b"x" * 1000)
    client = mock.Mock()
    client.get_object.return_value = {"Body": body, "ContentLength": 256 << 20}
    store = S3Store("b", "p", "s3://b/p", client=client, fast_reads=False)
    with pytest.raises(TooLarge):
        store.get_into("chunks/ab/x", bytearray(4 << 20))
    assert body.read_sizes == []  # refused on its announced size
    client.get_object.return_value = {"Body": body, "ContentLength": None}  # size not announced
    with pytest.raises(TooLarge):
        store.get("snapshots/x.json", limit=100)
    assert body.read_sizes == [101]  # a bounded read, never the whole body


def test_an_oversized_manifest_is_refused_before_it_is_read(tmp_path: Path):
    import tracemalloc

    from iconctl.errors import IntegrityError
    from iconctl.sync.catalog import load_manifest

    sid = "20260101T000000.000Z-00000000"
    big = tmp_path / "snapshots" / f"{sid}.json"
    big.parent.mkdir()
    with open(big, "wb") as f:
        f.truncate(700 << 20)  # sparse: costs no disk
    tracemalloc.start()
    try:
        with pytest.raises(IntegrityError, match="512 MiB limit"):
            load_manifest(open_store(str(tmp_path)), sid)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20  # was 700 MiB: the whole file, read before its size was checked


def _huge_store(root: Path, entries: int) -> int:
    """A directory store whose latest snapshot has ``entries`` files over 10 real chunks;
    returns the manifest's size in bytes."""
    from iconctl.sync.manifest import (
        Chunk,
        FileEntry,
        Manifest,
        chunk_key,
        encode_latest,
        hash_bytes,
        manifest_key,
        new_snapshot_id,
    )

    pool = []
    for i in range(10):
        data = f"chunk {i}".encode()
        (root / chunk_key(hash_bytes(data))).parent.mkdir(parents=True, exist_ok=True)
        (root / chunk_key(hash_bytes(data))).write_bytes(data)
        pool.append(Chunk(len(data), hash_bytes(data)))
    files = [
        FileEntry(f"data/1/{i:07d}.ldb", pool[i % 10].size, 0o644, 1 + i, [pool[i % 10]])
        for i in range(entries)
    ]
    sid = new_snapshot_id()
    body = Manifest(sid, "2026-12-03T00:00:00.000Z", 4 << 20, ["data", "data/1"], files).encode()
    (root / manifest_key(sid)).parent.mkdir(parents=True)
    (root / manifest_key(sid)).write_bytes(body)
    (root / "latest.json").write_bytes(encode_latest(sid, body, "2026-12-03T00:00:00.000Z"))
    return len(body)


@pytest.mark.parametrize("command", ["list", "verify"])
def test_list_and_verify_do_not_build_the_whole_manifest_tree(command, tmp_path: Path):
    import tracemalloc

    from iconctl.sync.catalog import list_snapshots, verify_snapshot

    size = _huge_store(tmp_path, 20_000)
    store = open_store(str(tmp_path))
    tracemalloc.start()
    try:
        if command == "list":
            assert list_snapshots(store)[0].files == 20_000
        else:
            assert verify_snapshot(store, None, workers=2).problems == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the manifest's bytes plus a little per entry; json.loads' tree alone was ~7x the bytes
    assert peak < 3.5 * size, (peak, size)
