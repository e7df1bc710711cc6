"""The http store's own HTTP/1.1 client against a scripted server on loopback (every answer
shape a static server or CDN may give), and the restore's two ways of writing chunks."""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from iconctl.errors import IconctlError, IntegrityError, RemoteFailed
from iconctl.sync.manifest import chunk_key
from iconctl.sync.restore import O_DIRECT, PART_PREFIX, restore_snapshot
from iconctl.sync.snapshot import create_snapshot
from iconctl.sync.store import HttpStore, NotFound, RetryPolicy, TooLarge, open_store
from tests.helpers.sync import chain_tree, http_server, make_data_dir

pytestmark = pytest.mark.timeout(120)

BODY = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4 bytes


def _head(length: int | None, *, extra: str = "", status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def _chunked(body: bytes, piece: int = 100_000) -> bytes:
    out = bytearray(_head(None, extra="Transfer-Encoding: chunked\r\n"))
    for i in range(0, len(body), piece):
        part = body[i : i + piece]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    return bytes(out + b"0\r\n\r\n")


class Scripted:
    """A loopback server: ``answer(conn, path, count)`` handles one request and returns
    False to close the connection. Counts connections and requests."""

    def __init__(self, answer: Callable[[socket.socket, str, int], bool]) -> None:
        self.answer = answer
        self.connections = 0
        self.requests = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # the client may reset the connection
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    got = conn.recv(65536)
                    if not got:
                        return
                    data += got
                head, _, data = data.partition(b"\r\n\r\n")
                path = head.split(b" ")[1].decode()
                with self.lock:
                    self.requests += 1
                    count = self.requests
                if not self.answer(conn, path, count):
                    return

    def close(self) -> None:
        self.sock.close()


@contextlib.contextmanager
def scripted(answer):
    server = Scripted(answer)
    try:
        # a short retry deadline: the scripted failures never pass
        policy = RetryPolicy(timeout=5, deadline=1, base=0.01, cap=0.05)
        yield server, HttpStore(f"http://127.0.0.1:{server.port}/base", policy=policy)
    finally:
        server.close()


def test_content_length_body_in_small_pieces_on_one_keep_alive_connection():
    def answer(conn, path, count):
        assert path == "/base/chunks/ab/x"
        payload = _head(len(BODY)) + BODY
        for i in range(0, len(payload), 7_001):  # short reads everywhere, the head split too
            conn.sendall(payload[i : i + 7_001])
        return True

    with scripted(answer) as (server, store):
        buf = mmap.mmap(-1, 2 * 1024 * 1024)
        for _ in range(3):
            view = store.get_into("chunks/ab/x", buf)
            assert bytes(view) == BODY
            assert view.obj is buf  # received into the caller's buffer, no copy
            del view
        assert server.connections == 1 and server.requests == 3


def test_chunked_answer_goes_through_the_general_client():
    def answer(conn, path, count):
        conn.sendall(_chunked(BODY))
        return True

    with scripted(answer) as (server, store):
        buf = bytearray(2 * 1024 * 1024)
        assert bytes(store.get_into("k", buf)) == BODY
        assert bytes(store.get_into("k", buf)) == BODY


def test_server_closing_keep_alive_connections_is_retried_on_a_new_one():
    def answer(conn, path, count):
        if count % 2 == 0:
            return False  # closes without answering: a keep-alive timeout on the server
        conn.sendall(_head(len(BODY), extra="Connection: close\r\n" * (count % 3 == 0)) + BODY)
        return count % 5 != 0

    with scripted(answer) as (server, store):
        buf = bytearray(2 * 1024 * 1024)
        for _ in range(5):
            assert bytes(store.get_into("k", buf)) == BODY
        assert server.connections >= 3


def test_the_retry_policy_is_the_only_retry():
    """A keep-alive connection the server closed is a failed attempt like any other: with
    no retries allowed, the request fails instead of being tried again on its own."""

    def answer(conn, path, count):
        if count == 2:
            return False  # closes the kept-alive connection without answering
        conn.sendall(_head(len(BODY)) + BODY)
        return True

    server = Scripted(answer)
    try:
        store = HttpStore(
            f"http://127.0.0.1:{server.port}/base", policy=RetryPolicy(timeout=5, deadline=0)
        )
        buf = bytearray(2 * 1024 * 1024)
        assert bytes(store.get_into("k", buf)) == BODY
        with pytest.raises(RemoteFailed, match="gave up after"):
            store.get_into("k", buf)
        assert server.requests == 2
        assert bytes(store.get_into("k", buf)) == BODY  # a new connection for the next one
    finally:
        server.close()


def test_body_cut_short_is_retried_then_reported():
    def answer(conn, path, count):
        conn.sendall(_head(len(BODY)) + BODY[:1000])
        return False

    with scripted(answer) as (server, store), pytest.raises(RemoteFailed) as info:
        store.get_into("k", bytearray(2 * 1024 * 1024))
    line = info.value.lines()[0]
    assert "closed mid-body" in line and "gave up after" in line
    assert server.requests >= 3  # retried on new connections until the deadline


def test_404_is_not_found_and_the_connection_stays_usable():
    def answer(conn, path, count):
        if path.endswith("/missing"):
            conn.sendall(_head(9, status="404 Not Found") + b"not found")
        else:
            conn.sendall(_head(len(BODY)) + BODY)
        return True

    with scripted(answer) as (_server, store):
        buf = bytearray(2 * 1024 * 1024)
        with pytest.raises(NotFound):
            store.get_into("missing", buf)
        assert bytes(store.get_into("k", buf)) == BODY


def test_redirect_is_not_followed_by_either_path():
    def answer(conn, path, count):
        conn.sendall(_head(0, status="301 Moved Permanently", extra="Location: /x\r\n"))
        return True

    with scripted(answer) as (_server, store), pytest.raises(RemoteFailed) as info:
        store.get_into("k", bytearray(16))
    assert "HTTP 301" in info.value.lines()[0]


@pytest.mark.parametrize("chunked", [False, True])
def test_answer_larger_than_the_buffer_is_refused_without_growing_it(chunked):
    def answer(conn, path, count):
        conn.sendall(_chunked(BODY) if chunked else _head(len(BODY)) + BODY)
        return True

    with scripted(answer) as (_server, store):
        buf = mmap.mmap(-1, 4096)
        with pytest.raises(TooLarge):
            store.get_into("k", buf)
        assert len(buf) == 4096


def test_bad_content_length_falls_back_to_the_general_client():
    def answer(conn, path, count):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\nxyz")
        return False

    # http.client reads such a body to the end of the connection; the restore then checks
    # the size and the hash as for any other answer
    with scripted(answer) as (server, store):
        assert bytes(store.get_into("k", bytearray(16))) == b"xyz"
        assert server.requests == 2  # the fast path gave up on it at once


def _snapshot(tmp_path: Path):
    node = make_data_dir(tmp_path / "node", tables=6, table_size=1024 * 1024 + 123)
    store_dir = tmp_path / "store"
    first = create_snapshot(node, open_store(str(store_dir)))
    # appending makes chunks that start at unaligned offsets (the base's short last chunk
    # is kept as it is)
    with open(node / "data/1/000004.log", "ab") as f:
        f.write(os.urandom(5 * 1024 * 1024 + 17))
    second = create_snapshot(node, open_store(str(store_dir)))
    return node, store_dir, first, second


def test_restore_over_http_with_a_wrong_or_oversized_chunk_exits_6(tmp_path: Path, iconctl):
    node, store_dir, _, second = _snapshot(tmp_path)
    from iconctl.sync.catalog import load_manifest

    entry = next(
        f
        for f in load_manifest(open_store(str(store_dir)), second.id).files
        if f.path == "data/1/000005.ldb"
    )
    chunk = store_dir / chunk_key(entry.chunks[0].digest)
    good = chunk.read_bytes()
    with http_server(store_dir) as base:
        chunk.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
        res = iconctl("sync", "restore", "--store", base, "--data-dir", str(tmp_path / "t"))
        assert res.returncode == 6 and "does not match its hash" in res.stderr
        assert not (tmp_path / "t/data/1/000005.ldb").exists()
        chunk.write_bytes(good + b"x" * (8 * 1024 * 1024))  # larger than any chunk
        res = iconctl("sync", "restore", "--store", base, "--data-dir", str(tmp_path / "u"))
        assert res.returncode == 6 and "expected" in res.stderr, res.stderr
        assert not (tmp_path / "u/data/1/000005.ldb").exists()
        chunk.write_bytes(good)
        res = iconctl("sync", "verify", "--store", base)
        assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("direct_io", [True, False])
def test_direct_and_buffered_writes_restore_the_same_bytes(tmp_path: Path, direct_io):
    node, store_dir, _, _ = _snapshot(tmp_path)
    with http_server(store_dir) as base:
        restore_snapshot(open_store(base), tmp_path / "t", direct_io=direct_io, durable=False)
    assert chain_tree(tmp_path / "t") == chain_tree(node)
    assert not list((tmp_path / "t").rglob(f"{PART_PREFIX}*"))


def test_filesystem_without_direct_io_falls_back_to_the_page_cache(tmp_path, monkeypatch):
    node, store_dir, _, _ = _snapshot(tmp_path)
    real_open = os.open
    refused = []

    def no_direct(path, flags, *args, **kwargs):
        if flags & O_DIRECT:
            refused.append(path)
            raise OSError(errno.EINVAL, "Invalid argument", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_direct)
    restore_snapshot(open_store(str(store_dir)), tmp_path / "t", direct_io=True, workers=1)
    assert len(refused) == 1  # asked once, then buffered for the rest of the run
    assert chain_tree(tmp_path / "t") == chain_tree(node)


def test_other_write_errors_are_not_swallowed(tmp_path, monkeypatch):
    _, store_dir, _, _ = _snapshot(tmp_path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(IconctlError, match="No space"):
        restore_snapshot(open_store(str(store_dir)), tmp_path / "t", direct_io=True)
    assert not (tmp_path / "t/data/1/000005.ldb").exists()


def test_oversized_chunk_in_a_file_store_is_an_integrity_error(tmp_path: Path):
    _, store_dir, _, second = _snapshot(tmp_path)
    from iconctl.sync.catalog import load_manifest

    entry = next(
        f
        for f in load_manifest(open_store(str(store_dir)), second.id).files
        if f.path == "data/1/000006.ldb"
    )
    chunk = store_dir / chunk_key(entry.chunks[0].digest)
    chunk.write_bytes(chunk.read_bytes() + b"x" * (8 * 1024 * 1024))
    with pytest.raises(IntegrityError, match="expected"):
        restore_snapshot(open_store(str(store_dir)), tmp_path / "t")
