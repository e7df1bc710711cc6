"""The snapshot format: store layout, the manifest, content hashes, snapshot ids.

See docs/sync-format.md. A manifest read from a store is untrusted input: ``parse_manifest``
checks every field and every path before anything touches the disk, and raises
IntegrityError (exit 6) for anything it does not accept.
"""

from __future__ import annotations

import json
import re
import secrets
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import blake3

from iconctl.errors import IntegrityError

FORMAT = "iconctl-sync-manifest"
VERSION = 1
HASH = "blake3"
CHUNK_SIZE = 4 * 1024 * 1024
MAX_CHUNK_SIZE = 64 * 1024 * 1024
MAX_MANIFEST_BYTES = 512 * 1024 * 1024
SMALL_OBJECT_LIMIT = 64 * 1024  # latest.json, the lock: a few hundred bytes when genuine

CHUNKS_PREFIX = "chunks/"
SNAPSHOTS_PREFIX = "snapshots/"
LATEST_KEY = "latest.json"
LOCK_KEY = "locks/snapshot.lock"

_HEX64 = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[0-9a-f]{8}")


def hash_bytes(data: bytes | memoryview) -> str:
    """The content hash of a chunk: BLAKE3-256, lowercase hex."""
    return blake3.blake3(data, max_threads=1).hexdigest()


def chunk_key(digest: str) -> str:
    return f"{CHUNKS_PREFIX}{digest[:2]}/{digest}"


def manifest_key(snapshot_id: str) -> str:
    return f"{SNAPSHOTS_PREFIX}{snapshot_id}.json"


def new_snapshot_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    # Sortable by time to the millisecond; the random tail keeps concurrent writers apart.
    return f"{now.strftime('%Y%m%dT%H%M%S')}.{now.microsecond // 1000:03d}Z-{secrets.token_hex(4)}"


def check_snapshot_id(value: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise IntegrityError(
            f"invalid snapshot id {value!r} (expected YYYYMMDDTHHMMSS.mmmZ-xxxxxxxx)"
        )
    return value


@dataclass(frozen=True)
class Chunk:
    size: int
    digest: str


@dataclass
class FileEntry:
    path: str
    size: int
    mode: int
    mtime_ns: int
    chunks: list[Chunk]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "mode": self.mode,
            "mtime_ns": self.mtime_ns,
            "chunks": [[c.size, c.digest] for c in self.chunks],
        }


@dataclass
class Manifest:
    id: str
    created: str
    chunk_size: int
    dirs: list[str]
    files: list[FileEntry]
    source: dict[str, Any] = field(default_factory=dict)
    digest: str = ""  # hash of the manifest's bytes as read from the store (catalog sets it)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def digests(self) -> set[str]:
        return {c.digest for f in self.files for c in f.chunks}

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "id": self.id,
            "created": self.created,
            "hash": HASH,
            "chunk_size": self.chunk_size,
            "source": self.source,
            "totals": {
                "files": len(self.files),
                "bytes": self.total_bytes,
                "chunks": sum(len(f.chunks) for f in self.files),
            },
            "dirs": self.dirs,
            "files": [f.to_json() for f in self.files],
        }

    def encode(self) -> bytes:
        return json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True).encode()


# A path has at most this many components. goloop's deepest is a handful; a bound keeps
# every walk over a path cheap (a 2,000-level path once exhausted the recursion limit).
MAX_PATH_DEPTH = 64
MAX_PATH_LENGTH = 4096

# Names iconctl itself uses in a target directory (the completion marker, the state file,
# the checkpoint, the restore's working files): every path component starting with
# ".iconctl", and the working-file suffix of iconctl 0.x. No manifest may name them and no
# snapshot includes them, so restored content can never collide with iconctl's own files or
# forge them.
RESERVED_PREFIX = ".iconctl"
LEGACY_PART_SUFFIX = ".iconctl-part"
_RESERVED = re.compile(r"(?:^|/)\.iconctl|\.iconctl-part(?:/|$)", re.IGNORECASE)

