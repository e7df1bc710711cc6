"""A fixed set of worker threads draining one iterator: memory stays flat however many items
there are (a mainnet restore has ~500,000 chunks; one future per chunk would not)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def drain(items: Iterable[T], fn: Callable[[T], object], *, workers: int, name: str) -> None:
    """Call ``fn`` on every item from ``workers`` threads; the first exception stops the
    others (they finish the item in hand) and is raised here."""
    it = iter(items)
    lock = threading.Lock()
    failed = threading.Event()

    def worker() -> None:
        while not failed.is_set():
            with lock:
                item = next(it, _END)
            if item is _END:
                return
            try:
                fn(item)  # type: ignore[arg-type]
            except BaseException:
                failed.set()
                raise

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=name) as pool:
        futures = [pool.submit(worker) for _ in range(max(1, workers))]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]  # type: ignore[misc]


_END = object()
