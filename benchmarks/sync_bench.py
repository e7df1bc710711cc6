"""Fast sync benchmark: iconctl restore against the official and archive methods.

Generates chain-like data (a real LevelDB written with plyvel, plus ~2 MiB immutable table
files of incompressible bytes up to --size-mib), snapshots it into a file store, serves
everything with nginx on loopback, and times on the same data, in one run:

  (a) iconctl restore from the http store (and, for information, from file:// and moto's S3);
  (b) the official method: aria2c over the file list, then a sha256 pass;
  (c) a tar.zst downloaded then extracted, the streaming curl | zstd -d | tar x, and a zip
      downloaded then unzipped;
  (d) the limit: plain parallel GETs (curl --parallel --parallel-max 16), no verification.

It then measures snapshots: bytes uploaded vs bytes changed, the node pause vs file count, and
a no-change snapshot. Needs nginx, aria2c, curl, zstd, tar, zip/unzip, sha256sum on PATH and
plyvel in the environment. Usage:

  python benchmarks/sync_bench.py --size-mib 256
  python benchmarks/sync_bench.py --size-mib 1024 --repeat 3 --json results.json
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from iconctl.sync.snapshot import create_snapshot  # noqa: E402
from iconctl.sync.store import open_store  # noqa: E402
from tests.helpers import free_port, wait_port  # noqa: E402

MIB = 1024 * 1024
TABLE = 2 * MIB


# --- data -------------------------------------------------------------------------------------


def generate(data: Path, size_mib: int, leveldb_mib: int) -> dict:
    """A goloop-like data dir: data/1 holds a real LevelDB (ICON-like keys: a 1-byte bucket
    prefix and a 32-byte hash; values of RLP-ish bytes), plus synthetic tables."""
    import plyvel

    chain = data / "data" / "1"
    chain.mkdir(parents=True)
    db = plyvel.DB(
        str(chain), create_if_missing=True, write_buffer_size=4 * MIB, compression="snappy"
    )
    written = 0
    i = 0
    rnd = os.urandom
    with db.write_batch() as batch:
        while written < leveldb_mib * MIB:
            key = bytes([0x10 + i % 6]) + hashlib.sha256(i.to_bytes(8, "big")).digest()
            value = b"\xf8" + (i % 251).to_bytes(1, "big") + rnd(90 + i % 300)
            batch.put(key, value)
            written += len(key) + len(value)
            i += 1
    db.close()
    leveldb_keys = i
    have = sum(p.stat().st_size for p in chain.iterdir() if p.is_file())
    n = 900000
    block = os.urandom(TABLE + 4096)
    while have < size_mib * MIB:
        size = min(TABLE, size_mib * MIB - have)
        # distinct, incompressible contents (like snappy-compressed tables) without paying for
        # os.urandom per file: a random offset into one random block plus a unique header
        off = int.from_bytes(os.urandom(2), "big") % 4096
        (chain / f"{n:06d}.ldb").write_bytes(n.to_bytes(8, "big") + block[off : off + size - 8])
        have += size
        n += 1
    files = [p for p in data.rglob("*") if p.is_file()]
    return {
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "leveldb_keys": leveldb_keys,
    }


def tree_digest(root: Path) -> str:
    h = hashlib.blake2b()
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.name.startswith(".iconctl"):
            h.update(p.relative_to(root).as_posix().encode())
            with open(p, "rb") as f:
                while chunk := f.read(4 * MIB):
                    h.update(chunk)
    return h.hexdigest()


# --- measuring --------------------------------------------------------------------------------


class DiskPeak:
    """Peak of the bytes allocated under some directories, sampled every 50 ms."""

    def __init__(self, *dirs: Path) -> None:
        self.dirs = dirs
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _size(self) -> int:
        total = 0
        for d in self.dirs:
            for dirpath, _dirs, names in os.walk(d):
                for name in names:
                    with contextlib.suppress(FileNotFoundError):
                        total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._size())

    def __enter__(self) -> DiskPeak:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.final = self._size()
        self.peak = max(self.peak, self.final)


def timed(argv: list[str] | str, *, env: dict | None = None, shell: bool = False) -> tuple:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(argv, shell=shell, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if res.returncode != 0:
        raise RuntimeError(f"{argv} failed ({res.returncode}): {res.stderr[-2000:]}")
    return wall, cpu, res.stdout


# --- nginx ------------------------------------------------------------------------------------


def start_nginx(work: Path, www: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    conf = work / "nginx.conf"
    conf.write_text(f"""
