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
from pathlib import Path
from typing import TYPE_CHECKING

from iconctl.errors import IconctlError
from iconctl.sync.store import DEFAULT_WORKERS

if TYPE_CHECKING:
    from iconctl.sync.catalog import PruneResult, SnapshotInfo, VerifyResult
    from iconctl.sync.restore import RestoreResult
    from iconctl.sync.snapshot import SnapshotResult

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


@contextmanager
def _metrics(path: Path | None, operation: str, transferred: Callable[[], int]) -> Iterator[None]:
    from iconctl.sync.metrics import write_metrics

    start = time.monotonic()
    try:
        yield
    except (IconctlError, OSError, KeyboardInterrupt):
        if path is not None:
            write_metrics(
                path,
                operation,
                ok=False,
                duration=time.monotonic() - start,
                bytes_transferred=transferred(),
            )
        raise
    if path is not None:
        write_metrics(
            path,
            operation,
            ok=True,
            duration=time.monotonic() - start,
            bytes_transferred=transferred(),
        )


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
    from iconctl.sync.store import open_store

    holder: dict[str, SnapshotResult] = {}
    with _metrics(
        metrics_file, "snapshot", lambda: holder["r"].bytes_uploaded if "r" in holder else 0
    ):
        quiescer = make_quiescer(admin_url, chain, stop_cmd, start_cmd)
        store = open_store(store_url, workers=workers or DEFAULT_WORKERS, timeout=timeout)
        workers = workers or store.default_workers
        with _progress("snapshot", show_progress) as progress:
            holder["r"] = create_snapshot(
                data_dir, store, quiescer, workers=workers, lock_wait=lock_wait, progress=progress
            )
    return holder["r"]


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
    from iconctl.sync.store import open_store

    holder: dict[str, RestoreResult] = {}
    with _metrics(
        metrics_file, "restore", lambda: holder["r"].bytes_fetched if "r" in holder else 0
    ):
        store = open_store(store_url, workers=workers or DEFAULT_WORKERS, timeout=timeout)
        workers = workers or store.default_workers
        with _progress("restore", show_progress) as progress:
            holder["r"] = restore_snapshot(
                store,
                data_dir,
                snapshot_id,
                force=force,
                workers=workers,
                durable=durable,
                progress=progress,
            )
    return holder["r"]


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
    from iconctl.sync.store import open_store

    store = open_store(store_url, workers=workers or DEFAULT_WORKERS, timeout=timeout)
    workers = workers or store.default_workers
    with _progress("verify", show_progress) as progress:
        return verify_snapshot(store, snapshot_id, workers=workers, progress=progress)


def prune_store(
    store_url: str, keep: int, *, min_age: float = 3600.0, timeout: float | None = None
) -> PruneResult:
    from iconctl.sync.catalog import prune
    from iconctl.sync.store import open_store

    return prune(open_store(store_url, timeout=timeout), keep, grace=min_age)
