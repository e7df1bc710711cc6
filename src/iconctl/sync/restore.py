"""``iconctl sync restore``: fetch a snapshot straight into the target directory.

Chunks are fetched in parallel, hashed in memory as they arrive and written at their offset
into ``.iconctl-part.<name>`` (a name no manifest can hold); a file is renamed to its final
name once all its chunks have been verified. Nothing is staged, archived or written twice,
so the extra disk is only the part files still in flight. A state file makes a killed
restore resumable (a re-run re-hashes what is on disk and fetches only what is missing), and
a completion marker is written last.
"""

from __future__ import annotations

import contextlib
import errno
import json
import mmap
import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from iconctl.errors import IconctlError, InputError, IntegrityError, from_os_error
from iconctl.files import write_atomic
from iconctl.sync.catalog import SnapshotGone, resolve
from iconctl.sync.manifest import (
    LEGACY_PART_SUFFIX,
    FileEntry,
    Manifest,
    check_snapshot_id,
    chunk_key,
    hash_bytes,
    is_reserved_name,
)
from iconctl.sync.result import SyncResult
from iconctl.sync.store import DEFAULT_WORKERS, NotFound, Store, TooLarge
from iconctl.sync.workers import drain

# iconctl's own names in the target: all reserved (manifest.is_reserved_name), so no manifest
# entry can write, replace or collide with them.
STATE_FILE = ".iconctl-restore.json"
MARKER_FILE = ".iconctl-restore-complete"
MARKER_FORMAT = "iconctl-restore-complete"
PART_PREFIX = ".iconctl-part."
_NAME_MAX = 255


def part_path(final: Path) -> Path:
    """The working file a restore fetches ``final`` into: in the same directory (the rename is
    atomic and costs no extra disk) under a reserved name. Names too long for the prefix get
    a fixed-length one derived from the name."""
    name = final.name
    if len(PART_PREFIX.encode()) + len(name.encode()) > _NAME_MAX:
        name = hash_bytes(name.encode())[:40]
    return final.with_name(PART_PREFIX + name)


# How verified chunks reach the disk (measurements: docs/sync-transfer.md).
# - O_DIRECT where the filesystem takes it: the bytes go from the worker's buffer to the
#   device with no copy into the page cache. Used when the data has to reach the disk during
#   the run anyway: a durable restore (the final syncfs would otherwise write everything
#   after the download instead of during it) and any restore larger than half the available
#   memory (disk-bound; the cache would only be filled and reclaimed again).
#   Direct writes need page-aligned memory (the buffers are anonymous mmaps), offsets and
#   lengths: a chunk's whole pages at an aligned offset go direct, its tail and any chunk at
#   an unaligned offset through the page cache. Those never share a page with a direct
#   write, so the two kinds cannot overwrite each other's data.
# - Otherwise (--no-fsync, fits in memory) through the page cache, in 64 KiB writes: one
#   4 MiB write makes the kernel allocate large page-cache folios, which cost several times
#   more CPU per byte than small ones on the benchmark machine.
O_DIRECT = getattr(os, "O_DIRECT", 0)
DIRECT_ALIGN = 4096
WRITE_PIECE = 64 * 1024


@dataclass
class RestoreResult(SyncResult):
    id: str
    store: str
    data_dir: str
    files: int = 0
    bytes_total: int = 0
    bytes_fetched: int = 0
    bytes_reused: int = 0
    chunks_fetched: int = 0
    resumed: bool = False
    already_complete: bool = False
    restarted_from: str | None = None  # the pruned snapshot an interrupted run was restoring
    duration_seconds: float = 0.0


def _read_json(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_bytes())
        return doc if isinstance(doc, dict) else None
    except (OSError, ValueError):
        return None


def _available_memory() -> int:
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0  # unknown: treat every restore as larger than memory


