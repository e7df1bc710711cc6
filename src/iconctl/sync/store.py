"""Object stores a snapshot lives in: a local directory, S3 (or any S3-compatible server),
Google Cloud Storage, and read-only HTTP(S).

Every backend offers the same small set of operations on keys relative to the store's prefix.
Objects are small (one chunk at most, see ``manifest.CHUNK_SIZE``), so each is read or written
with one request; parallelism comes from the callers' thread pools, not from multipart.
"""

from __future__ import annotations

import http.client
import os
import ssl
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from iconctl.errors import IconctlError, InputError, ToolFailed

# Keep-alive connections per store; callers size their thread pools to this.
DEFAULT_WORKERS = 16


class NotFound(IconctlError):
    """The object does not exist in the store."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"object not found in store: {key}")


class StoreError(ToolFailed):
    """The store answered with an error (network, permission, server)."""

    def __init__(self, operation: str, key: str, detail: str) -> None:
        super().__init__(
            step=f"store {operation} {key}", argv=[operation, key], returncode=1, tail=detail
        )
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

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The whole object; NotFound if absent."""

    def get_into(self, key: str, buf: bytearray) -> memoryview:
        """Read the object into ``buf`` (grown if needed); returns a view of the bytes read."""
        data = self.get(key)
        if len(buf) < len(data):
            buf.extend(bytes(len(data) - len(buf)))
        view = memoryview(buf)[: len(data)]
        view[:] = data
        return view

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
    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url

    def _path(self, key: str) -> Path:
        return self.root / key

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(key) from None
        except OSError as exc:
            raise StoreError("get", key, str(exc)) from None

    def get_into(self, key: str, buf: bytearray) -> memoryview:
        try:
            with open(self._path(key), "rb", buffering=0) as f:
                size = os.fstat(f.fileno()).st_size
                if len(buf) < size:
                    buf.extend(bytes(size - len(buf)))
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
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if exclusive:
                try:
                    os.link(tmp, path)  # atomic create-if-absent, also on NFS
                except FileExistsError:
                    return False
                finally:
                    tmp.unlink(missing_ok=True)
            else:
                os.replace(tmp, path)
            return True
        except OSError as exc:
            tmp.unlink(missing_ok=True)
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
    """S3 through boto3; AWS_ENDPOINT_URL (read by botocore itself) selects another server."""

    def __init__(
        self, bucket: str, prefix: str, url: str, workers: int = DEFAULT_WORKERS, client=None
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.url = url
        if client is None:
            client = _boto3_client("s3", workers)
        self.client = client
        from botocore.exceptions import BotoCoreError, ClientError

        self._errors = (BotoCoreError, ClientError)

    def _key(self, key: str) -> str:
        return _join(self.prefix, key)

    def _fail(self, op: str, key: str, exc: Exception) -> IconctlError:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NotFound"):
            return NotFound(key)
        return StoreError(op, key, f"{type(exc).__name__}: {exc}")

    def get(self, key: str) -> bytes:
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return resp["Body"].read()
        except self._errors as exc:
            raise self._fail("get", key, exc) from None

    def put(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except self._errors as exc:
            raise self._fail("put", key, exc) from None

    def put_if_absent(self, key: str, data: bytes) -> bool:
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*"
            )
            return True
        except self._errors as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise self._fail("put", key, exc) from None

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except self._errors as exc:
            err = self._fail("head", key, exc)
            if isinstance(err, NotFound):
                return False
            raise err from None

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except self._errors as exc:
            err = self._fail("delete", key, exc)
            if not isinstance(err, NotFound):
                raise err from None

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        full = self._key(prefix)
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                for obj in page.get("Contents", []):
                    yield ObjectInfo(
                        obj["Key"][strip:], obj["Size"], obj["LastModified"].timestamp()
                    )
        except self._errors as exc:
            raise self._fail("list", prefix, exc) from None


def _boto3_client(service: str, workers: int):
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise InputError("s3:// stores need boto3: pip install boto3") from None
    config = Config(
        max_pool_connections=max(workers, 10),
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
    )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.session.Session().client(service, region_name=region, config=config)


# --- Google Cloud Storage --------------------------------------------------------------------


class GcsStore(Store):
    """Google Cloud Storage through the google-cloud-storage library (Application Default
    Credentials: a VM's service account, GOOGLE_APPLICATION_CREDENTIALS, ...)."""

    def __init__(self, bucket: str, prefix: str, url: str, client=None) -> None:
        self.prefix = prefix
        self.url = url
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

    def _is_missing(self, exc: Exception) -> bool:
        return getattr(exc, "code", None) == 404 or type(exc).__name__ == "NotFound"

    def _is_precondition(self, exc: Exception) -> bool:
        return getattr(exc, "code", None) == 412 or type(exc).__name__ == "PreconditionFailed"

    def get(self, key: str) -> bytes:
        try:
            return self._blob(key).download_as_bytes()
        except Exception as exc:
            if self._is_missing(exc):
                raise NotFound(key) from None
            raise StoreError("get", key, f"{type(exc).__name__}: {exc}") from None

    def put(self, key: str, data: bytes) -> None:
        try:
            self._blob(key).upload_from_string(data, content_type="application/octet-stream")
        except Exception as exc:
            raise StoreError("put", key, f"{type(exc).__name__}: {exc}") from None

    def put_if_absent(self, key: str, data: bytes) -> bool:
        try:
            self._blob(key).upload_from_string(
                data, content_type="application/octet-stream", if_generation_match=0
            )
            return True
        except Exception as exc:
            if self._is_precondition(exc):
                return False
            raise StoreError("put", key, f"{type(exc).__name__}: {exc}") from None

    def exists(self, key: str) -> bool:
        try:
            return bool(self._blob(key).exists())
        except Exception as exc:
            raise StoreError("head", key, f"{type(exc).__name__}: {exc}") from None

    def delete(self, key: str) -> None:
        try:
            self._blob(key).delete()
        except Exception as exc:
            if not self._is_missing(exc):
                raise StoreError("delete", key, f"{type(exc).__name__}: {exc}") from None

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            for blob in self.client.list_blobs(self.bucket, prefix=_join(self.prefix, prefix)):
                updated = blob.updated.timestamp() if blob.updated else 0.0
                yield ObjectInfo(blob.name[strip:], blob.size or 0, updated)
        except Exception as exc:
            raise StoreError("list", prefix, f"{type(exc).__name__}: {exc}") from None


# --- read-only HTTP(S) -------------------------------------------------------------------------


class HttpStore(Store):
    """A store published over HTTP(S): a public bucket, a CDN, nginx in front of a directory.

    One keep-alive connection per thread (the restore pool's threads), bodies read straight
    into the caller's buffer; no listing, so restores name the snapshot or follow ``latest``.
    """

    read_only = True
    RETRIES = 3

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            raise InputError(f"invalid store URL {url!r}: no host")
        self.url = url
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.base = parts.path.rstrip("/")
        self.timeout = timeout
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

    def _request(self, key: str, buf: bytearray | None) -> tuple[bytes | None, memoryview | None]:
        path = f"{self.base}/{quote(key)}"
        last: Exception | None = None
        for attempt in range(self.RETRIES):
            conn = self._conn(fresh=attempt > 0)
            try:
                conn.request("GET", path, headers={"Accept-Encoding": "identity"})
                resp = conn.getresponse()
                if resp.status == 404:
                    resp.read()
                    raise NotFound(key)
                if resp.status != 200:
                    body = resp.read(200)
                    if resp.status >= 500 and attempt + 1 < self.RETRIES:
                        last = StoreError("get", key, f"HTTP {resp.status}")
                        time.sleep(0.2 * (attempt + 1))
                        continue
                    raise StoreError("get", key, f"HTTP {resp.status} {body[:200]!r}")
                if buf is None:
                    return resp.read(), None
                length = resp.length
                if length is None:
                    data = resp.read()
                    if len(buf) < len(data):
                        buf.extend(bytes(len(data) - len(buf)))
                    view = memoryview(buf)[: len(data)]
                    view[:] = data
                    return None, view
                if len(buf) < length:
                    buf.extend(bytes(length - len(buf)))
                view = memoryview(buf)[:length]
                got = 0
                while got < length:
                    n = resp.readinto(view[got:])
                    if not n:
                        raise http.client.IncompleteRead(bytes(view[:got]), length - got)
                    got += n
                return None, view
            except (OSError, http.client.HTTPException) as exc:
                last = exc
                time.sleep(0.1 * (attempt + 1))
        raise StoreError("get", key, f"{type(last).__name__}: {last}")

    def get(self, key: str) -> bytes:
        data, _ = self._request(key, None)
        assert data is not None
        return data

    def get_into(self, key: str, buf: bytearray) -> memoryview:
        _, view = self._request(key, buf)
        assert view is not None
        return view

    def put(self, key: str, data: bytes) -> None:
        _refuse_write(self)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        _refuse_write(self)
        return False

    def exists(self, key: str) -> bool:
        try:
            self.get(key)
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


def open_store(url: str, *, workers: int = DEFAULT_WORKERS) -> Store:
    """The store a URL names: s3://bucket/prefix, gs://bucket/prefix, file:///abs/path or a
    plain path, http(s)://host/prefix (read-only)."""
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
            return S3Store(bucket, prefix, url, workers=workers)
        return GcsStore(bucket, prefix, url)
    if scheme in ("http", "https"):
        return HttpStore(url)
    raise InputError(
        f"unsupported store URL {url!r}: use s3://, gs://, file://, a path, or http(s)://"
    )


def _file_store(path: Path, url: str) -> FileStore:
    if not path.is_absolute():
        path = Path.cwd() / path
    if path.exists() and not path.is_dir():
        raise InputError(f"store path {path} exists and is not a directory")
    return FileStore(path, url)  # created on the first write, never by a read