user root;
worker_processes 2;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  default_type application/octet-stream;
  types {{ }}
  server {{ listen 127.0.0.1:{port}; root {www}; }}
}}
""")
    proc = subprocess.Popen(
        [
            "nginx",
            "-p",
            str(work),
            "-c",
            str(conf),
            "-e",
            str(work / "nginx-error.log"),
            "-g",
            "daemon off;",
        ]
    )
    wait_port(port)
    return proc, port


# --- the methods ------------------------------------------------------------------------------


def method_iconctl(
    store_url: str, target: Path, env: dict | None = None, fsync: bool = False
) -> tuple:
    """``iconctl sync restore``; ``env`` may point PYTHONPATH at another checkout's src."""
    argv = [
        sys.executable,
        "-m",
        "iconctl",
        "sync",
        "restore",
        "--store",
        store_url,
        "--data-dir",
        str(target),
        "--json",
    ]
    if not fsync:
        argv.append("--no-fsync")
    return timed(argv, env=env)


def method_official(base: str, rel_files: list[str], sums: Path, target: Path, work: Path) -> tuple:
    lst = work / "file_list.txt"
    lst.write_text("".join(f"{base}/files/{r}\n  out={r}\n" for r in rel_files))
    w1, c1, _ = timed(
        [
            "aria2c",
            "-i",
            str(lst),
            "-d",
            str(target),
            "-V",
            "-j10",
            "-x8",
            "--http-accept-gzip",
            "--disk-cache=64M",
            "-c",
            "-q",
            "--allow-overwrite=true",
            "--auto-file-renaming=false",
        ]
    )
    w2, c2, _ = timed(["bash", "-c", f"cd {target} && sha256sum --quiet -c {sums}"])
    return w1 + w2, c1 + c2, ""


def method_tar_then_extract(base: str, target: Path, work: Path) -> tuple:
    archive = work / "dl" / "data.tar.zst"
    archive.parent.mkdir(exist_ok=True)
    script = (
        f"curl -sf -o {archive} {base}/data.tar.zst && zstd -d -q -c {archive} | "
        f"tar -x -C {target} && rm -f {archive}"
    )
    return timed(["bash", "-o", "pipefail", "-c", script])


def method_tar_stream(base: str, target: Path) -> tuple:
    script = f"curl -sf {base}/data.tar.zst | zstd -d -q | tar -x -C {target}"
    return timed(["bash", "-o", "pipefail", "-c", script])


def method_zip(base: str, target: Path, work: Path) -> tuple:
    archive = work / "dl" / "data.zip"
    archive.parent.mkdir(exist_ok=True)
    script = (
        f"curl -sf -o {archive} {base}/data.zip && unzip -q {archive} -d {target} && "
        f"rm -f {archive}"
    )
    return timed(["bash", "-c", script])


def method_limit(base: str, rel_files: list[str], target: Path, work: Path) -> tuple:
    cfg = work / "curl.cfg"
    cfg.write_text(
        "".join(f'url = "{base}/files/{r}"\noutput = "{target}/{r}"\n' for r in rel_files)
    )
    return timed(
        ["curl", "-sf", "--create-dirs", "--parallel", "--parallel-max", "16", "-K", str(cfg)]
    )


# --- snapshots --------------------------------------------------------------------------------


