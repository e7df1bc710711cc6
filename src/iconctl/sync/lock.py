"""The store's writer lock: one snapshot (or one chunk collection by prune) at a time.

The lock is an object created only if absent (O_EXCL-style link on a directory, a conditional
PUT on S3 and GCS). Its holder refreshes the expiry while it works; a lock past its expiry was
left by a writer that died, and the next writer takes it over.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass

from iconctl.errors import IntegrityError
from iconctl.sync.manifest import LOCK_KEY, SMALL_OBJECT_LIMIT
from iconctl.sync.store import NotFound, Store, TooLarge

DEFAULT_TTL = 600.0


@dataclass(frozen=True)
class LockInfo:
    owner: str
    purpose: str
    token: str
    acquired: float
    expires: float

    @property
    def stale(self) -> bool:
        return self.expires < time.time()


class LockHeld(IntegrityError):
    def __init__(self, info: LockInfo | None) -> None:
        self.info = info
        who = f"{info.purpose} by {info.owner}" if info else "another writer"
        until = f", expires in {max(0, int(info.expires - time.time()))} s" if info else ""
        super().__init__(
            f"refused: the store is locked ({who}{until}); retry later or wait for it to finish"
        )


def read_lock(store: Store) -> LockInfo | None:
    try:
        doc = json.loads(store.get(LOCK_KEY, limit=SMALL_OBJECT_LIMIT))
        return LockInfo(
            str(doc["owner"]),
            str(doc.get("purpose", "snapshot")),
            str(doc["token"]),
            float(doc["acquired"]),
            float(doc["expires"]),
        )
    except NotFound:
        return None
    except (ValueError, KeyError, TypeError, TooLarge):
        # Unreadable lock: treat it as stale rather than blocking the store forever.
        return LockInfo("unknown", "unknown", "", 0.0, 0.0)


class StoreLock:
    def __init__(self, store: Store, purpose: str, ttl: float = DEFAULT_TTL) -> None:
        self.store = store
        self.purpose = purpose
        self.ttl = ttl
        self.token = uuid.uuid4().hex
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.acquired = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.took_over: LockInfo | None = None

    def _body(self) -> bytes:
        return json.dumps(
            {
                "owner": self.owner,
                "purpose": self.purpose,
                "token": self.token,
                "acquired": self.acquired,
                "expires": time.time() + self.ttl,
            }
        ).encode()

    def acquire(self, wait: float = 0.0) -> None:
        deadline = time.monotonic() + wait
        while True:
            self.acquired = time.time()
            if self.store.put_if_absent(LOCK_KEY, self._body()):
                info = read_lock(self.store)
                if info is not None and info.token == self.token:
                    break
            else:
                info = read_lock(self.store)
                if info is None:
                    continue  # released between our attempt and the read: try again now
                if info.stale:
                    # A dead writer's lock: delete it (if it is still that same lock), then
                    # race for it like everyone else.
                    again = read_lock(self.store)
                    if again is not None and again.token == info.token:
                        self.took_over = info
                        self.store.delete(LOCK_KEY)
                    continue
            if time.monotonic() >= deadline:
                raise LockHeld(info)
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
        self._thread = threading.Thread(target=self._refresh, name="sync-lock", daemon=True)
        self._thread.start()

    def _refresh(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            info = read_lock(self.store)
            if info is None or info.token != self.token:
                return  # lost it (taken over after we stalled); the publish check will refuse
            self.store.put(LOCK_KEY, self._body())

    def still_held(self) -> bool:
        info = read_lock(self.store)
        return info is not None and info.token == self.token

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        info = read_lock(self.store)
        if info is not None and info.token == self.token:
            self.store.delete(LOCK_KEY)

    def __enter__(self) -> StoreLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