def _sync_filesystem(path: Path) -> None:
    """syncfs(2) on the target's filesystem (usually the node's own data volume), so the
    restore does not wait for every other filesystem's dirty pages; sync(2) where syncfs is
    not available."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if libc.syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass
    os.sync()


class _Target:
    """Paths inside the target directory, refusing anything that would resolve outside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real = os.path.realpath(root)
        self._checked: set[str] = set()
        self._lock = threading.Lock()

    def ensure_dir(self, rel: str) -> None:
        with self._lock:
            if rel in self._checked or not rel:
                return
            parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
        self.ensure_dir(parent)
        path = self.root / rel
        try:
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
                raise IntegrityError(
                    "is a link or a file in the target where the snapshot has "
                    "a directory; refusing to write through it",
                    path=rel,
                )
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):
                os.mkdir(path, 0o755)
        real = os.path.realpath(path)
        if not (real + os.sep).startswith(self.real + os.sep):
            raise IntegrityError("resolves outside the target directory", path=rel)
        with self._lock:
            self._checked.add(rel)


def _completed_id(data_dir: Path) -> str | None:
    """The snapshot id a completion marker vouches for, or None.

    The marker lives under a reserved name (no manifest entry can write it) and is written
    only after every file was verified. It counts only as a regular file that parses, and
    only when no state file sits next to it: a state file means a restore started in this
    directory after the marker and has not finished (so the marker no longer tells the truth).
    The content itself cannot be re-hashed on each boot: the node changes it once it runs.
    """
    if os.path.lexists(data_dir / STATE_FILE):
        return None
    try:
        st = os.lstat(data_dir / MARKER_FILE)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    marker = _read_json(data_dir / MARKER_FILE)
    if marker is None:
        return None
    try:
        return check_snapshot_id(marker.get("id"))
    except IntegrityError:
        return None


def _check_target(
    data_dir: Path, force: bool, snapshot_id: str | None
) -> tuple[str | None, bool, bool]:
    """(snapshot id to restore, already complete, the id comes from an interrupted run)
    after the non-empty and resume rules."""
    if not force:
        done_id = _completed_id(data_dir)
        if done_id is not None and snapshot_id in (None, done_id):
            return done_id, True, False
    state = _read_json(data_dir / STATE_FILE)
    if (
        state is not None
        and isinstance(state.get("id"), str)
        and (snapshot_id in (None, state["id"]) or force)
    ):
        if snapshot_id is None:
            return state["id"], False, True
        return snapshot_id, False, False
    if not force:
        leftovers = [p.name for p in data_dir.iterdir() if p.name not in (STATE_FILE,)]
        if leftovers:
            raise InputError(
                f"--data-dir {data_dir} is not empty ({len(leftovers)} entries, "
                f"e.g. {sorted(leftovers)[0]!r}); use --force to restore into it"
            )
    return snapshot_id, False, False


def _target_error(data_dir: Path, exc: OSError) -> IconctlError:
    """One line naming the target for a write that failed (full disk, I/O error): the exit
    code of any OSError (errors.from_os_error), the message about this restore."""
    err = from_os_error(exc)
    where = ""
    if exc.filename is not None:
        where = os.path.relpath(os.fsdecode(exc.filename), data_dir) + ": "
    message = f"restore into {data_dir} stopped: {where}{exc.strerror or exc}"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        message += "; free space and run the restore again: it resumes where it stopped"
    err.message = message
    return err


def _remove_stray_parts(data_dir: Path, manifest: Manifest) -> None:
    """Working files of a snapshot that is gone and whose names the new one does not use."""
    wanted = {str(part_path(data_dir / f.path)) for f in manifest.files}
    for dirpath, dirnames, filenames in os.walk(data_dir):
        dirnames[:] = [d for d in dirnames if not is_reserved_name(d)]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if name.startswith(PART_PREFIX) and path not in wanted:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


