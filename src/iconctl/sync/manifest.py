"""The snapshot format: store layout, the manifest, content hashes, snapshot ids.

See docs/sync-format.md. A manifest read from a store is untrusted input: ``parse_manifest``
checks every field and every path before anything touches the disk, and raises
IntegrityError (exit 6) for anything it does not accept.
"""

from __future__ import annotations

import codecs
import gc
import json
import re
import secrets
import stat
from collections.abc import Iterator
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


def check_snapshot_id(value: object) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise IntegrityError(
            f"invalid snapshot id {value!r} (expected YYYYMMDDTHHMMSS.mmmZ-xxxxxxxx)"
        )
    return value


# slots: a mainnet manifest has ~10^5 entries, a hostile one up to millions (docs/sync.md)
@dataclass(frozen=True, slots=True)
class Chunk:
    size: int
    digest: str


@dataclass(slots=True)
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
    # Set when parsed without keeping the entries (parse_manifest keep="chunks"/"totals").
    file_count: int | None = None
    byte_count: int | None = None
    chunk_sizes: dict[str, int] | None = None

    @property
    def total_files(self) -> int:
        return self.file_count if self.file_count is not None else len(self.files)

    @property
    def total_bytes(self) -> int:
        return self.byte_count if self.byte_count is not None else sum(f.size for f in self.files)

    def digests(self) -> set[str]:
        if self.chunk_sizes is not None:
            return set(self.chunk_sizes)
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


_WINDOW = 1 << 20
_INT_MAX = 2**63 - 1
_MODES: dict[int, int] = {}
_ARRAY = object()  # stands in the header for the dirs and files arrays, read element-wise