# Plain names separated by single slashes: the common case, checked in one match.
_SIMPLE_PATH = re.compile(
    r"(?:[A-Za-z0-9_+=@,-][A-Za-z0-9_.+=@,-]{0,254}/)*"
    r"[A-Za-z0-9_+=@,-][A-Za-z0-9_.+=@,-]{0,254}"
)
# C0 controls (NUL, newline, escape, ...), DEL and C1 controls: a name holding one could
# forge lines in logs and error messages, or drive the operator's terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_reserved_name(name: str) -> bool:
    """True for a file or directory name that belongs to iconctl, never to chain data."""
    low = name.lower()
    return low.startswith(RESERVED_PREFIX) or low.endswith(LEGACY_PART_SUFFIX)


def check_path(value: Any, what: str = "path") -> str:
    """A manifest path: relative, '/'-separated, normalised, inside the target directory,
    at most MAX_PATH_DEPTH components, no control characters, no iconctl-reserved name."""
    if not (
        isinstance(value, str)
        and len(value) <= MAX_PATH_LENGTH
        and _SIMPLE_PATH.fullmatch(value)  # no component starts with a dot: none is "." or ".."
    ):
        _check_unusual_path(value, what)
    if value.count("/") >= MAX_PATH_DEPTH:
        raise IntegrityError(
            f"manifest {what} is deeper than {MAX_PATH_DEPTH} levels: {value[:80]!r}..."
        )
    if _RESERVED.search(value):
        raise IntegrityError(
            f"manifest {what} names a file reserved for iconctl's own use "
            f"(.iconctl*, *.iconctl-part): {value[:200]!r}"
        )
    return value


