"""Store URLs, the metrics textfile, the GCS backend (mocked: no emulator here)."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from iconctl.errors import InputError
from iconctl.sync.metrics import write_metrics
from iconctl.sync.store import FileStore, GcsStore, HttpStore, NotFound, S3Store, open_store


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
        init.assert_called_once_with("b", "p", "gs://b/p")


@pytest.mark.parametrize(
    "url", ["", "ftp://x/y", "s3://", "s3:///x", "file://host/x", "gs://b/p?x=1", "http:///nohost"]
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
    assert 'icon_sync_last_success_timestamp_seconds{operation="snapshot"} 100.000' in text
    assert 'icon_sync_last_failure_timestamp_seconds{operation="snapshot"} 300.000' in text
    assert 'icon_sync_last_failure_timestamp_seconds{operation="restore"} 200.000' in text
    assert 'icon_sync_last_duration_seconds{operation="snapshot"} 3.000' in text
    assert 'icon_sync_last_bytes_transferred{operation="restore"} 5' in text
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

        def download():
            if name not in blobs:
                raise _Missing()
            return blobs[name]

        def upload(data, content_type=None, if_generation_match=None):
            if if_generation_match == 0 and name in blobs:
                raise _Precondition()
            blobs[name] = data

        b.download_as_bytes.side_effect = download
        b.upload_from_string.side_effect = upload
        b.exists.side_effect = lambda: name in blobs
        b.delete.side_effect = lambda: (
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
    client.list_blobs.assert_called_with(client.bucket.return_value, prefix="pre/chunks/")