class _Stream:
    """A JSON document held as UTF-8 bytes, decoded a window at a time, so that walking a
    huge array never holds more than the bytes, one window of text and the element at hand
    (``json.loads`` would build the whole tree: ~1 KiB per manifest entry)."""

    def __init__(self, raw: bytes) -> None:
        self.raw = memoryview(raw)
        self.fed = 0
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.json = json.JSONDecoder()
        self.text = ""
        self.i = 0

    def _more(self) -> bool:
        if self.fed >= len(self.raw):
            return False
        step = max(_WINDOW, 2 * (len(self.text) - self.i))  # doubles for a large element
        piece = self.raw[self.fed : self.fed + step]
        self.fed += len(piece)
        self.text = self.text[self.i :] + self.decoder.decode(piece, self.fed >= len(self.raw))
        self.i = 0
        return True

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end), not consumed."""
        while True:
            text, i = self.text, self.i
            while i < len(text) and text[i] in " \t\n\r":
                i += 1
            self.i = i
            if i < len(text):
                return text[i]
            if not self._more():
                return ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise ValueError(f"expected {char!r} at byte {self.fed - len(self.text) + self.i}")
        self.i += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = self.json.raw_decode(self.text, self.i)
            except json.JSONDecodeError:
                if self._more():
                    continue  # cut off by the window
                raise
            if end == len(self.text) and self._more():
                continue  # a number at the window's edge may go on
            self.i = end
            return value

    def items(self) -> Iterator[Any]:
        """The elements of the array that starts here, one at a time."""
        self.expect("[")
        if self.peek() == "]":
            self.i += 1
            return
        decode = self.json.raw_decode
        while True:
            # the common case inline: a whole element in the window, then "," or "]"
            text, i = self.text, self.i
            try:
                value, end = decode(text, i)
            except json.JSONDecodeError:
                value, end = _CUT, -1
            if value is _CUT or end >= len(text) - 1:
                value = self.value()  # cut by the window's edge, or whitespace: the slow way
            else:
                self.i = end
            yield value
            char = self.text[self.i] if self.i < len(self.text) else self.peek()
            if char == ",":
                self.i += 1
                if self.i < len(self.text) and self.text[self.i] in " \t\n\r":
                    self.peek()
                continue
            self.expect("]")
            return


_CUT = object()


class _Entries:
    """Checks manifest entries one at a time and keeps what the caller asked for."""

    def __init__(self, keep: str) -> None:
        self.keep = keep
        self.seen: set[str] = set()
        self.file_paths: set[str] = set()
        self.dirs: list[str] = []
        self.files: list[FileEntry] = []
        self.file_count = 0
        self.byte_count = 0
        self.chunk_sizes: dict[str, int] = {}

    def add_dir(self, d: Any) -> None:
        path = check_path(d, "directory path")
        if path in self.seen:
            raise IntegrityError(f"manifest repeats the path {path!r}")
        self.seen.add(path)
        self.dirs.append(path)

    def add_file(self, i: int, entry: Any) -> None:
        if not isinstance(entry, dict):
            raise IntegrityError(f"manifest files[{i}] is not an object")
        kind = entry.get("type", "file")
        if kind != "file":
            raise IntegrityError(
                f"manifest files[{i}] has type {kind!r:.40}: only regular files "
                "are accepted (no links or devices)"
            )
        path = check_path(entry.get("path"), f"files[{i}].path")
        if path in self.seen:
            raise IntegrityError(f"manifest repeats the path {path!r}")
        self.seen.add(path)
        self.file_paths.add(path)
        size = entry.get("size")
        if type(size) is not int or not 0 <= size <= _INT_MAX:
            _int(size, f"files[{i}].size")
        mode = entry.get("mode", 0o644)
        if type(mode) is not int or not 0 <= mode <= 0o7777:
            _int(mode, f"files[{i}].mode", hi=0o7777)
        if mode & (stat.S_ISUID | stat.S_ISGID):
            raise IntegrityError(f"manifest files[{i}] asks for a setuid/setgid mode")
        mode = _MODES.setdefault(mode, mode)  # a few distinct values: one int object each
        mtime_ns = entry.get("mtime_ns", 0)
        if type(mtime_ns) is not int or not 0 <= mtime_ns <= _INT_MAX:
            _int(mtime_ns, f"files[{i}].mtime_ns")
        chunks_raw = entry.get("chunks")
        if not isinstance(chunks_raw, list):
            raise IntegrityError(f"manifest files[{i}].chunks is not an array")
        chunks: list[Chunk] = []
        total = 0
        chunk_size = CHUNK_SIZE
        for j, c in enumerate(chunks_raw):
            if (
                type(c) is not list
                or len(c) != 2
                or type(c[1]) is not str
                or not _HEX64.fullmatch(c[1])
            ):
                raise IntegrityError(f"manifest files[{i}].chunks[{j}] is not [size, hash]")
            csize = c[0]
            if type(csize) is not int or not 1 <= csize <= MAX_CHUNK_SIZE:
                _int(csize, f"files[{i}].chunks[{j}] size", lo=1, hi=MAX_CHUNK_SIZE)
            if csize == chunk_size:
                csize = chunk_size  # the usual size: one shared int object
            total += csize
            if self.keep == "files":
                chunks.append(Chunk(csize, c[1]))
            elif self.keep == "chunks":
                self.chunk_sizes[c[1]] = csize
        if total != size:
            raise IntegrityError(
                f"manifest files[{i}] chunks add up to {total} bytes, not its size {size}"
            )
        self.file_count += 1
        self.byte_count += size
        if self.keep == "files":
            self.files.append(FileEntry(path, size, mode, mtime_ns, chunks))

    def check_nesting(self) -> None:
        """A file may not sit where another entry needs a directory (a/b file, a/b/c file).
        Each distinct parent directory is looked at once."""
        parents: set[str] = set()
        for path in self.seen:
            parent = path
            while "/" in parent:
                parent = parent.rsplit("/", 1)[0]
                if parent in parents:
                    break
                parents.add(parent)
        clash = parents & self.file_paths
        if clash:
            top = min(clash)
            under = next(p for p in sorted(self.seen) if p.startswith(top + "/"))
            raise IntegrityError(f"manifest path {under!r} lies under the file {top!r}")


def parse_manifest(raw: bytes, *, expect_id: str | None = None, keep: str = "files") -> Manifest:
    """Validate an untrusted manifest; IntegrityError names the first problem found.

    Entries are read and checked one at a time (never the whole JSON tree at once). ``keep``
    says what the caller needs: "files" (every entry, for restores and snapshots), "chunks"
    (only each chunk's size by hash, for verify and prune) or "totals" (counts, for list);
    every entry is checked the same way in each case."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise IntegrityError("manifest is larger than the 512 MiB limit")
    # Millions of small acyclic objects: the cycle collector would walk them all again and
    # again as they accumulate (a third of the parse time at 10^6 entries), and finds nothing.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse(raw, expect_id, keep)
    finally:
        if enabled:
            gc.enable()


def _parse(raw: bytes, expect_id: str | None, keep: str) -> Manifest:
    stream = _Stream(raw)
    entries = _Entries(keep)
    header: dict[str, Any] = {}
    # An entry's problem is reported after the header's: a manifest of another version is
    # "not supported", not a list of whatever its entries look like to this version.
    deferred: IntegrityError | None = None
    try:
        if stream.peek() != "{":
            raise IntegrityError("manifest is not a JSON object")
        stream.expect("{")
        first = True
        while stream.peek() != "}":
            if not first:
                stream.expect(",")
            first = False
            key = stream.value()
            if not isinstance(key, str):
                raise ValueError("object key is not a string")
            stream.expect(":")
            if key in header:
                raise IntegrityError(f"manifest repeats the key {key!r:.40}")
            if key in ("dirs", "files") and stream.peek() == "[":
                header[key] = _ARRAY
                for i, item in enumerate(stream.items()):
                    if deferred is not None:
                        continue
                    try:
                        if key == "dirs":
                            entries.add_dir(item)
                        else:
                            entries.add_file(i, item)
                    except IntegrityError as exc:
                        deferred = exc
            else:
                header[key] = stream.value()
        stream.i += 1
        if stream.peek() != "":
            raise ValueError("extra data after the manifest")
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"manifest is not valid JSON: {exc}") from None

    if header.get("format") != FORMAT:
        raise IntegrityError(f"not an iconctl manifest (format {header.get('format')!r:.80})")
    if header.get("version") != VERSION:
        raise IntegrityError(
            f"manifest version {header.get('version')!r:.40} is not supported (this iconctl "
            f"reads version {VERSION}); upgrade iconctl"
        )
    if header.get("hash") != HASH:
        raise IntegrityError(f"manifest hash {header.get('hash')!r:.40} is not supported")
    snapshot_id = check_snapshot_id(header.get("id"))
    if expect_id is not None and snapshot_id != expect_id:
        raise IntegrityError(f"manifest id {snapshot_id} does not match the requested {expect_id}")
    created = header.get("created")
    if not isinstance(created, str):
        raise IntegrityError("manifest created is not a string")
    chunk_size = _int(header.get("chunk_size"), "chunk_size", lo=1, hi=MAX_CHUNK_SIZE)
    if header.get("dirs") is not _ARRAY or header.get("files") is not _ARRAY:
        raise IntegrityError("manifest dirs and files must be arrays")
    if deferred is not None:
        raise deferred
    source = header["source"] if isinstance(header.get("source"), dict) else {}
    entries.check_nesting()
    manifest = Manifest(snapshot_id, created, chunk_size, entries.dirs, entries.files, source)
    if keep != "files":
        manifest.file_count = entries.file_count
        manifest.byte_count = entries.byte_count
        if keep == "chunks":
            manifest.chunk_sizes = entries.chunk_sizes
    return manifest


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
