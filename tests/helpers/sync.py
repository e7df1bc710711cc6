"""Helpers shared by the sync tests: chain-like data directories, servers on loopback."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import free_port, need_tool
from tests.helpers.net import listening

# A tiny HTTP server that serves a directory slowly, to catch a restore in the middle.
SLOW_SERVER = r"""
import functools, http.server, sys, time
delay = float(sys.argv[3])
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        time.sleep(delay)
        super().do_GET()
h = functools.partial(H, directory=sys.argv[2])
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), h).serve_forever()
"""


def make_data_dir(
    root: Path, tables: int = 12, table_size: int = 2 * 1024 * 1024, seed: int = 1
) -> Path:
    """A goloop-like data directory: immutable .ldb tables, a growing .log, MANIFEST, CURRENT,
    plus files a snapshot must leave out (auth.json, rconfig.json)."""
    chain = root / "data" / "1"
    chain.mkdir(parents=True)
    for i in range(tables):
        (chain / f"{i + 5:06d}.ldb").write_bytes(_bytes(table_size, seed * 1000 + i))
    (chain / "000004.log").write_bytes(_bytes(300_000, seed * 1000 + 999))
    (chain / "MANIFEST-000002").write_bytes(_bytes(5_000, seed * 1000 + 998))
    (chain / "CURRENT").write_text("MANIFEST-000002\n")
    (chain / "empty.ldb").write_bytes(b"")
    (root / "auth.json").write_text('{"secret": "not chain data"}')
    (root / "rconfig.json").write_text("{}")
    return root


def _bytes(n: int, seed: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.blake2b(f"{seed}:{counter}".encode(), digest_size=64).digest() * 64
        counter += 1
    return bytes(out[:n])


def tree(root: Path, skip_prefix: str = ".iconctl") -> dict[str, bytes]:
    """Relative path -> content of every regular file, iconctl's own markers left out."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.name.startswith(skip_prefix):
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def chain_tree(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in tree(root).items() if k.startswith("data/")}


@contextlib.contextmanager
def http_server(directory: Path, delay: float = 0.0):
    """A real HTTP server process on loopback serving ``directory``; yields its base URL."""
    with script_server(SLOW_SERVER, str(directory), str(delay)) as url:
        yield url


@contextlib.contextmanager
def script_server(script: str, *args: str):
    """A Python server script run as its own process on a free loopback port (its first
    argument); yields its base URL."""
    port = free_port()
    with listening([sys.executable, "-c", script, str(port), *args], port):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def moto_server():
    """moto's S3 server as a real process on loopback; yields the environment to use it."""
    with moto_process("us-east-1") as (env, _):
        yield env


@contextlib.contextmanager
def moto_process(region: str, server_env: dict[str, str] | None = None):
    """moto's server (every AWS API it mocks) as a real process on loopback, its environment
    set in this process while it runs; yields (environment, process). server_env adds to the
    server's own environment (MOTO_AMIS_PATH, ...)."""
    beside = Path(sys.executable).parent / "moto_server"  # installed with the test extra
    tool = str(beside) if beside.exists() else need_tool("moto_server")["moto_server"]
    port = free_port()
    argv = [tool, "-H", "127.0.0.1", "-p", str(port)]
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
    }
    saved = {k: os.environ.get(k) for k in env}
    with listening(argv, port, env={**os.environ, **(server_env or {})}) as proc:
        try:
            os.environ.update(env)
            yield env, proc
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def create_bucket(env: dict[str, str], name: str) -> None:
    import boto3

    boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=name)


@contextlib.contextmanager
def nginx_server(root: Path, work: Path):
    """nginx on loopback serving ``root`` as static files; yields its base URL."""
    nginx = need_tool("nginx")["nginx"]
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    user = "user root;" if os.geteuid() == 0 else ""
    conf = work / "nginx.conf"
    conf.write_text(f"""
{user}
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  sendfile on;
  default_type application/octet-stream;
  client_body_temp_path {work}/body;
  proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi;
  uwsgi_temp_path {work}/uwsgi;
  scgi_temp_path {work}/scgi;
  server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
""")
    argv = [nginx, "-p", str(work), "-c", str(conf), "-e", str(work / "error.log"),
            "-g", "daemon off;"]  # fmt: skip
    with listening(argv, port):
        yield f"http://127.0.0.1:{port}"


TLS_SERVER = r"""
import functools, http.server, ssl, sys
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
h = functools.partial(H, directory=sys.argv[2])
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), h)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"""


@contextlib.contextmanager
def https_server(directory: Path, work: Path):
    """An HTTPS server on loopback with a fresh self-signed certificate for 127.0.0.1;
    yields (base URL, path of the certificate to trust)."""
    openssl = need_tool("openssl")["openssl"]
    work.mkdir(parents=True, exist_ok=True)
    cert, key = work / "cert.pem", work / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    argv = [sys.executable, "-c", TLS_SERVER, str(port), str(directory), str(cert), str(key)]
    with listening(argv, port):
        yield f"https://127.0.0.1:{port}", cert