def _check_unusual_path(value: Any, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise IntegrityError(f"manifest {what} is not a non-empty string: {value!r:.200}")
    if len(value) > MAX_PATH_LENGTH:
        raise IntegrityError(f"manifest {what} is too long: {value[:80]!r}")
    if _CONTROL.search(value):
        raise IntegrityError(
            f"manifest {what} contains a control character (NUL, newline, escape, ...): "
            f"{value[:200]!r}"
        )
    if "\\" in value:
        raise IntegrityError(f"manifest {what} contains a backslash: {value[:200]!r}")
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        raise IntegrityError(f"manifest {what} is absolute: {value[:200]!r}")
    parts = value.split("/", MAX_PATH_DEPTH)
    for part in parts:
        if part in ("", ".", ".."):
            raise IntegrityError(f"manifest {what} is not a clean relative path: {value[:200]!r}")
    if any(len(p.encode()) > 255 for p in parts):
        raise IntegrityError(f"manifest {what} is too long: {value[:80]!r}")


def _int(value: Any, what: str, *, lo: int = 0, hi: int = 2**63 - 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise IntegrityError(f"manifest {what} is not an integer in [{lo}, {hi}]: {value!r}")
    return value


def parse_manifest(raw: bytes, *, expect_id: str | None = None) -> Manifest:
    """Validate an untrusted manifest; IntegrityError names the first problem found."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise IntegrityError("manifest is larger than the 512 MiB limit")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"manifest is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise IntegrityError("manifest is not a JSON object")
    if doc.get("format") != FORMAT:
        raise IntegrityError(f"not an iconctl manifest (format {doc.get('format')!r})")
    if doc.get("version") != VERSION:
        raise IntegrityError(
            f"manifest version {doc.get('version')!r} is not supported (this iconctl reads "
            f"version {VERSION}); upgrade iconctl"
        )
    if doc.get("hash") != HASH:
        raise IntegrityError(f"manifest hash {doc.get('hash')!r} is not supported")
    snapshot_id = check_snapshot_id(doc.get("id"))
    if expect_id is not None and snapshot_id != expect_id:
        raise IntegrityError(f"manifest id {snapshot_id} does not match the requested {expect_id}")
    created = doc.get("created")
    if not isinstance(created, str):
        raise IntegrityError("manifest created is not a string")
    chunk_size = _int(doc.get("chunk_size"), "chunk_size", lo=1, hi=MAX_CHUNK_SIZE)
    dirs_raw = doc.get("dirs")
    files_raw = doc.get("files")
    if not isinstance(dirs_raw, list) or not isinstance(files_raw, list):
        raise IntegrityError("manifest dirs and files must be arrays")
    source = doc.get("source") if isinstance(doc.get("source"), dict) else {}

    seen: set[str] = set()
    dirs: list[str] = []
    for d in dirs_raw:
        path = check_path(d, "directory path")
        if path in seen:
            raise IntegrityError(f"manifest repeats the path {path!r}")
        seen.add(path)
        dirs.append(path)
    files: list[FileEntry] = []
    for i, entry in enumerate(files_raw):
        if not isinstance(entry, dict):
            raise IntegrityError(f"manifest files[{i}] is not an object")
        kind = entry.get("type", "file")
        if kind != "file":
            raise IntegrityError(
                f"manifest files[{i}] has type {kind!r}: only regular files "
                "are accepted (no links or devices)"
            )
        path = check_path(entry.get("path"), f"files[{i}].path")
        if path in seen:
            raise IntegrityError(f"manifest repeats the path {path!r}")
        seen.add(path)
        size = _int(entry.get("size"), f"files[{i}].size")
        mode = _int(entry.get("mode", 0o644), f"files[{i}].mode", hi=0o7777)
        if mode & (stat.S_ISUID | stat.S_ISGID):
            raise IntegrityError(f"manifest files[{i}] asks for a setuid/setgid mode")
        mtime_ns = _int(entry.get("mtime_ns", 0), f"files[{i}].mtime_ns")
        chunks_raw = entry.get("chunks")
        if not isinstance(chunks_raw, list):
            raise IntegrityError(f"manifest files[{i}].chunks is not an array")
        chunks: list[Chunk] = []
        total = 0
        for j, c in enumerate(chunks_raw):
            if (
                not isinstance(c, list)
                or len(c) != 2
                or not isinstance(c[1], str)
                or not _HEX64.fullmatch(c[1])
            ):
                raise IntegrityError(f"manifest files[{i}].chunks[{j}] is not [size, hash]")
            csize = _int(c[0], f"files[{i}].chunks[{j}] size", lo=1, hi=MAX_CHUNK_SIZE)
            total += csize
            chunks.append(Chunk(csize, c[1]))
        if total != size:
            raise IntegrityError(
                f"manifest files[{i}] chunks add up to {total} bytes, not its size {size}"
            )
        files.append(FileEntry(path, size, mode, mtime_ns, chunks))

    # A file may not sit where another entry needs a directory (a/b file and a/b/c file).
    file_paths = {f.path for f in files}
    for path in [*dirs, *file_paths]:
        parts = path.split("/")
        for k in range(1, len(parts)):
            if "/".join(parts[:k]) in file_paths:
                raise IntegrityError(
                    f"manifest path {path!r} lies under the file {'/'.join(parts[:k])!r}"
                )
    return Manifest(snapshot_id, created, chunk_size, dirs, files, source)


def encode_latest(manifest_id: str, manifest_bytes: bytes, created: str) -> bytes:
    return json.dumps(
        {
            "format": "iconctl-sync-latest",
            "version": VERSION,
            "id": manifest_id,
            "created": created,
            "manifest_blake3": hash_bytes(manifest_bytes),
        },
        sort_keys=True,
    ).encode()


def parse_latest(raw: bytes) -> tuple[str, str]:
    """(snapshot id, manifest hash) from the ``latest`` pointer; IntegrityError if malformed."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise IntegrityError("the store's latest pointer is not valid JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != "iconctl-sync-latest":
        raise IntegrityError("the store's latest pointer is not an iconctl pointer")
    digest = doc.get("manifest_blake3")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise IntegrityError("the store's latest pointer has no valid manifest hash")
    return check_snapshot_id(doc.get("id")), digest
