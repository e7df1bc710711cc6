"""``iconctl sync snapshot``: checkpoint the data directory, upload what the store lacks,
publish the manifest, then move ``latest``.

The node is paused only while the checkpoint is built: immutable table files are hard-linked
(no data copied), the few mutable files (write-ahead logs, MANIFEST, CURRENT) are copied.
Everything after that (hashing, uploading) reads the checkpoint while the node runs again.
"""

from __future__ import annotations

import errno
import fnmatch
import functools
import os
import re
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
    is_reserved_name,
    manifest_key,
    new_snapshot_id,
)
from iconctl.sync.quiesce import NoQuiesce, Quiescer
from iconctl.sync.result import SyncResult
from iconctl.sync.store import DEFAULT_WORKERS, Store

CHECKPOINT_DIR = ".iconctl-checkpoint"
# Not chain data (ICON.md): sockets are skipped anyway; keys, runtime config and temp files
# are excluded by name. iconctl's own files (manifest.is_reserved_name) are always left out,
# whatever the excludes.
DEFAULT_EXCLUDES = ("auth.json", "rconfig.json", "*.sock", "*.tmp")
# Files a LevelDB/RocksDB never changes once written: safe to hard-link into the checkpoint.
IMMUTABLE_SUFFIXES = (".ldb", ".sst", ".blob")


@dataclass
class SnapshotResult(SyncResult):
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


