"""Memory and time of reading a huge manifest: `sync list`, `sync verify` and the parse a
restore does, each in a fresh process, on a directory store holding one snapshot with
--entries files (one small chunk each, drawn from a pool of 1,000 chunks so verify fetches
little). Prints peak RSS (VmHWM) and wall time per operation; docs/sync.md quotes the
per-entry bound. Usage:

  python benchmarks/sync_manifest_bench.py --entries 1000000
  python benchmarks/sync_manifest_bench.py --entries 1000000 --src ../other-checkout/src
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from iconctl.sync.manifest import (  # noqa: E402
    Chunk,
    FileEntry,
    Manifest,
    chunk_key,
    encode_latest,
    hash_bytes,
    manifest_key,
    new_snapshot_id,
)

PROBE = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from iconctl.sync.store import open_store
op, store_url = sys.argv[2], sys.argv[3]
start = time.monotonic()
cpu = time.process_time()
store = open_store(store_url)
if op == "list":
    from iconctl.sync.catalog import list_snapshots
    rows = list_snapshots(store)
    assert rows[0].files == int(sys.argv[4]), rows
elif op == "verify":
    from iconctl.sync.catalog import verify_snapshot
    r = verify_snapshot(store, None, workers=4)
    assert not r.problems, r.problems[:3]
elif op == "parse":
    from iconctl.sync.catalog import resolve
    m = resolve(store, None)
    assert len(m.files) == int(sys.argv[4])
took = time.monotonic() - start
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]
print(f"{took:.2f} {int(hwm) // 1024} {time.process_time() - cpu:.2f}")
"""


def build(store: Path, entries: int) -> int:
    pool = []
    for i in range(1000):
        data = f"chunk {i}".encode() * 10
        digest = hash_bytes(data)
        path = store / chunk_key(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        pool.append(Chunk(len(data), digest))
    files = [
        FileEntry(f"data/{i // 10000}/{i:07d}.ldb", pool[i % 1000].size, 0o644,
                  1795500000000000000 + i, [pool[i % 1000]])
        for i in range(entries)
    ]  # fmt: skip
    dirs = ["data", *sorted({f"data/{i // 10000}" for i in range(entries)})]
    sid = new_snapshot_id()
    body = Manifest(sid, "2026-12-03T00:00:00.000Z", 4 << 20, dirs, files).encode()
    (store / manifest_key(sid)).parent.mkdir(parents=True, exist_ok=True)
    (store / manifest_key(sid)).write_bytes(body)
    (store / "latest.json").write_bytes(encode_latest(sid, body, "2026-12-03T00:00:00.000Z"))
    return len(body)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument(
        "--src",
        default=str(ROOT / "src"),
        help="iconctl source tree to measure (default: this one)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        size = build(store, args.entries)
        print(f"manifest: {args.entries} entries, {size / 2**20:.0f} MiB")
        results = {}
        for op in ("list", "verify", "parse"):
            out = subprocess.run(
                [sys.executable, "-c", PROBE, args.src, op, str(store), str(args.entries)],
                capture_output=True, text=True, check=True,
            ).stdout.split()  # fmt: skip
            took, rss, cpu = float(out[0]), int(out[1]), float(out[2])
            results[op] = {"seconds": took, "cpu_seconds": cpu, "peak_rss_mib": rss}
            print(f"{op:7} {took:6.2f} s ({cpu:6.2f} s CPU)  peak RSS {rss:5d} MiB  "
                  f"({rss * 2**20 / args.entries:.0f} bytes per entry)")  # fmt: skip
        print(json.dumps(results))


if __name__ == "__main__":
    t = time.monotonic()
    main()
    print(f"total {time.monotonic() - t:.1f} s")
