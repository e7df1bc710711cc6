"""Object stores a snapshot lives in: a local directory, S3 (or any S3-compatible server),
Google Cloud Storage, and read-only HTTP(S).

Every backend offers the same small set of operations on keys relative to the store's prefix.
Objects are small (one chunk at most, see ``manifest.CHUNK_SIZE``), so each is read or written
with one request; parallelism comes from the callers' thread pools, not from multipart.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import mmap
import os
import random
import socket
import ssl
import struct
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlsplit

from iconctl.errors import IconctlError, InputError, RemoteFailed
from iconctl.files import write_atomic

# Parallel transfers when --workers is not given. Object stores answer each request after a
# round trip, so more requests in flight pay off; a directory or a nearby HTTP server is
# bound by the CPU (receive, hash, write), where more threads than a few per core only add
# contention (measured: docs/sync-transfer.md).
DEFAULT_WORKERS = 16
LOCAL_WORKERS = 8

T = TypeVar("T")


def certificate_refused(exc: BaseException) -> bool:
    """A TLS certificate the client does not trust: asking again cannot help."""
    return isinstance(exc, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc)


@dataclass(frozen=True)
class RetryPolicy:
    """How every network store (s3, gs, http) rides out a failing store: each request times out
    after ``timeout`` seconds without progress; a request that failed in a way that may pass
    (a timeout, a reset connection, HTTP 5xx or 429, throttling) is tried again after an
    exponential backoff with jitter, until ``deadline`` seconds (default 4 x timeout) have
    passed since the operation's first attempt. Directories are not retried: a local
    filesystem's errors do not pass by waiting."""

    timeout: float = 30.0
    deadline: float | None = None
    base: float = 0.25
    cap: float = 8.0

    @property
    def total(self) -> float:
        return self.deadline if self.deadline is not None else 4 * self.timeout

    def delay(self, attempt: int) -> float:
        """Sleep before retry number ``attempt`` (1, 2, ...): half fixed, half random, so a
        fleet of restores does not retry in lock step."""
        step = min(self.cap, self.base * 2 ** (attempt - 1))
        return step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not a secret

    def run(self, attempt: Callable[[], T], retryable: Callable[[BaseException], bool]) -> T:
        """``attempt()`` until it returns, raises something not ``retryable``, or the next
        try would start after the deadline (then the last error is raised)."""
        start = time.monotonic()
        n = 0
        while True:
            try:
                return attempt()
            except Exception as exc:
                # an untrusted certificate never passes by waiting, whatever the store says
                if certificate_refused(exc) or not retryable(exc):
                    raise
                n += 1
                pause = self.delay(n)
                if time.monotonic() - start + pause > self.total:
                    raise
                time.sleep(pause)


DEFAULT_POLICY = RetryPolicy()


class Transient(Exception):
    """A failure the retry policy may wait out; ``detail`` is what the user sees if it does
    not pass."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(IconctlError):
    """The object does not exist in the store."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"object not found in store: {key}")


class TooLarge(IconctlError):
    """The object is larger than the buffer it was to be read into: every caller sizes its
    buffer for the largest object it expects, so this is a wrong object, not a reason to
    allocate whatever a server announces."""

    def __init__(self, key: str, size: int) -> None:
        self.key = key
        self.size = size
        super().__init__(f"object {key} has {size} bytes, more than expected")


class StoreError(RemoteFailed):
    """The store answered with an error (network, permission, server)."""

    def __init__(self, operation: str, key: str, detail: str) -> None:
        super().__init__(step=f"store {operation}", target=key, detail=detail)
        self.message = f"store {operation} of {key!r} failed: {detail}"

    def lines(self) -> list[str]:
        return [self.message]


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    modified: float  # seconds since the epoch