def snapshot_figures(work: Path, data: Path) -> dict:
    out: dict = {}
    store = open_store(str(work / "snapstore"))
    create_snapshot(data, store)
    chain = data / "data" / "1"
    # change: append to the write-ahead log and MANIFEST, add 16 tables, drop 8
    changed = 0
    logs = sorted(chain.glob("*.log")) + sorted(chain.glob("MANIFEST-*"))
    for p in logs:
        extra = os.urandom(512 * 1024)
        with open(p, "ab") as f:
            f.write(extra)
        changed += len(extra)
    for k in range(16):
        (chain / f"{800000 + k:06d}.ldb").write_bytes(os.urandom(TABLE))
        changed += TABLE
    for p in sorted(chain.glob("9*.ldb"))[:8]:
        p.unlink()
    r = create_snapshot(data, store)
    out["incremental"] = {
        "bytes_changed": changed,
        "bytes_uploaded": r.bytes_uploaded,
        "ratio": round(r.bytes_uploaded / changed, 4),
        "allowed": round(1.05 * changed + MIB),
    }
    # pause vs file count, and a no-change snapshot of 10k files
    for count in (10_000, 100_000):
        d = work / f"many-{count}"
        sub = d / "data" / "1"
        sub.mkdir(parents=True)
        payload = os.urandom(1024)
        for k in range(count):
            (sub / f"{k:07d}.ldb").write_bytes(k.to_bytes(8, "big") + payload)
        (sub / "000001.log").write_bytes(os.urandom(64 * 1024))
        s = open_store(str(work / f"store-many-{count}"))
        first = create_snapshot(d, s)
        t0 = time.perf_counter()
        again = create_snapshot(d, s)
        nochange = time.perf_counter() - t0
        out[f"files_{count}"] = {
            "pause_seconds_first": round(first.pause_seconds, 3),
            "pause_seconds_nochange": round(again.pause_seconds, 3),
            "first_snapshot_seconds": round(first.duration_seconds, 2),
            "nochange_snapshot_seconds": round(nochange, 3),
            "nochange_bytes_uploaded": again.bytes_uploaded,
        }
        shutil.rmtree(d)
        shutil.rmtree(work / f"store-many-{count}")
    return out


# --- transfer clients compared (for docs/sync-transfer.md) -------------------------------------


