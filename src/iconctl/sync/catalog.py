"""Reading what a store holds: ``latest``, manifests, and ``sync list | verify | prune``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from iconctl.errors import InputError, IntegrityError
from iconctl.sync.lock import StoreLock, read_lock
from iconctl.sync.manifest import (
    CHUNKS_PREFIX,
    LATEST_KEY,
    MAX_MANIFEST_BYTES,
    SMALL_OBJECT_LIMIT,
    SNAPSHOTS_PREFIX,
    Manifest,
    check_snapshot_id,
    chunk_key,
    hash_bytes,
    manifest_key,
    parse_latest,
    parse_manifest,
)
from iconctl.sync.result import SyncResult
from iconctl.sync.store import DEFAULT_WORKERS, NotFound, Store, TooLarge
from iconctl.sync.workers import drain


class SnapshotGone(IntegrityError):
    """The store holds no manifest under this id (never published, or pruned)."""

    def __init__(self, snapshot_id: str, store_url: str) -> None:
        self.snapshot_id = snapshot_id
        super().__init__(f"snapshot {snapshot_id} not found in {store_url}")


def load_manifest(
    store: Store, snapshot_id: str, expect_hash: str | None = None, *, keep: str = "files"
) -> Manifest:
    """The manifest of a snapshot, checked (manifest.parse_manifest; ``keep`` as there)."""
    check_snapshot_id(snapshot_id)
    try:
        raw = store.get(manifest_key(snapshot_id), limit=MAX_MANIFEST_BYTES)
    except NotFound:
        raise SnapshotGone(snapshot_id, store.url) from None
    except TooLarge as exc:
        raise IntegrityError(
            f"manifest of snapshot {snapshot_id} has {exc.size}+ bytes, more than the "
            f"{MAX_MANIFEST_BYTES >> 20} MiB limit"
        ) from None
    digest = hash_bytes(raw)
    if expect_hash is not None and digest != expect_hash:
        raise IntegrityError(
            f"manifest of snapshot {snapshot_id} does not match the hash recorded in latest"
        )
    manifest = parse_manifest(raw, expect_id=snapshot_id, keep=keep)
    manifest.digest = digest
    return manifest


def latest_id(store: Store) -> tuple[str, str] | None:
    try:
        raw = store.get(LATEST_KEY, limit=SMALL_OBJECT_LIMIT)
    except NotFound:
        return None
    except TooLarge:
        raise IntegrityError(
            f"the store's latest pointer is larger than {SMALL_OBJECT_LIMIT} bytes"
        ) from None
    return parse_latest(raw)


def load_latest(store: Store, *, strict: bool = True, keep: str = "files") -> Manifest | None:
    """The manifest ``latest`` points to; None for an empty store. With strict=False a broken
    pointer or manifest counts as no base (a snapshot then uploads everything it needs)."""
    try:
        pointer = latest_id(store)
        if pointer is None:
            return None
        return load_manifest(store, pointer[0], pointer[1], keep=keep)
    except IntegrityError:
        if strict:
            raise
        return None


def resolve(store: Store, snapshot_id: str | None, *, keep: str = "files") -> Manifest:
    """The manifest to restore or verify: the named snapshot, else ``latest``."""
    if snapshot_id:
        return load_manifest(store, snapshot_id, keep=keep)
    manifest = load_latest(store, keep=keep)
    if manifest is None:
        raise IntegrityError(f"no snapshot in {store.url} (no latest pointer)")
    return manifest


def snapshot_ids(store: Store) -> list[str]:
    ids = []
    for info in store.list(SNAPSHOTS_PREFIX):
        name = info.key[len(SNAPSHOTS_PREFIX) :]
        if name.endswith(".json"):
            try:
                ids.append(check_snapshot_id(name[:-5]))
            except IntegrityError:
                continue
    return sorted(ids)


@dataclass(frozen=True)
class SnapshotInfo(SyncResult):
    """One row of `sync list`: a snapshot, whether ``latest`` points at it, and its totals
    (None, with the reason in ``error``, when its manifest is refused)."""

    id: str
    latest: bool
    created: str
    files: int | None
    bytes: int | None
    valid: bool
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        row = super().to_json()
        if self.valid:
            del row["error"]  # the documented shape: "error" only on an invalid snapshot
        return row


def list_snapshots(store: Store) -> list[SnapshotInfo]:
    pointer = latest_id(store) if not store.read_only else None
    rows = []
    for sid in snapshot_ids(store):
        latest = bool(pointer and pointer[0] == sid)
        try:
            m = load_manifest(store, sid, keep="totals")
            row = SnapshotInfo(sid, latest, m.created, m.total_files, m.total_bytes, valid=True)
        except IntegrityError as exc:
            row = SnapshotInfo(
                sid, latest, _created_from_id(sid), None, None, valid=False, error=exc.message
            )
        rows.append(row)
    return rows


def _created_from_id(sid: str) -> str:
    d, t = sid[:8], sid[9:19]
    return f"{d[:4]}-{d[4:6]}-{d[6:]}T{t[:2]}:{t[2:4]}:{t[4:]}Z"


@dataclass
class VerifyResult(SyncResult):
    id: str
    files: int = 0
    chunks: int = 0
    bytes_verified: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {**super().to_json(), "ok": self.ok}

    def check(self) -> None:
        """Raise IntegrityError (exit 6) naming the first problems, when there are any."""
        if self.ok:
            return
        shown = self.problems[:20]
        more = len(self.problems) - len(shown)
        raise IntegrityError(
            f"snapshot {self.id} failed verification ({len(self.problems)} problems): "
            + "; ".join(shown)
            + (f"; and {more} more" if more else "")
        )


def verify_snapshot(
    store: Store,
    snapshot_id: str | None,
    *,
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyResult:
    """Re-hash every chunk a snapshot references; IntegrityError lists what is wrong."""
    manifest = resolve(store, snapshot_id, keep="chunks")
    result = VerifyResult(manifest.id, files=manifest.total_files)
    sizes = manifest.chunk_sizes or {}
    result.chunks = len(sizes)
    total = sum(sizes.values())
    buf_size = max([manifest.chunk_size, *sizes.values()])
    lock = threading.Lock()
    local = threading.local()

    def check(item: tuple[str, int]) -> None:
        digest, size = item
        buf = getattr(local, "buf", None)
        if buf is None:
            buf = local.buf = bytearray(buf_size)
        try:
            view = store.get_into(chunk_key(digest), buf)
        except NotFound:
            problem = f"missing chunk {digest}"
        except TooLarge as exc:
            problem = f"chunk {digest} has {exc.size} bytes, expected {size}"
        else:
            if len(view) != size:
                problem = f"chunk {digest} has {len(view)} bytes, expected {size}"
            elif hash_bytes(view) != digest:
                problem = f"chunk {digest} does not match its hash"
            else:
                problem = ""
        with lock:
            if problem:
                result.problems.append(problem)
            else:
                result.bytes_verified += size
            if progress:
                progress(result.bytes_verified, total)

    drain(sorted(sizes.items()), check, workers=workers, name="sync-verify")
    sizes.clear()
    result.problems.sort()
    return result


@dataclass
class PruneResult(SyncResult):
    kept: list[str]
    deleted: list[str]
    chunks_deleted: int = 0
    bytes_freed: int = 0
    chunks_deferred: bool = False


# Chunks younger than this are never collected: a snapshot that lost its lock, or a store
# whose conditional writes are not atomic, may still be about to reference them.
CHUNK_GRACE_SECONDS = 3600.0


def prune(store: Store, keep: int, *, grace: float = CHUNK_GRACE_SECONDS) -> PruneResult:
    """Delete all but the ``keep`` newest snapshots (never ``latest``), then the chunks no kept
    snapshot references. While a snapshot holds the store lock only manifests are deleted; the
    chunks are collected by a later prune."""
    if keep < 1:
        raise InputError("--keep must be at least 1")
    if store.read_only:
        raise InputError(f"{store.url} is read-only")
    ids = snapshot_ids(store)
    pointer = latest_id(store)
    kept = ids[-keep:]
    if pointer and pointer[0] not in kept and pointer[0] in ids:
        kept.append(pointer[0])
    deleted = [i for i in ids if i not in kept]
    result = PruneResult(kept=sorted(kept), deleted=deleted)
    for sid in deleted:
        store.delete(manifest_key(sid))

    lock = StoreLock(store, "prune")
    try:
        lock.acquire(wait=0)
    except IntegrityError:
        info = read_lock(store)
        # Held by a live snapshot, or released between our attempt and this read: either way
        # a snapshot was running just now, so chunk collection waits for a later prune.
        if info is None or not info.stale:
            result.chunks_deferred = True
            return result
        raise
    try:
        referenced: set[str] = set()
        for sid in snapshot_ids(store):  # re-read: count anything published meanwhile
            referenced |= load_manifest(store, sid, keep="chunks").digests()
        cutoff = time.time() - grace
        for chunk in store.list(CHUNKS_PREFIX):
            digest = chunk.key.rsplit("/", 1)[-1]
            if digest in referenced or chunk.modified > cutoff:
                continue
            store.delete(chunk.key)
            result.chunks_deleted += 1
            result.bytes_freed += chunk.size
    finally:
        lock.release()
    return result
