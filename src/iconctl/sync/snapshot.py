"""``iconctl sync snapshot``: checkpoint the data directory, upload what the store lacks,
publish the manifest, then move ``latest``.

The node is paused only while the checkpoint is built: immutable table files are hard-linked
(no data copied), the few mutable files (write-ahead logs, MANIFEST, CURRENT) are copied.
Everything after that (hashing, uploading) reads the checkpoint while the node runs again.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import shutil
import socket
import stat
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from iconctl.errors import InputError, IntegrityError
from iconctl.sync.catalog import load_latest
from iconctl.sync.lock import StoreLock
from iconctl.sync.manifest import (
    CHUNK_SIZE,
    LATEST_KEY,
    Chunk,
    FileEntry,
    Manifest,
    chunk_key,
    encode_latest,
    hash_bytes,
    manifest_key,
    new_snapshot_id,
)
from iconctl.sync.quiesce import NoQuiesce, Quiescer
from iconctl.sync.store import DEFAULT_WORKERS, Store

CHECKPOINT_DIR = ".iconctl-checkpoint"
# Not chain data (ICON.md): sockets are skipped anyway; keys, runtime config, temp files and
# iconctl's own markers are excluded by name.
DEFAULT_EXCLUDES = ("auth.json", "rconfig.json", "*.sock", "*.tmp", ".iconctl-*")
# Files a LevelDB/RocksDB never changes once written: safe to hard-link into the checkpoint.
IMMUTABLE_SUFFIXES = (".ldb", ".sst", ".blob")


@dataclass
class SnapshotResult:
    id: str
    store: str
    files: int = 0
    dirs: int = 0
    bytes_scanned: int = 0
    bytes_hashed: int = 0
    bytes_uploaded: int = 0
    chunks: int = 0
    chunks_uploaded: int = 0
    files_linked: int = 0
    files_copied: int = 0
    pause_seconds: float = 0.0
    duration_seconds: float = 0.0
    quiesce: str = "none"
    base: str | None = None
    skipped: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _excluded(rel: str, name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(rel, p) for p in patterns)


def _scan(
    root: Path, excludes: tuple[str, ...], skipped: list[str]
) -> tuple[list[str], list[tuple[str, os.stat_result]]]:
    """Directories and regular files under root (relative '/' paths), sorted."""
    dirs: list[str] = []
    files: list[tuple[str, os.stat_result]] = []

    def walk(abs_dir: str, rel_dir: str) -> None:
        with os.scandir(abs_dir) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if _excluded(rel, entry.name, excludes):
                continue
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                dirs.append(rel)
                walk(entry.path, rel)
            elif stat.S_ISREG(st.st_mode):
                files.append((rel, st))
            else:
                skipped.append(rel)  # symlinks, sockets, fifos: never chain data

    walk(str(root), "")
    return dirs, files


def _build_checkpoint(
    src: Path,
    dst: Path,
    dirs: list[str],
    files: list[tuple[str, os.stat_result]],
    result: SnapshotResult,
) -> None:
    dst.mkdir(mode=0o700)
    for rel in dirs:
        os.mkdir(dst / rel)
    can_link = True
    for rel, _st in files:
        s, d = src / rel, dst / rel
        if can_link and rel.endswith(IMMUTABLE_SUFFIXES):
            try:
                os.link(s, d)
                result.files_linked += 1
                continue
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
                can_link = False
        shutil.copy2(s, d)
        result.files_copied += 1


def _chunk_file(
    path: Path,
    size: int,
    base: FileEntry | None,
    chunk_size: int,
    visit: Callable[[memoryview, str], None],
    buf: bytearray,
) -> tuple[list[Chunk], int]:
    """Chunk a file, keeping the longest prefix of the base entry's chunks that still matches
    (so a file that grew by appending uploads only its new bytes). Returns chunks, bytes hashed.
    """
    chunks: list[Chunk] = []
    hashed = 0
    offset = 0
    with open(path, "rb", buffering=0) as f:
        fd = f.fileno()

        def read(n: int) -> memoryview:
            view = memoryview(buf)[:n]
            got = 0
            while got < n:
                k = os.preadv(fd, [view[got:]], offset + got)
                if k == 0:
                    raise IntegrityError("file shrank while being read", path=str(path))
                got += k
            return view

        if base is not None:
            for c in base.chunks:
                if offset + c.size > size:
                    break
                view = read(c.size)
                digest = hash_bytes(view)
                hashed += c.size
                if digest != c.digest:
                    visit(view, digest)
                    chunks.append(Chunk(c.size, digest))
                    offset += c.size
                    break
                chunks.append(c)
                offset += c.size
        while offset < size:
            n = min(chunk_size, size - offset)
            view = read(n)
            digest = hash_bytes(view)
            hashed += n
            visit(view, digest)
            chunks.append(Chunk(n, digest))
            offset += n
    return chunks, hashed


def create_snapshot(
    data_dir: Path,
    store: Store,
    quiescer: Quiescer | None = None,
    *,
    workers: int = DEFAULT_WORKERS,
    chunk_size: int = CHUNK_SIZE,
    excludes: tuple[str, ...] = DEFAULT_EXCLUDES,
    lock_wait: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
) -> SnapshotResult:
    started = time.monotonic()
    quiescer = quiescer or NoQuiesce()
    data_dir = data_dir.absolute()
    if not data_dir.is_dir():
        raise InputError(f"--data-dir {data_dir} is not a directory")
    if store.read_only:
        raise InputError(
            f"{store.url} is read-only; snapshots need an s3://, gs:// or file:// store"
        )
    now = datetime.now(UTC)
    result = SnapshotResult(id=new_snapshot_id(now), store=store.url, quiesce=quiescer.describe)
    lock = StoreLock(store, "snapshot")
    lock.acquire(wait=lock_wait)
    checkpoint = data_dir / CHECKPOINT_DIR
    try:
        base = load_latest(store, strict=False)
        result.base = base.id if base else None
        base_files = {f.path: f for f in base.files} if base else {}
        known: set[str] = base.digests() if base else set()
        known_lock = threading.Lock()

        if checkpoint.exists():
            shutil.rmtree(checkpoint)  # left by a run that was killed
        # Pause, checkpoint, resume. The scan happens inside the pause so the file list and
        # the checkpoint describe the same instant.
        quiescer.stop()
        pause_start = time.monotonic()
        try:
            dirs, files = _scan(data_dir, excludes, result.skipped)
            try:
                _build_checkpoint(data_dir, checkpoint, dirs, files, result)
                source = checkpoint
            except OSError as exc:
                shutil.rmtree(checkpoint, ignore_errors=True)
                if not isinstance(quiescer, NoQuiesce):
                    raise InputError(
                        f"cannot build the checkpoint in {checkpoint}: {exc.strerror or exc}"
                    ) from None
                source = data_dir  # a stopped, read-only directory: read it in place
        finally:
            result.pause_seconds = time.monotonic() - pause_start
            quiescer.start()

        result.files = len(files)
        result.dirs = len(dirs)
        result.bytes_scanned = sum(st.st_size for _, st in files)
        total = result.bytes_scanned
        done = 0
        done_lock = threading.Lock()
        local = threading.local()

        def upload(view: memoryview, digest: str) -> None:
            with known_lock:
                if digest in known:
                    return
                known.add(digest)
            key = chunk_key(digest)
            if store.exists(key):
                return
            store.put(key, bytes(view))
            with known_lock:
                result.bytes_uploaded += len(view)
                result.chunks_uploaded += 1

        def one(item: tuple[str, os.stat_result]) -> FileEntry:
            nonlocal done
            rel, st = item
            prev = base_files.get(rel)
            if prev is not None and prev.size == st.st_size and prev.mtime_ns == st.st_mtime_ns:
                chunks = prev.chunks  # unchanged since the base snapshot (size and mtime)
            else:
                buf = getattr(local, "buf", None)
                if buf is None:
                    buf = local.buf = bytearray(chunk_size)
                if prev is not None and prev.chunks and max(c.size for c in prev.chunks) > len(buf):
                    buf.extend(bytes(max(c.size for c in prev.chunks) - len(buf)))
                chunks, hashed = _chunk_file(
                    source / rel, st.st_size, prev, chunk_size, upload, buf
                )
                with done_lock:
                    result.bytes_hashed += hashed
            with done_lock:
                done += st.st_size
                if progress:
                    progress(done, total)
            return FileEntry(rel, st.st_size, stat.S_IMODE(st.st_mode), st.st_mtime_ns, chunks)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync-up") as pool:
            entries = list(pool.map(one, files))
        result.chunks = sum(len(e.chunks) for e in entries)

        created = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        manifest = Manifest(
            id=result.id,
            created=created,
            chunk_size=chunk_size,
            dirs=dirs,
            files=entries,
            source={"host": socket.gethostname(), "base": result.base},
        )
        body = manifest.encode()
        if not lock.still_held():
            raise IntegrityError(
                "refused to publish: the store lock was taken over while this "
                "snapshot ran (it stalled past the lock's expiry)"
            )
        store.put(manifest_key(result.id), body)
        store.put(LATEST_KEY, encode_latest(result.id, body, created))
    finally:
        lock.release()
        if checkpoint.exists():
            shutil.rmtree(checkpoint, ignore_errors=True)
    result.duration_seconds = time.monotonic() - started
    return result
