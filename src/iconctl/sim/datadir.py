"""A small data directory that behaves like a node's: it grows as blocks are produced.

Layout (DIR is what --data-dir names; goloop's node directory is DIR/data)::

    DIR/data/auth.json, rconfig.json      node files that are not chain data
    DIR/data/<cid>/config.json            written once
    DIR/data/<cid>/genesis.zip            written once
    DIR/data/<cid>/db/<channel>/
        NNNNNN.sst       immutable once renamed into place (a flushed batch of blocks)
        NNNNNN.log       appended on every block (mutable, replaced at each flush)
        MANIFEST-000001  appended on every flush (mutable)
        CURRENT, LOCK, LOG
    DIR/data/<cid>/tmp/                   scratch space, never chain data

Every line of the .sst and .log files is one block in the icx_getLastBlock format, so a
simulator started on a copied directory resumes at the highest block it finds there.
Nothing is written while the chain is stopped, so a copy taken then is consistent.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from iconctl.files import write_atomic
from iconctl.sim.chain import Chain

FLUSH_BLOCKS = 64
INITIAL_HISTORY = 256


class DataDir:
    def __init__(self, root: Path, *, cid: int, channel: str) -> None:
        self.node_dir = root / "data"
        self.chain_dir = self.node_dir / f"{cid:x}"
        self.db_dir = self.chain_dir / "db" / channel
        self._log: io.BufferedWriter | None = None
        self._log_blocks = 0
        self._next_number = 1

    # resume -----------------------------------------------------------------------------
    def last_height(self) -> int | None:
        """The highest block stored, or None for an empty or new directory."""
        best: int | None = None
        if not self.db_dir.is_dir():
            return None
        for path in sorted(self.db_dir.iterdir()):
            if path.suffix not in (".sst", ".log"):
                continue
            try:
                lines = path.read_bytes().splitlines()
            except OSError:
                continue
            for line in reversed(lines):
                try:
                    height = int(json.loads(line)["height"])
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line after a crash
                best = height if best is None else max(best, height)
                break
        return best

    # write ------------------------------------------------------------------------------
    def open(self, chain: Chain, height: int) -> None:
        """Create the layout (or continue an existing one) with blocks up to ``height``."""
        self.db_dir.mkdir(parents=True, exist_ok=True)
        (self.chain_dir / "tmp").mkdir(exist_ok=True)
        self._write_once(self.node_dir / "auth.json", b'{"users":[]}\n')
        self._write_once(self.node_dir / "rconfig.json", b'{"seedAddress":""}\n')
        self._write_once(
            self.chain_dir / "config.json",
            json.dumps(
                {
                    "dbType": "rocksdb",
                    "channel": chain.channel,
                    "nid": hex(chain.nid),
                    "cid": hex(chain.cid),
                },
                indent=2,
            ).encode()
            + b"\n",
        )
        self._write_once(self.chain_dir / "genesis.zip", _genesis_zip(chain))
        self._write_once(self.db_dir / "LOCK", b"")
        numbers = [
            int(p.stem)
            for p in self.db_dir.iterdir()
            if p.suffix in (".sst", ".log") and p.stem.isdigit()
        ]
        self._next_number = max(numbers, default=0) + 1
        if not numbers:
            first = max(0, height - INITIAL_HISTORY)
            self._write_sst(b"".join(chain.block_json(h) + b"\n" for h in range(first, height + 1)))
        self._start_log()

    def append(self, chain: Chain, height: int) -> None:
        """Record one new block; flush the log into an immutable .sst every FLUSH_BLOCKS."""
        if self._log is None:
            return
        self._log.write(chain.block_json(height) + b"\n")
        self._log.flush()
        self._log_blocks += 1
        if self._log_blocks >= FLUSH_BLOCKS:
            old = Path(self._log.name)
            self._log.close()
            self._log = None
            self._write_sst(old.read_bytes())
            old.unlink()
            self._start_log()

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    # internals --------------------------------------------------------------------------
    def _number(self) -> str:
        number = f"{self._next_number:06d}"
        self._next_number += 1
        return number

    def _start_log(self) -> None:
        self._log = (self.db_dir / f"{self._number()}.log").open("ab")
        self._log_blocks = 0

    def _write_sst(self, content: bytes) -> None:
        name = f"{self._number()}.sst"
        self._replace(self.db_dir / name, content)
        with (self.db_dir / "MANIFEST-000001").open("ab") as manifest:
            manifest.write(f"add {name} {len(content)}\n".encode())
        with (self.db_dir / "LOG").open("ab") as log:
            log.write(f"flushed {name}\n".encode())
        self._replace(self.db_dir / "CURRENT", b"MANIFEST-000001\n")

    def _replace(self, path: Path, content: bytes) -> None:
        # Scratch files stay in tmp/, as goloop's do: never beside the chain data.
        write_atomic(path, content, durable=False, scratch=self.chain_dir / "tmp")

    def _write_once(self, path: Path, content: bytes) -> None:
        if not path.exists():
            self._replace(path, content)


def _genesis_zip(chain: Chain) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        info = zipfile.ZipInfo("genesis.json", date_time=(2019, 9, 1, 0, 0, 0))
        archive.writestr(info, json.dumps({"nid": hex(chain.nid), "accounts": []}))
    return buf.getvalue()
