"""Fast sync: incremental, content-addressed snapshots of a node's data directory and a
parallel, verifying, resumable restore. See docs/sync-format.md.

The functions here are what the CLI calls: each opens the store, runs one operation with a
progress bar on stderr (when it is a terminal), writes the metrics textfile if asked, and
returns a typed result. Their names differ from this package's modules (``snapshot``,
``restore``, ...): a function named like a submodule is replaced by that module as soon as
the submodule is imported, and the next call fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from iconctl.errors import IconctlError
from iconctl.sync.store import DEFAULT_WORKERS

if TYPE_CHECKING:
    from iconctl.sync.catalog import PruneResult, SnapshotInfo, VerifyResult
    from iconctl.sync.restore import RestoreResult
    from iconctl.sync.snapshot import SnapshotResult
    from iconctl.sync.store import Store

__all__ = ["list_store", "prune_store", "restore_into", "take_snapshot", "verify_store"]


@contextmanager
def _progress(label: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:  # --json: not even rich is imported (start-up time counts for restores)
        yield None
        return
    from iconctl.console import real

    err = real(stderr=True)  # the rich Console itself: Progress needs the real object
    if not err.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@dataclass
class _Transfer:
    """What an operation moved, for its metrics; set once it completed (0 when it failed)."""

    bytes: int = 0


@contextmanager
def _metrics(path: Path | None, operation: str) -> Iterator[_Transfer]:
    from iconctl.sync.metrics import write_metrics

    start = time.monotonic()
    transfer = _Transfer()

    def write(ok: bool) -> None:
        if path is not None:
            write_metrics(
                path,
                operation,
                ok=ok,
                duration=time.monotonic() - start,
                bytes_transferred=transfer.bytes,
            )

    try:
        yield transfer
    except (IconctlError, OSError, KeyboardInterrupt):
        write(False)
        raise
    write(True)


def _open(store_url: str, workers: int | None, timeout: float | None) -> tuple[Store, int]:
    """The store, and the parallel transfers to use: as given, else the store's default."""
    from iconctl.sync.store import open_store

    store = open_store(store_url, workers=workers or DEFAULT_WORKERS, timeout=timeout)
    return store, workers or store.default_workers


def take_snapshot(
    data_dir: Path,
    store_url: str,
    *,
    admin_url: str | None = None,
    chain: str | None = None,
    stop_cmd: str | None = None,
    start_cmd: str | None = None,
    workers: int | None = None,
    lock_wait: float = 0.0,
    metrics_file: Path | None = None,
    show_progress: bool = True,
    timeout: float | None = None,
) -> SnapshotResult:
    from iconctl.sync.quiesce import make_quiescer
    from iconctl.sync.snapshot import create_snapshot

    with _metrics(metrics_file, "snapshot") as transfer:
        quiescer = make_quiescer(admin_url, chain, stop_cmd, start_cmd)
        store, workers = _open(store_url, workers, timeout)
        with _progress("snapshot", show_progress) as progress:
            result = create_snapshot(
                data_dir, store, quiescer, workers=workers, lock_wait=lock_wait, progress=progress
            )
        transfer.bytes = result.bytes_uploaded
    return result


def restore_into(
    store_url: str,
    data_dir: Path,
    *,
    snapshot_id: str | None = None,
    force: bool = False,
    workers: int | None = None,
    durable: bool = True,
    metrics_file: Path | None = None,
    show_progress: bool = True,
    timeout: float | None = None,
) -> RestoreResult:
    from iconctl.sync.restore import restore_snapshot

    with _metrics(metrics_file, "restore") as transfer:
        store, workers = _open(store_url, workers, timeout)
        with _progress("restore", show_progress) as progress:
            result = restore_snapshot(
                store,
                data_dir,
                snapshot_id,
                force=force,
                workers=workers,
                durable=durable,
                progress=progress,
            )
        transfer.bytes = result.bytes_fetched
    return result


def list_store(store_url: str, *, timeout: float | None = None) -> list[SnapshotInfo]:
    from iconctl.sync.catalog import list_snapshots
    from iconctl.sync.store import open_store

    return list_snapshots(open_store(store_url, timeout=timeout))


def verify_store(
    store_url: str,
    snapshot_id: str | None,
    *,
    workers: int | None = None,
    show_progress: bool = True,
    timeout: float | None = None,
) -> VerifyResult:
    """Re-hash every chunk of a snapshot; the result lists what is wrong (``check()`` raises)."""
    from iconctl.sync.catalog import verify_snapshot

    store, workers = _open(store_url, workers, timeout)
    with _progress("verify", show_progress) as progress:
        return verify_snapshot(store, snapshot_id, workers=workers, progress=progress)


def prune_store(
    store_url: str, keep: int, *, min_age: float = 3600.0, timeout: float | None = None
) -> PruneResult:
    from iconctl.sync.catalog import prune
    from iconctl.sync.store import open_store

    return prune(open_store(store_url, timeout=timeout), keep, grace=min_age)