def compare_clients(
    base_http: str, keys: list[str], s3_env: dict | None, workers: int = 16
) -> dict:
    """GET every chunk once with each client, keeping bytes in memory (no disk, no hashing)."""
    from concurrent.futures import ThreadPoolExecutor

    from iconctl.sync.store import HttpStore

    results: dict = {}
    total = 0

    def run(name, fn):
        nonlocal total
        t0 = time.perf_counter()
        c0 = time.process_time()
        got = fn()
        results[name] = {
            "seconds": round(time.perf_counter() - t0, 3),
            "cpu_seconds": round(time.process_time() - c0, 3),
            "MiB": round(got / MIB, 1),
        }
        total = got

    store = HttpStore(f"{base_http}/store")

    def http_client():
        def one(k):
            buf = bytearray(4 * MIB)
            return len(store.get_into(k, buf))

        with ThreadPoolExecutor(workers) as pool:
            return sum(pool.map(one, keys))

    run("iconctl http store (threads)", http_client)

    import urllib3

    pm = urllib3.PoolManager(maxsize=workers)

    def urllib3_client():
        def one(k):
            return len(pm.request("GET", f"{base_http}/store/{k}").data)

        with ThreadPoolExecutor(workers) as pool:
            return sum(pool.map(one, keys))

    run("urllib3 pool threads", urllib3_client)

    try:
        import obstore
        from obstore.store import HTTPStore, S3Store

        hs = HTTPStore.from_url(f"{base_http}/store", client_options={"allow_http": True})

        def obstore_http():
            def one(k):
                return len(obstore.get(hs, k).bytes())

            with ThreadPoolExecutor(workers) as pool:
                return sum(pool.map(one, keys))

        run("obstore HTTPStore threads", obstore_http)
    except ImportError:
        pass

    if s3_env is not None:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=s3_env["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            config=Config(max_pool_connections=workers),
        )

        def boto3_get():
            def one(k):
                return len(client.get_object(Bucket="bench", Key=f"snap/{k}")["Body"].read())

            with ThreadPoolExecutor(workers) as pool:
                return sum(pool.map(one, keys))

        run("boto3 get_object threads (moto)", boto3_get)

        def boto3_tm():
            import io

            from boto3.s3.transfer import TransferConfig

            cfg = TransferConfig(max_concurrency=workers, multipart_threshold=64 * MIB)

            def one(k):
                b = io.BytesIO()
                client.download_fileobj("bench", f"snap/{k}", b, Config=cfg)
                return b.tell()

            with ThreadPoolExecutor(workers) as pool:
                return sum(pool.map(one, keys))

        run("boto3 transfer manager download_fileobj (moto)", boto3_tm)

        def boto3_crt():
            import io

            from boto3.s3.transfer import TransferConfig, create_transfer_manager

            tm = create_transfer_manager(
                client, TransferConfig(preferred_transfer_client="crt", max_concurrency=workers)
            )
            if type(tm).__name__ != "CRTTransferManager":
                raise RuntimeError(f"boto3 chose {type(tm).__name__}, not the CRT")
            bufs = [io.BytesIO() for _ in keys]
            futures = [
                tm.download("bench", f"snap/{k}", b) for k, b in zip(keys, bufs, strict=True)
            ]
            for f in futures:
                f.result()
            tm.shutdown()
            return sum(b.tell() for b in bufs)

        try:
            run("boto3 CRT transfer manager (moto)", boto3_crt)
        except Exception as exc:  # noqa: BLE001 - record why it is not comparable
            results["boto3 CRT transfer manager (moto)"] = {"error": str(exc)[:200]}
        try:
            from obstore.store import S3Store

            s3s = S3Store(
                "bench",
                prefix="snap",
                endpoint=s3_env["AWS_ENDPOINT_URL"],
                access_key_id="testing",
                secret_access_key="testing",
                region="us-east-1",
                client_options={"allow_http": True},
            )

            def obstore_s3():
                def one(k):
                    return len(obstore.get(s3s, k).bytes())

                with ThreadPoolExecutor(workers) as pool:
                    return sum(pool.map(one, keys))

            run("obstore S3Store threads (moto)", obstore_s3)
        except ImportError:
            pass
    return results


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--leveldb-mib", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each restore method")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--skip-s3", action="store_true", help="skip moto's S3 server")
    ap.add_argument("--skip-snapshots", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument(
        "--baseline-src",
        type=Path,
        default=None,
        help="the src/ folder of another checkout (e.g. the previous commit): its http restore "
        "runs in the same rounds as this one's, labelled 'baseline'",
    )
    args = ap.parse_args()

    for tool in ("nginx", "aria2c", "curl", "zstd", "tar", "zip", "unzip", "sha256sum"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is required on PATH")
    work = Path(tempfile.mkdtemp(prefix="sync-bench-", dir=args.workdir))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    report: dict = {
        "size_mib": args.size_mib,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
    }
    nginx = moto = None
    try:
        data = work / "www" / "files"
        print(f"generating {args.size_mib} MiB in {data} ...", flush=True)
        report["data"] = generate(data, args.size_mib, args.leveldb_mib)
        rel_files = sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file())
        sums = work / "sha256sums.txt"
        sums.write_text(
            "".join(
                f"{hashlib.sha256((data / r).read_bytes()).hexdigest()}  {r}\n" for r in rel_files
            )
        )
        digest = tree_digest(data)
        print("archives and snapshot ...", flush=True)
        subprocess.run(
            [
                "bash",
                "-o",
                "pipefail",
                "-c",
                f"tar -C {data} -cf - . | zstd -q -T0 -3 -o {work}/www/data.tar.zst",
            ],
            check=True,
        )
        subprocess.run(
            ["bash", "-c", f"cd {data} && zip -q -r -1 {work}/www/data.zip ."], check=True
        )
        snap = create_snapshot(data, open_store(str(work / "www" / "store")))
        report["snapshot_full"] = {
            "seconds": round(snap.duration_seconds, 2),
            "pause_seconds": round(snap.pause_seconds, 3),
            "chunks": snap.chunks,
        }
        nginx, port = start_nginx(work, work / "www")
        base = f"http://127.0.0.1:{port}"

        s3_env = None
        if not args.skip_s3:
            moto_bin = Path(sys.executable).parent / "moto_server"
            mport = free_port()
            moto = subprocess.Popen(
                [str(moto_bin), "-H", "127.0.0.1", "-p", str(mport)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            wait_port(mport)
            s3_env = {
                **env,
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{mport}",
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
            os.environ.update({k: v for k, v in s3_env.items() if k.startswith("AWS_")})
            import boto3

            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="bench")
            t0 = time.perf_counter()
            up = create_snapshot(data, open_store("s3://bench/snap"))
            report["snapshot_to_moto_seconds"] = round(time.perf_counter() - t0, 2)
            report["snapshot_to_moto_uploaded"] = up.bytes_uploaded

        methods = {
            "iconctl http (no fsync)": lambda t: method_iconctl(f"{base}/store", t, env),
            "iconctl http (fsync)": lambda t: method_iconctl(f"{base}/store", t, env, True),
            "iconctl file://": lambda t: method_iconctl(f"file://{work}/www/store", t, env),
            "official aria2c + sha256": lambda t: method_official(base, rel_files, sums, t, work),
            "tar.zst download then extract": lambda t: method_tar_then_extract(base, t, work),
            "tar.zst streaming": lambda t: method_tar_stream(base, t),
            "zip download then unzip": lambda t: method_zip(base, t, work),
            "limit: curl --parallel, no verify": lambda t: method_limit(base, rel_files, t, work),
        }
        if args.baseline_src is not None:
            old = {**env, "PYTHONPATH": str(args.baseline_src.resolve())}
            methods["baseline http (no fsync)"] = lambda t: method_iconctl(f"{base}/store", t, old)
            methods["baseline http (fsync)"] = lambda t: method_iconctl(
                f"{base}/store", t, old, True
            )
        if s3_env is not None:
            methods["iconctl s3 (moto)"] = lambda t: method_iconctl("s3://bench/snap", t, s3_env)
        rows: dict = {}
        names = list(methods)
        for rnd in range(args.repeat):
            # rotate the order each round: no method is always the first after a clean-up
            shift = rnd % len(names)
            for name in names[shift:] + names[:shift]:
                fn = methods[name]
                target = work / "target"
                target.mkdir()
                subprocess.run(["sync"], check=True)  # start each method from a quiet disk
                dl = work / "dl"
                dl.mkdir(exist_ok=True)
                with DiskPeak(target, dl) as disk:
                    wall, cpu, _ = fn(target)
                ok = tree_digest(target) == digest
                extra = max(0, disk.peak - disk.final)
                rows.setdefault(name, []).append((wall, cpu, extra, ok))
                print(
                    f"[{rnd + 1}] {name:38s} {wall:7.2f} s wall {cpu:7.2f} s cpu "
                    f"peak extra {extra / MIB:7.1f} MiB {'ok' if ok else 'MISMATCH'}",
                    flush=True,
                )
                shutil.rmtree(target)
                shutil.rmtree(dl, ignore_errors=True)
        table = {}
        for name, runs in rows.items():
            walls = sorted(r[0] for r in runs)
            table[name] = {
                "wall_median": round(walls[len(walls) // 2], 3),
                "wall_min": round(walls[0], 3),
                "cpu_median": round(sorted(r[1] for r in runs)[len(runs) // 2], 2),
                "peak_extra_mib": round(max(r[2] for r in runs) / MIB, 1),
                "all_ok": all(r[3] for r in runs),
            }
        report["restore"] = table
        limit = table["limit: curl --parallel, no verify"]["wall_median"]
        ours = table["iconctl http (no fsync)"]["wall_median"]
        report["ratios"] = {
            "iconctl/limit": round(ours / limit, 2),
            "iconctl/official": round(ours / table["official aria2c + sha256"]["wall_median"], 2),
            "iconctl/tar-then-extract": round(
                ours / table["tar.zst download then extract"]["wall_median"], 2
            ),
            "iconctl/tar-streaming": round(ours / table["tar.zst streaming"]["wall_median"], 2),
            "iconctl with syncfs/limit": round(
                table["iconctl http (fsync)"]["wall_median"] / limit, 2
            ),
            "iconctl peak extra / data": round(
                table["iconctl http (no fsync)"]["peak_extra_mib"] * MIB / report["data"]["bytes"],
                4,
            ),
        }
        keys = []
        for p in (work / "www" / "store" / "chunks").rglob("*"):
            if p.is_file():
                keys.append(p.relative_to(work / "www" / "store").as_posix())
        report["clients"] = compare_clients(base, sorted(keys), s3_env)
        if not args.skip_snapshots:
            print("snapshot figures ...", flush=True)
            report["snapshots"] = snapshot_figures(work, data)
        report["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    finally:
        for proc in (nginx, moto):
            if proc is not None:
                proc.terminate()
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