def restore_snapshot(
    store: Store,
    data_dir: Path,
    snapshot_id: str | None = None,
    *,
    force: bool = False,
    workers: int = DEFAULT_WORKERS,
    durable: bool = True,
    progress: Callable[[int, int], None] | None = None,
    direct_io: bool | None = None,
) -> RestoreResult:
    """Restore ``snapshot_id`` (or the one being resumed, or ``latest``) into ``data_dir``.
    ``direct_io`` None chooses by the rule above; True or False forces it."""
    started = time.monotonic()
    data_dir = data_dir.absolute()
    if data_dir.exists() and not data_dir.is_dir():
        raise InputError(f"--data-dir {data_dir} exists and is not a directory")
    data_dir.mkdir(parents=True, exist_ok=True)

    resume_id, complete, interrupted = _check_target(data_dir, force, snapshot_id)
    if complete:
        result = RestoreResult(
            id=resume_id or "", store=store.url, data_dir=str(data_dir), already_complete=True
        )
        result.duration_seconds = time.monotonic() - started
        return result
    restarted_from = None
    try:
        manifest = resolve(store, resume_id)
    except SnapshotGone:
        if not interrupted:
            raise  # asked for by name: an error, never silently another snapshot
        # pruned while this directory was half restored: start over from latest; what is
        # already on disk and matches is re-verified and kept
        restarted_from = resume_id
        manifest = resolve(store, None)
    result = RestoreResult(
        id=manifest.id,
        store=store.url,
        data_dir=str(data_dir),
        files=len(manifest.files),
        bytes_total=manifest.total_bytes,
        restarted_from=restarted_from,
    )
    try:
        _restore_into(store, data_dir, manifest, result, workers, durable, progress, direct_io)
    except OSError as exc:
        raise _target_error(data_dir, exc) from exc
    result.duration_seconds = time.monotonic() - started
    return result


def _restore_into(
    store: Store,
    data_dir: Path,
    manifest: Manifest,
    result: RestoreResult,
    workers: int,
    durable: bool,
    progress: Callable[[int, int], None] | None,
    direct_io: bool | None,
) -> None:
    previous = _read_json(data_dir / STATE_FILE)
    result.resumed = bool(previous and previous.get("id") == manifest.id)
    (data_dir / MARKER_FILE).unlink(missing_ok=True)
    # durable=False (tests, scratch restores) skips the fsyncs: on ext4 (data=ordered) each one
    # commits every dirty block of the filesystem.
    write_atomic(
        data_dir / STATE_FILE,
        json.dumps(
            {"id": manifest.id, "store": store.url, "started": datetime.now(UTC).isoformat()}
        ).encode(),
        durable=durable,
    )

    target = _Target(data_dir)
    for d in manifest.dirs:
        target.ensure_dir(d)
    for f in manifest.files:
        if "/" in f.path:
            target.ensure_dir(f.path.rsplit("/", 1)[0])

    if result.restarted_from:
        _remove_stray_parts(data_dir, manifest)
    if direct_io is None:
        direct_io = durable or manifest.total_bytes > _available_memory() // 2
    _Fetcher(store, target, manifest, result, workers, progress, direct_io).run()

    if durable:
        _sync_filesystem(data_dir)  # everything on disk before the marker says "complete"
    write_atomic(
        data_dir / MARKER_FILE,
        json.dumps(
            {
                "format": MARKER_FORMAT,
                "id": manifest.id,
                "manifest_blake3": manifest.digest,
                "store": store.url,
                "files": len(manifest.files),
                "bytes": manifest.total_bytes,
                "completed": datetime.now(UTC).isoformat(),
            }
        ).encode(),
        durable=durable,
    )
    (data_dir / STATE_FILE).unlink(missing_ok=True)