@functools.lru_cache(maxsize=16)
def _exclude_re(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def _excluded(rel: str, name: str, patterns: tuple[str, ...]) -> bool:
    """A pattern matches either the file name or the whole relative path."""
    rx = _exclude_re(patterns)
    return rx is not None and (rx.match(name) is not None or rx.match(rel) is not None)


def _names(
    root: Path, excludes: tuple[str, ...], skipped: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """Directories and regular files under root (relative '/' paths, sorted, parents first),
    read from directory entries only: no stat per file, so it stays fast inside the pause."""
    dirs: list[str] = []
    files: list[str] = []

    def walk(abs_dir: str, rel_dir: str) -> None:
        with os.scandir(abs_dir) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if is_reserved_name(entry.name) or _excluded(rel, entry.name, excludes):
                continue  # iconctl's own files (checkpoint, restore markers, working files)
            if entry.is_dir(follow_symlinks=False):
                dirs.append(rel)
                walk(entry.path, rel)
            elif entry.is_file(follow_symlinks=False):
                files.append(rel)
            elif skipped is not None:
                skipped.append(rel)  # symlinks, sockets, fifos: never chain data

    walk(str(root), "")
    return dirs, files


_NO_LINK = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP)


class _Checkpoint:
    """A hard-link checkpoint built in two steps: immutable tables are linked while the node
    still runs (they never change, and linking them is most of the work), then, inside the
    pause, the directory is listed again: tables that appeared are linked, tables compacted
    away are unlinked, and the few mutable files are copied."""

    def __init__(
        self, src: Path, dst: Path, excludes: tuple[str, ...], result: SnapshotResult
    ) -> None:
        self.src = src
        self.dst = dst
        self.excludes = excludes
        self.result = result
        self.linked: set[str] = set()
        self.dirs: set[str] = set()
        self.can_link = True

    def _link(self, rel: str) -> bool:
        if not self.can_link:
            return False
        try:
            os.link(f"{self.src}/{rel}", f"{self.dst}/{rel}")
            return True
        except FileNotFoundError:
            return False  # compacted away meanwhile (only possible before the pause)
        except OSError as exc:
            if exc.errno not in _NO_LINK:
                raise
            self.can_link = False
            return False

    def _mkdirs(self, dirs: list[str]) -> None:
        for rel in dirs:
            if rel not in self.dirs:
                os.makedirs(self.dst / rel, exist_ok=True)
                self.dirs.add(rel)

    def prelink(self) -> None:
        self.dst.mkdir(mode=0o700)
        dirs, files = _names(self.src, self.excludes)
        self._mkdirs(dirs)
        for rel in files:
            if rel.endswith(IMMUTABLE_SUFFIXES) and self._link(rel):
                self.linked.add(rel)

    def finish(self) -> tuple[list[str], list[str]]:
        """Inside the pause: make the checkpoint equal to the source at this instant."""
        dirs, files = _names(self.src, self.excludes, self.result.skipped)
        self._mkdirs(dirs)
        present = set(files)
        for rel in self.linked - present:
            (self.dst / rel).unlink()
        for rel in sorted(self.dirs - set(dirs), reverse=True):
            shutil.rmtree(self.dst / rel, ignore_errors=True)
        self.dirs &= set(dirs)
        for rel in files:
            if rel in self.linked:
                continue
            if rel.endswith(IMMUTABLE_SUFFIXES) and self._link(rel):
                self.linked.add(rel)
                continue
            shutil.copy2(self.src / rel, self.dst / rel)  # mutable: a copy frozen now
            self.result.files_copied += 1
        self.linked &= present
        self.result.files_linked = len(self.linked)
        return dirs, files


def _stat_all(root: Path, files: list[str]) -> list[tuple[str, os.stat_result]]:
    base = str(root)
    return [(rel, os.lstat(f"{base}/{rel}")) for rel in files]


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
        cp = _Checkpoint(data_dir, checkpoint, excludes, result)
        try:
            cp.prelink()
            source = checkpoint
        except OSError as exc:
            shutil.rmtree(checkpoint, ignore_errors=True)
            if not isinstance(quiescer, NoQuiesce):
                raise InputError(
                    f"cannot build the checkpoint in {checkpoint}: {exc.strerror or exc}"
                ) from None
            source = data_dir  # a stopped, read-only directory: read it in place
        # Pause, finish the checkpoint, resume. Only directory listings, a few links and the
        # copies of the mutable files happen while the node is stopped.
        quiescer.stop()
        pause_start = time.monotonic()
        try:
            if source == checkpoint:
                dirs, names = cp.finish()
            else:
                dirs, names = _names(data_dir, excludes, result.skipped)
        finally:
            result.pause_seconds = time.monotonic() - pause_start
            quiescer.start()
        files = _stat_all(source, names)

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
            buf = getattr(local, "buf", None)
            if buf is None:
                buf = local.buf = bytearray(chunk_size)
            if prev is not None and prev.chunks and max(c.size for c in prev.chunks) > len(buf):
                buf.extend(bytes(max(c.size for c in prev.chunks) - len(buf)))
            chunks, hashed = _chunk_file(source / rel, st.st_size, prev, chunk_size, upload, buf)
            with done_lock:
                result.bytes_hashed += hashed
                done += st.st_size
                if progress:
                    progress(done, total)
            return FileEntry(rel, st.st_size, stat.S_IMODE(st.st_mode), st.st_mtime_ns, chunks)

        # Files unchanged since the base snapshot (same size and mtime) keep its chunks
        # without being read; only the others go to the hashing and upload pool.
        entries: list[FileEntry | None] = []
        changed: list[tuple[int, tuple[str, os.stat_result]]] = []
        for item in files:
            rel, st = item
            prev = base_files.get(rel)
            if prev is not None and prev.size == st.st_size and prev.mtime_ns == st.st_mtime_ns:
                entries.append(
                    FileEntry(
                        rel, st.st_size, stat.S_IMODE(st.st_mode), st.st_mtime_ns, prev.chunks
                    )
                )
                done += st.st_size
            else:
                changed.append((len(entries), item))
                entries.append(None)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync-up") as pool:
            for (index, _), entry in zip(
                changed, pool.map(one, [c[1] for c in changed]), strict=True
            ):
                entries[index] = entry
        result.chunks = sum(len(e.chunks) for e in entries if e is not None)

        created = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        manifest = Manifest(
            id=result.id,
            created=created,
            chunk_size=chunk_size,
            dirs=dirs,
            files=[e for e in entries if e is not None],
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
