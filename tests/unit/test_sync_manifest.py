"""The manifest parser treats its input as hostile; ids, keys and paths are checked."""

from __future__ import annotations

import json

import pytest

from iconctl.errors import IntegrityError
from iconctl.sync.manifest import (
    Chunk,
    FileEntry,
    Manifest,
    check_path,
    chunk_key,
    encode_latest,
    hash_bytes,
    new_snapshot_id,
    parse_latest,
    parse_manifest,
)

H = hash_bytes(b"x" * 10)


def manifest(**over) -> dict:
    sid = new_snapshot_id()
    doc = Manifest(
        sid,
        "2026-11-24T00:00:00.000Z",
        4 << 20,
        ["data"],
        [FileEntry("data/a.ldb", 10, 0o644, 1, [Chunk(10, H)])],
    ).to_json()
    doc.update(over)
    return doc


def test_round_trip():
    doc = manifest()
    m = parse_manifest(json.dumps(doc).encode(), expect_id=doc["id"])
    assert m.files[0].chunks == [Chunk(10, H)] and m.dirs == ["data"]
    assert m.digests() == {H} and m.total_bytes == 10


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/passwd", "absolute"),
        ("../x", "clean relative"),
        ("a/../../x", "clean relative"),
        ("a//b", "clean relative"),
        ("./a", "clean relative"),
        ("a/", "clean relative"),
        ("", "non-empty"),
        ("a\x00b", "NUL"),
        ("a\\..\\b", "backslash"),
        ("C:/x", "absolute"),
        ("a/" + "x" * 300, "too long"),
    ],
)
def test_bad_paths(path, reason):
    with pytest.raises(IntegrityError, match=reason):
        check_path(path)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d.update(format="tar"), "not an iconctl manifest"),
        (lambda d: d.update(version=2), "not supported"),
        (lambda d: d.update(hash="md5"), "hash"),
        (lambda d: d.update(id="latest"), "invalid snapshot id"),
        (lambda d: d.update(chunk_size=0), "chunk_size"),
        (lambda d: d["files"][0].update(type="symlink"), "only regular files"),
        (lambda d: d["files"][0].update(type="hardlink"), "only regular files"),
        (lambda d: d["files"].append(dict(d["files"][0])), "repeats"),
        (lambda d: d["dirs"].append("data/a.ldb"), "repeats"),
        (lambda d: d["files"][0].update(size=11), "add up"),
        (lambda d: d["files"][0].update(size=-1), "integer"),
        (lambda d: d["files"][0].update(size=True), "integer"),
        (lambda d: d["files"][0].update(chunks=[[10, "Z" * 64]]), "size, hash"),
        (lambda d: d["files"][0].update(chunks=[[0, H]]), "integer"),
        (lambda d: d["files"][0].update(chunks=[10, H]), "size, hash"),
        (lambda d: d["files"][0].update(mode=0o2755), "setuid"),
        (lambda d: d["files"].append({**d["files"][0], "path": "data/a.ldb/b"}), "under the file"),
        (lambda d: d.update(files=None), "arrays"),
    ],
)
def test_bad_manifests(edit, reason):
    doc = manifest()
    edit(doc)
    with pytest.raises(IntegrityError, match=reason):
        parse_manifest(json.dumps(doc).encode())


def test_not_json_and_wrong_id():
    with pytest.raises(IntegrityError, match="not valid JSON"):
        parse_manifest(b"{nope")
    with pytest.raises(IntegrityError, match="not a JSON object"):
        parse_manifest(b"[]")
    doc = manifest()
    with pytest.raises(IntegrityError, match="does not match"):
        parse_manifest(json.dumps(doc).encode(), expect_id=new_snapshot_id())


def test_latest_pointer():
    body = b"{}"
    sid = new_snapshot_id()
    assert parse_latest(encode_latest(sid, body, "t")) == (sid, hash_bytes(body))
    for raw in (b"", b"[]", b'{"format": "iconctl-sync-latest", "id": "x"}'):
        with pytest.raises(IntegrityError):
            parse_latest(raw)


def test_ids_sort_by_time_and_keys_fan_out():
    from datetime import UTC, datetime

    a = new_snapshot_id(datetime(2026, 1, 1, 0, 0, 0, 1000, tzinfo=UTC))
    b = new_snapshot_id(datetime(2026, 1, 1, 0, 0, 0, 2000, tzinfo=UTC))
    assert a < b and a.startswith("20260101T000000.001Z-")
    assert chunk_key(H) == f"chunks/{H[:2]}/{H}"


# iconctl's own names in the target (the completion marker, the state file, the checkpoint,
# working files) are out of a manifest's reach: an entry naming one could forge completion or
# collide with a file being restored.
@pytest.mark.parametrize(
    "path",
    [
        ".iconctl-restore-complete",
        ".iconctl-restore.json",
        ".iconctl-checkpoint/data/1/000005.ldb",
        "data/1/000005.ldb.iconctl-part",
        "data/1/.iconctl-part.000005.ldb",
        "data/.ICONCTL-restore-complete",
        "data/000005.ldb.ICONCTL-PART",
    ],
)
def test_reserved_names_are_refused(path):
    with pytest.raises(IntegrityError, match="reserved"):
        check_path(path)


@pytest.mark.parametrize(
    "path",
    ["data/a\nerror: forged line", "data/a\rb", "data/\x1b[2Jb", "data/a\x7fb", "data/a\x85b"],
)
def test_control_characters_are_refused_and_never_echoed_raw(path):
    with pytest.raises(IntegrityError, match="control character") as info:
        check_path(path)
    assert not any(ch in info.value.message for ch in "\n\r\x1b\x7f\x85")


def test_deep_paths_are_refused_quickly():
    import time

    start = time.monotonic()
    for depth in (65, 900, 2000):
        with pytest.raises(IntegrityError, match="deeper than"):
            check_path("/".join(["a"] * depth))
    assert time.monotonic() - start < 0.5
    assert check_path("/".join(["a"] * 64))  # the limit itself is fine