class _Fetcher:
    def __init__(
        self,
        store: Store,
        target: _Target,
        manifest: Manifest,
        result: RestoreResult,
        workers: int,
        progress: Callable[[int, int], None] | None,
        direct_io: bool,
    ) -> None:
        self.store = store
        self.target = target
        self.manifest = manifest
        self.result = result
        self.workers = max(1, workers)
        self.progress = progress
        self.lock = threading.Lock()
        self.local = threading.local()
        self.remaining: dict[int, int] = {}
        self.done_bytes = 0
        self.buf_size = max(
            [manifest.chunk_size] + [c.size for f in manifest.files for c in f.chunks]
        )
        # cleared for the rest of the run if the filesystem refuses direct writes
        self.direct = bool(O_DIRECT) and direct_io

    def _buf(self) -> mmap.mmap:
        buf = getattr(self.local, "buf", None)
        if buf is None:
            buf = self.local.buf = mmap.mmap(-1, self.buf_size)  # page-aligned, for O_DIRECT
        return buf

    def _paths(self, f: FileEntry) -> tuple[Path, Path]:
        final = self.target.root / f.path
        return final, part_path(final)

    def _advance(self, n: int) -> None:
        with self.lock:
            self.done_bytes += n
            if self.progress:
                self.progress(self.done_bytes, self.result.bytes_total)

    def _prepare(self, index: int) -> list[tuple[int, int, int]]:
        """Make the part file for one entry; return the (file, chunk index, offset) to fetch."""
        f = self.manifest.files[index]
        final, part = self._paths(f)
        if (
            self.result.resumed
        ):  # started by iconctl 0.x, which named working files <name>.iconctl-part
            with contextlib.suppress(FileNotFoundError, OSError):
                os.unlink(final.with_name(final.name + LEGACY_PART_SUFFIX))
        try:
            st = os.lstat(final)
        except FileNotFoundError:
            st = None
        if st is not None:
            if stat.S_ISDIR(st.st_mode):
                raise IntegrityError(
                    "is a directory in the target where the snapshot has a file", path=f.path
                )
            # An inode with other hard links is shared with a file elsewhere (perhaps outside
            # the target): never chmod, write or repair it in place; the restore makes its
            # own inode instead and only drops this name.
            own = stat.S_ISREG(st.st_mode) and st.st_nlink == 1
            if own and st.st_size == f.size and self._matches(final, f):
                self._finish_meta(final, f)
                with self.lock:
                    self.result.bytes_reused += f.size
                self._advance(f.size)
                return []
            if own and not os.path.lexists(part):
                os.replace(final, part)  # repair it under the part name, never in place
            else:
                os.unlink(final)  # a link, a shared inode or a stale copy: never write to it
        todo: list[tuple[int, int, int]] = []
        have = None
        try:
            pst = os.lstat(part)
            if stat.S_ISREG(pst.st_mode) and pst.st_nlink == 1:
                have = pst.st_size
            else:
                os.unlink(part)
        except FileNotFoundError:
            pass
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(part, flags, 0o600)
        try:
            if os.fstat(fd).st_nlink != 1:  # linked elsewhere between the check and the open
                raise IntegrityError("working file gained another hard link", path=f.path)
            os.ftruncate(fd, f.size)
        finally:
            os.close(fd)
        offset = 0
        reused = 0
        rfd = os.open(part, os.O_RDONLY | os.O_NOFOLLOW) if have else None
        try:
            buf = self._buf()
            for ci, c in enumerate(f.chunks):
                if rfd is not None and have is not None and offset + c.size <= have:
                    view = memoryview(buf)[: c.size]
                    if os.preadv(rfd, [view], offset) == c.size and hash_bytes(view) == c.digest:
                        reused += c.size
                        offset += c.size
                        continue
                todo.append((index, ci, offset))
                offset += c.size
        finally:
            if rfd is not None:
                os.close(rfd)
        if reused:
            with self.lock:
                self.result.bytes_reused += reused
            self._advance(reused)
        if not todo:
            self._complete(index)
        return todo

    def _matches(self, path: Path, f: FileEntry) -> bool:
        buf = self._buf()
        offset = 0
        with open(path, "rb", buffering=0) as fh:
            for c in f.chunks:
                view = memoryview(buf)[: c.size]
                if os.preadv(fh.fileno(), [view], offset) != c.size:
                    return False
                if hash_bytes(view) != c.digest:
                    return False
                offset += c.size
        return True

    def _finish_meta(self, path: Path, f: FileEntry) -> None:
        os.chmod(path, f.mode & 0o777, follow_symlinks=False)
        if f.mtime_ns:
            os.utime(path, ns=(f.mtime_ns, f.mtime_ns), follow_symlinks=False)

    def _complete(self, index: int) -> None:
        f = self.manifest.files[index]
        final, part = self._paths(f)
        self._finish_meta(part, f)
        os.replace(part, final)

    def _fetch(self, task: tuple[int, int, int]) -> None:
        index, ci, offset = task
        f = self.manifest.files[index]
        c = f.chunks[ci]
        try:
            view = self.store.get_into(chunk_key(c.digest), self._buf())
        except NotFound:
            raise IntegrityError(
                f"chunk {c.digest} is missing from the store", path=f.path
            ) from None
        except TooLarge as exc:
            raise IntegrityError(
                f"chunk {c.digest} has {exc.size} bytes, expected {c.size}", path=f.path
            ) from None
        if len(view) != c.size:
            raise IntegrityError(
                f"chunk {c.digest} has {len(view)} bytes, expected {c.size}", path=f.path
            )
        if hash_bytes(view) != c.digest:
            raise IntegrityError(
                f"chunk {c.digest} at offset {offset} does not match its hash", path=f.path
            )
        _, part = self._paths(f)
        try:
            self._write(part, view, offset)
        except OSError as exc:
            if exc.filename is None:
                exc.filename = str(self.target.root / f.path)  # so the error names the file
            raise
        with self.lock:
            self.result.bytes_fetched += c.size
            self.result.chunks_fetched += 1
            self.remaining[index] -= 1
            last = self.remaining[index] == 0
        self._advance(c.size)
        if last:
            self._complete(index)

    def _write(self, part: Path, view: memoryview, offset: int) -> None:
        """Write a verified chunk at its offset: whole pages direct, the rest buffered."""
        direct = 0
        if self.direct and offset % DIRECT_ALIGN == 0:
            direct = len(view) - len(view) % DIRECT_ALIGN
        if direct:
            try:
                fd = os.open(part, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC | O_DIRECT)
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
                self.direct, direct = False, 0  # no direct I/O here (tmpfs, some FUSE)
            else:
                try:
                    _pwrite_all(fd, view[:direct], offset)
                except OSError as exc:
                    if exc.errno != errno.EINVAL:
                        raise
                    self.direct, direct = False, 0  # alignment refused: buffered from now on
                finally:
                    os.close(fd)
        if direct < len(view):
            fd = os.open(part, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                _pwrite_all(fd, view[direct:], offset + direct, WRITE_PIECE)
            finally:
                os.close(fd)

    def run(self) -> None:
        n = len(self.manifest.files)
        plans: list[list[tuple[int, int, int]]] = [[] for _ in range(n)]

        def prepare(index: int) -> None:
            plans[index] = self._prepare(index)

        drain(range(n), prepare, workers=self.workers, name="sync-prepare")
        for index, todo in enumerate(plans):
            if todo:
                self.remaining[index] = len(todo)

        def tasks():
            for index in range(n):
                todo, plans[index] = plans[index], []
                yield from todo

        drain(tasks(), self._fetch, workers=self.workers, name="sync-get")


def _pwrite_all(fd: int, view: memoryview, offset: int, piece: int = 0) -> None:
    size = len(view)
    step = piece or size
    written = 0
    while written < size:
        written += os.pwrite(fd, view[written : written + step], offset + written)