class Store(ABC):
    """A flat key space under one prefix; keys use '/' separators and never start with one."""

    url: str
    read_only: bool = False
    default_workers: int = DEFAULT_WORKERS

    @abstractmethod
    def get(self, key: str, limit: int | None = None) -> bytes:
        """The whole object; NotFound if absent. With ``limit``, an object larger than that
        raises TooLarge after at most ``limit + 1`` bytes were read (its announced size is
        checked first wherever the store tells it)."""

    def get_into(self, key: str, buf: bytearray | mmap.mmap) -> memoryview:
        """The object's bytes, read into ``buf`` where the backend can (streaming clients);
        others return a view of the bytes they received, without another copy. ``buf`` never
        grows (it may be a page-aligned mmap): an object that does not fit raises TooLarge
        before its body is read."""
        return memoryview(self.get(key, limit=len(buf)))

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Write the object atomically (readers see the old object or the new, never a part)."""

    @abstractmethod
    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Create the object unless it exists; False when it already did."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete the object; deleting an absent object is not an error."""

    @abstractmethod
    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in no particular order."""


def _join(prefix: str, key: str) -> str:
    return f"{prefix}/{key}" if prefix else key


def _refuse_write(store: Store) -> None:
    if store.read_only:
        raise InputError(f"{store.url} is a read-only store (http stores serve restores only)")


# --- local directory ---------------------------------------------------------------------


class FileStore(Store):
    default_workers = LOCAL_WORKERS

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url

    def _path(self, key: str) -> Path:
        return self.root / key

    def get(self, key: str, limit: int | None = None) -> bytes:
        try:
            with open(self._path(key), "rb") as f:
                if limit is None:
                    return f.read()
                size = os.fstat(f.fileno()).st_size
                if size > limit:
                    raise TooLarge(key, size)
                data = f.read(size + 1)  # never a buffer of the limit's size
                if len(data) > size:  # grew after the stat (never, for objects put here)
                    data += f.read(limit + 1 - len(data))
                if len(data) > limit:
                    raise TooLarge(key, len(data))
                return data
        except FileNotFoundError:
            raise NotFound(key) from None
        except OSError as exc:
            raise StoreError("get", key, str(exc)) from None

    def get_into(self, key: str, buf: bytearray | mmap.mmap) -> memoryview:
        try:
            with open(self._path(key), "rb", buffering=0) as f:
                size = os.fstat(f.fileno()).st_size
                if len(buf) < size:
                    raise TooLarge(key, size)
                view = memoryview(buf)[:size]
                got = 0
                while got < size:
                    n = f.readinto(view[got:])
                    if not n:
                        break
                    got += n
                return view[:got]
        except FileNotFoundError:
            raise NotFound(key) from None
        except OSError as exc:
            raise StoreError("get", key, str(exc)) from None

    def _write(self, key: str, data: bytes, *, exclusive: bool) -> bool:
        try:
            return write_atomic(self._path(key), data, exclusive=exclusive)
        except OSError as exc:
            raise StoreError("put", key, str(exc)) from None

    def put(self, key: str, data: bytes) -> None:
        self._write(key, data, exclusive=False)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        return self._write(key, data, exclusive=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError("delete", key, str(exc)) from None

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        base = self.root
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, base)
            for name in sorted(filenames):
                if name.startswith(".") and name.endswith(".tmp"):
                    continue
                key = name if rel_dir == "." else f"{rel_dir.replace(os.sep, '/')}/{name}"
                if not key.startswith(prefix):
                    continue
                try:
                    st = os.stat(os.path.join(dirpath, name))
                except FileNotFoundError:
                    continue
                yield ObjectInfo(key, st.st_size, st.st_mtime)


# --- S3 and S3-compatible servers ------------------------------------------------------------


class S3Store(Store):
    """S3 through boto3; AWS_ENDPOINT_URL (read by botocore itself) selects another server.

    Bulk chunk reads (restore, verify) go through obstore when it is installed: measured
    several times cheaper per request than boto3 (docs/sync-transfer.md). It is given boto3's
    resolved credentials, region and endpoint, and any error other than "not found" switches
    this store back to boto3 for good, so the fast path can never make a restore fail.
    Both clients retry by the store's RetryPolicy: boto3's own retries are off and every
    call runs under the policy; obstore gets the same timeout, backoff and deadline.
    """

    _THROTTLED = frozenset(
        {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError",
         "ServiceUnavailable", "RequestTimeTooSkewed"}
    )  # fmt: skip

    def __init__(
        self,
        bucket: str,
        prefix: str,
        url: str,
        workers: int = DEFAULT_WORKERS,
        client=None,
        fast_reads: bool = True,
        policy: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.url = url
        self.policy = policy
        if client is None:
            client = _boto3_client("s3", workers, policy)
        self.client = client
        from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError

        self._errors = (BotoCoreError, ClientError)
        self._client_error = ClientError
        self._network_errors = (HTTPClientError, OSError)
        self._fast = None if fast_reads else False
        self._fast_lock = threading.Lock()

    def _fast_store(self):
        with self._fast_lock:
            if self._fast is None:
                self._fast = self._make_fast() or False
            return self._fast

    def _make_fast(self):
        try:
            from obstore.store import S3Store as ObjectStoreS3
        except ImportError:
            return None
        import datetime as dt

        import boto3

        session = boto3.session.Session()
        if session.get_credentials() is None:
            return None

        def credentials() -> dict:
            frozen = session.get_credentials().get_frozen_credentials()
            return {
                "access_key_id": frozen.access_key,
                "secret_access_key": frozen.secret_key,
                "token": frozen.token,
                # asked again every few minutes, so rotating role credentials work
                "expires_at": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
            }

        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        p = self.policy
        options: dict = {
            "timeout": f"{max(1, round(p.timeout * 1000))}ms",
            "connect_timeout": f"{max(1, round(min(p.timeout, 10) * 1000))}ms",
        }
        if endpoint and endpoint.startswith("http://"):
            options["allow_http"] = True
        kwargs: dict = {
            "region": self.client.meta.region_name,
            "credential_provider": credentials,
            "client_options": options,
            "retry_config": {
                "max_retries": 1000,  # the deadline decides
                "retry_timeout": dt.timedelta(seconds=p.total),
                "backoff": {
                    "init_backoff": dt.timedelta(seconds=p.base),
                    "max_backoff": dt.timedelta(seconds=p.cap),
                    "base": 2,
                },
            },
        }
        if endpoint:
            kwargs["endpoint"] = endpoint
        if self.prefix:
            kwargs["prefix"] = self.prefix
        try:
            return ObjectStoreS3(self.bucket, **kwargs)
        except Exception:  # noqa: BLE001 - any configuration it cannot take: use boto3
            return None

    def get_into(self, key: str, buf: bytearray | mmap.mmap) -> memoryview:
        fast = self._fast_store()
        if fast:
            import obstore

            try:
                result = obstore.get(fast, key)
                size = result.meta["size"]  # from the headers: no body read yet
            except FileNotFoundError:
                raise NotFound(key) from None
            except Exception:  # noqa: BLE001 - wrong region, unsupported auth, ...: fall back
                self._fast = False
            else:
                if size > len(buf):
                    raise TooLarge(key, size)
                try:
                    return memoryview(result.bytes())
                except Exception:  # noqa: BLE001 - the body failed: boto3 tries again
                    self._fast = False
        return memoryview(self.get(key, limit=len(buf)))

    def _key(self, key: str) -> str:
        return _join(self.prefix, key)

    def _fail(self, op: str, key: str, exc: Exception) -> IconctlError:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NotFound"):
            return NotFound(key)
        return StoreError(op, key, f"{type(exc).__name__}: {exc}")

    def _transient(self, exc: BaseException) -> bool:
        if isinstance(exc, self._client_error):
            response = getattr(exc, "response", {})
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = response.get("Error", {}).get("Code", "")
            return status >= 500 or status == 429 or code in self._THROTTLED
        return isinstance(exc, self._network_errors)

    def _call(self, op: str, key: str, fn: Callable[[], T]) -> T:
        try:
            return self.policy.run(fn, self._transient)
        except self._errors as exc:
            raise self._fail(op, key, exc) from None

    def get(self, key: str, limit: int | None = None) -> bytes:
        def attempt() -> bytes:
            resp = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            body = resp["Body"]
            try:
                size = resp.get("ContentLength")
                if limit is not None and isinstance(size, int) and size > limit:
                    raise TooLarge(key, size)  # refused on its headers, body never read
                data = body.read() if limit is None else body.read(limit + 1)
            finally:
                body.close()
            if limit is not None and len(data) > limit:
                raise TooLarge(key, len(data))
            return data

        return self._call("get", key, attempt)

    def put(self, key: str, data: bytes) -> None:
        self._call(
            "put",
            key,
            lambda: self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data),
        )

    def put_if_absent(self, key: str, data: bytes) -> bool:
        def attempt() -> None:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*"
            )

        try:
            self.policy.run(attempt, self._transient)
            return True
        except self._errors as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise self._fail("put", key, exc) from None

    def exists(self, key: str) -> bool:
        try:
            self._call(
                "head",
                key,
                lambda: self.client.head_object(Bucket=self.bucket, Key=self._key(key)),
            )
            return True
        except NotFound:
            return False

    def delete(self, key: str) -> None:
        with contextlib.suppress(NotFound):
            self._call(
                "delete",
                key,
                lambda: self.client.delete_object(Bucket=self.bucket, Key=self._key(key)),
            )

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        full = self._key(prefix)
        strip = len(self.prefix) + 1 if self.prefix else 0
        token: str | None = None
        while True:
            kwargs: dict = {"Bucket": self.bucket, "Prefix": full}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call(
                "list", prefix, functools.partial(self.client.list_objects_v2, **kwargs)
            )
            for obj in page.get("Contents", []):
                yield ObjectInfo(obj["Key"][strip:], obj["Size"], obj["LastModified"].timestamp())
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")
            if not token:
                return


def _boto3_client(service: str, workers: int, policy: RetryPolicy = DEFAULT_POLICY):
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise InputError("s3:// stores need boto3: pip install boto3") from None
    config = Config(
        max_pool_connections=max(workers, 10),
        retries={"total_max_attempts": 1},  # RetryPolicy retries, the same for every store
        connect_timeout=min(policy.timeout, 10),
        read_timeout=policy.timeout,
    )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.session.Session().client(service, region_name=region, config=config)


# --- Google Cloud Storage --------------------------------------------------------------------


class GcsStore(Store):
    """Google Cloud Storage through the google-cloud-storage library (Application Default
    Credentials: a VM's service account, GOOGLE_APPLICATION_CREDENTIALS, ...). The library's
    own retries are off; every call runs under the store's RetryPolicy."""

    def __init__(
        self, bucket: str, prefix: str, url: str, client=None, policy: RetryPolicy = DEFAULT_POLICY
    ) -> None:
        self.prefix = prefix
        self.url = url
        self.policy = policy
        if client is None:
            try:
                from google.cloud import storage  # type: ignore[import-not-found]
            except ImportError:
                raise InputError(
                    "gs:// stores need google-cloud-storage: pip install 'iconctl[gcs]'"
                ) from None
            client = storage.Client()
        self.client = client
        self.bucket = client.bucket(bucket)

    def _blob(self, key: str):
        return self.bucket.blob(_join(self.prefix, key))

    def _is_missing(self, exc: BaseException) -> bool:
        return getattr(exc, "code", None) == 404 or type(exc).__name__ == "NotFound"

    def _is_precondition(self, exc: BaseException) -> bool:
        return getattr(exc, "code", None) == 412 or type(exc).__name__ == "PreconditionFailed"

    def _transient(self, exc: BaseException) -> bool:
        code = getattr(exc, "code", None)
        if isinstance(code, int):
            return code >= 500 or code == 429
        return isinstance(exc, OSError)  # requests' connection errors and timeouts

    def _call(self, op: str, key: str, fn: Callable[[], T]) -> T:
        try:
            return self.policy.run(fn, self._transient)
        except IconctlError:
            raise
        except Exception as exc:
            if self._is_missing(exc):
                raise NotFound(key) from None
            raise StoreError(op, key, f"{type(exc).__name__}: {exc}") from None

    def get(self, key: str, limit: int | None = None) -> bytes:
        kwargs: dict = {"timeout": self.policy.timeout, "retry": None}
        if limit is not None:
            kwargs["end"] = limit  # inclusive: at most limit + 1 bytes come back
        data = self._call("get", key, lambda: self._blob(key).download_as_bytes(**kwargs))
        if limit is not None and len(data) > limit:
            raise TooLarge(key, len(data))
        return data

    def put(self, key: str, data: bytes) -> None:
        self._call(
            "put",
            key,
            lambda: self._blob(key).upload_from_string(
                data,
                content_type="application/octet-stream",
                timeout=self.policy.timeout,
                retry=None,
            ),
        )

    def put_if_absent(self, key: str, data: bytes) -> bool:
        def attempt() -> None:
            self._blob(key).upload_from_string(
                data,
                content_type="application/octet-stream",
                if_generation_match=0,
                timeout=self.policy.timeout,
                retry=None,
            )

        try:
            self.policy.run(attempt, self._transient)
            return True
        except Exception as exc:
            if self._is_precondition(exc):
                return False
            raise StoreError("put", key, f"{type(exc).__name__}: {exc}") from None

    def exists(self, key: str) -> bool:
        return bool(
            self._call(
                "head",
                key,
                lambda: self._blob(key).exists(timeout=self.policy.timeout, retry=None),
            )
        )

    def delete(self, key: str) -> None:
        with contextlib.suppress(NotFound):
            self._call(
                "delete",
                key,
                lambda: self._blob(key).delete(timeout=self.policy.timeout, retry=None),
            )

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            blobs = self.client.list_blobs(
                self.bucket, prefix=_join(self.prefix, prefix), timeout=self.policy.timeout
            )
            for blob in blobs:
                updated = blob.updated.timestamp() if blob.updated else 0.0
                yield ObjectInfo(blob.name[strip:], blob.size or 0, updated)
        except Exception as exc:
            raise StoreError("list", prefix, f"{type(exc).__name__}: {exc}") from None


# --- read-only HTTP(S) -------------------------------------------------------------------------


class _Unusual(Exception):
    """The fast HTTP path met something it does not handle."""


class HttpStore(Store):
    """A store published over HTTP(S): a public bucket, a CDN, nginx in front of a directory.

    One keep-alive connection per thread (the restore pool's threads), bodies read straight
    into the caller's buffer; no listing, so restores name the snapshot or follow ``latest``.
    Failures that may pass (timeouts, resets, a keep-alive connection the server closed, 5xx,
    429) are retried by the RetryPolicy, and only by it.
    """

    read_only = True
    default_workers = LOCAL_WORKERS

    def __init__(self, url: str, policy: RetryPolicy = DEFAULT_POLICY) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            raise InputError(f"invalid store URL {url!r}: no host")
        if parts.username or parts.password:
            # it would end up in logs, state files and metrics: refuse rather than leak it
            raise InputError("store URLs must not carry credentials (user:password@)")
        self.url = url
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.base = parts.path.rstrip("/")
        self.policy = policy
        self.timeout = policy.timeout
        self._local = threading.local()
        self._ssl = ssl.create_default_context() if self.https else None

    def _conn(self, fresh: bool = False) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and not fresh:
            return conn
        if conn is not None:
            conn.close()
        if self.https:
            conn = http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=self._ssl
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self._local.conn = conn
        return conn

    def _fetch(self, key: str, buf: bytearray | mmap.mmap | None, limit: int | None):
        """One object under the retry policy: (bytes, None) without ``buf``, else (None, a
        view of ``buf``). Connections are replaced after a failed attempt."""
        state = {"fresh": False}

        def once():
            if buf is not None and not self.https:
                # a keep-alive connection the server closed fails this attempt like any other
                # failure: the retry policy is the one place that decides to try again
                try:
                    view = self._raw_get_into(key, buf)
                except _Unusual:
                    self._drop_raw()  # an answer the fast path does not handle: http.client
                    view = None
                if view is not None:
                    return None, view
            return self._request_once(key, buf, limit, state["fresh"])

        def attempt():
            try:
                result = once()
            except (OSError, http.client.HTTPException) as exc:
                self._drop_raw()
                if certificate_refused(exc):  # permanent: no retry
                    raise StoreError("get", key, f"{type(exc).__name__}: {exc}") from None
                state["fresh"] = True  # the next attempt starts on new connections
                # a kernel receive timeout (SO_RCVTIMEO) surfaces as EAGAIN
                timed_out = isinstance(exc, TimeoutError | BlockingIOError)
                detail = "timed out" if timed_out else f"{exc}"
                raise Transient(f"{type(exc).__name__}: {detail}") from None
            state["fresh"] = False
            return result

        started = time.monotonic()
        try:
            return self.policy.run(attempt, lambda e: isinstance(e, Transient))
        except Transient as exc:
            took = time.monotonic() - started
            raise StoreError(
                "get", key, f"{exc.detail} (gave up after {took:.1f} s of retries)"
            ) from None

    def _request_once(
        self, key: str, buf: bytearray | mmap.mmap | None, limit: int | None, fresh: bool
    ) -> tuple[bytes | None, memoryview | None]:
        path = f"{self.base}/{quote(key)}"
        conn = self._conn(fresh=fresh)
        conn.request("GET", path, headers={"Accept-Encoding": "identity"})
        resp = conn.getresponse()
        if resp.status == 404:
            resp.read(65536)
            conn.close()
            raise NotFound(key)
        if resp.status != 200:
            body = resp.read(200)
            conn.close()  # the rest of the body was not read
            if resp.status >= 500 or resp.status == 429:
                raise Transient(f"HTTP {resp.status}")
            raise StoreError("get", key, f"HTTP {resp.status} {body[:200]!r}")
        cap = len(buf) if buf is not None else limit
        length = resp.length
        if cap is not None and length is not None and length > cap:
            conn.close()
            raise TooLarge(key, length)  # refused on its headers, body never read
        if buf is None:
            data = resp.read() if cap is None else resp.read(cap + 1)
            if cap is not None and len(data) > cap:
                conn.close()
                raise TooLarge(key, len(data))
            return data, None
        if length is None:
            data = resp.read(len(buf) + 1)
            if len(data) > len(buf):
                conn.close()  # the rest of the body was not read
                raise TooLarge(key, len(data))
            view = memoryview(buf)[: len(data)]
            view[:] = data
            return None, view
        view = memoryview(buf)[:length]
        got = 0
        while got < length:
            n = resp.readinto(view[got:])
            if not n:
                raise http.client.IncompleteRead(bytes(view[:got]), length - got)
            got += n
        return None, view

    def get(self, key: str, limit: int | None = None) -> bytes:
        data, _ = self._fetch(key, None, limit)
        assert data is not None
        return data

    def get_into(self, key: str, buf: bytearray | mmap.mmap) -> memoryview:
        _, view = self._fetch(key, buf, None)
        assert view is not None
        return view

    # The fast path for plain HTTP: one request, the headers parsed by hand, then the whole
    # body received into the caller's buffer with a single MSG_WAITALL recv (the GIL is free
    # for the entire transfer, and there is no per-16-KiB Python overhead). Anything unusual
    # falls back to http.client.

    def _drop_raw(self) -> None:
        sock = getattr(self._local, "sock", None)
        if sock is not None:
            sock.close()
        self._local.sock = None

    def _raw_sock(self) -> socket.socket:
        sock = getattr(self._local, "sock", None)
        if sock is None:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # A blocking socket with kernel-side timeouts: MSG_WAITALL then really receives a
            # whole chunk in one call (Python's own timeouts make the socket non-blocking and
            # split every receive into many). A timeout surfaces as an OSError and a retry.
            sock.settimeout(None)
            whole = int(self.timeout)
            timeval = struct.pack("ll", whole, int((self.timeout - whole) * 1_000_000))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
            self._local.sock = sock
            self._local.head = bytearray(65536)
        return sock

    def _raw_get_into(self, key: str, buf: bytearray | mmap.mmap) -> memoryview | None:
        sock = self._raw_sock()
        host = self.host if self.port == 80 else f"{self.host}:{self.port}"
        sock.sendall(
            f"GET {self.base}/{quote(key)} HTTP/1.1\r\nHost: {host}\r\n"
            "Accept-Encoding: identity\r\n\r\n".encode("latin-1")
        )
        head = self._local.head
        hview = memoryview(head)
        got = 0
        end = -1
        while end < 0:
            n = sock.recv_into(hview[got:])
            if n == 0:
                raise ConnectionResetError("connection closed before an answer")
            got += n
            end = head.find(b"\r\n\r\n", 0, got)
            if end < 0 and got == len(head):
                raise _Unusual("headers too large")
        lines = bytes(head[:end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise _Unusual("not HTTP/1.x")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        length = headers.get("content-length")
        if parts[1] != "200" or length is None or "transfer-encoding" in headers:
            self._drop_raw()  # the body was not read: this connection cannot be reused
            return None
        try:
            size = int(length)
        except ValueError:
            size = -1
        if size < 0:
            raise _Unusual("bad Content-Length")
        if len(buf) < size:
            self._drop_raw()
            raise TooLarge(key, size)
        view = memoryview(buf)[:size]
        body_start = end + 4
        if got - body_start > size:
            raise _Unusual("more bytes than the Content-Length")
        have = got - body_start
        view[:have] = hview[body_start : body_start + have]
        while have < size:
            n = sock.recv_into(view[have:], size - have, socket.MSG_WAITALL)
            if n == 0:
                raise ConnectionResetError("connection closed mid-body")
            have += n
        if headers.get("connection") == "close" or parts[0] == "HTTP/1.0":
            self._drop_raw()
        return view

    def put(self, key: str, data: bytes) -> None:
        _refuse_write(self)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        _refuse_write(self)
        return False

    def exists(self, key: str) -> bool:
        try:
            self.get(key, limit=0)
            return True
        except TooLarge:
            return True
        except NotFound:
            return False

    def delete(self, key: str) -> None:
        _refuse_write(self)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        raise InputError(
            f"{self.url}: http stores cannot be listed; give --snapshot ID or use the "
            "bucket's s3:// or gs:// URL"
        )


# --- URL parsing ---------------------------------------------------------------------------------


def open_store(url: str, *, workers: int = DEFAULT_WORKERS, timeout: float | None = None) -> Store:
    """The store a URL names: s3://bucket/prefix, gs://bucket/prefix, file:///abs/path or a
    plain path, http(s)://host/prefix (read-only). ``timeout`` is the RetryPolicy's
    per-request timeout (the deadline follows it)."""
    policy = DEFAULT_POLICY if timeout is None else RetryPolicy(timeout=timeout)
    if not url or "\x00" in url:
        raise InputError("store URL is empty")
    if "://" not in url:
        return _file_store(Path(url), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise InputError(
                f"invalid store URL {url!r}: file URLs take an absolute path (file:///path)"
            )
        return _file_store(Path(parts.path), url)
    if scheme in ("s3", "gs"):
        bucket = parts.netloc
        if not bucket or parts.query or parts.fragment:
            raise InputError(f"invalid store URL {url!r}: expected {scheme}://bucket/prefix")
        prefix = parts.path.strip("/")
        if scheme == "s3":
            return S3Store(bucket, prefix, url, workers=workers, policy=policy)
        return GcsStore(bucket, prefix, url, policy=policy)
    if scheme in ("http", "https"):
        return HttpStore(url, policy=policy)
    raise InputError(
        f"unsupported store URL {url!r}: use s3://, gs://, file://, a path, or http(s)://"
    )


def _file_store(path: Path, url: str) -> FileStore:
    if not path.is_absolute():
        path = Path.cwd() / path
    if path.exists() and not path.is_dir():
        raise InputError(f"store path {path} exists and is not a directory")
    return FileStore(path, url)  # created on the first write, never by a read
