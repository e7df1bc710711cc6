"""Writing files so that a reader never sees half of one under its final name."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(
    path: Path,
    data: str | bytes,
    *,
    mode: int = 0o644,
    durable: bool = True,
    exclusive: bool = False,
    scratch: Path | None = None,
) -> bool:
    """Write ``data`` to a temporary file, then move it to ``path`` in one step.

    durable: fsync the file before it takes its name (off where the caller syncs the whole
    filesystem once at the end). exclusive: only create ``path``, never replace it (a hard
    link, atomic also on NFS); returns False when it existed. scratch: the folder for the
    temporary file (same filesystem), where a reader must never see one beside ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    folder = scratch if scratch is not None else path.parent
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if not exclusive:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)
        return True
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
