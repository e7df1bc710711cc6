"""`.iconctl/` beside the spec, and what every unit of one invocation shares."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iconctl.assets import assets_root
from iconctl.errors import InputError
from iconctl.files import write_atomic
from iconctl.spec import Spec

if TYPE_CHECKING:
    from iconctl.pipeline.units import Unit


class Workspace:
    """`.iconctl/` beside the spec: rendered inputs, working copies, local state, runs."""

    def __init__(self, spec_path: Path) -> None:
        self.root = spec_path.absolute().parent / ".iconctl"
        self.build = self.root / "build"
        self.state = self.root / "state"
        self.progress_path = self.root / "progress.json"
        self._lock = threading.Lock()

    def keyed_digest(self, values: list[str]) -> str:
        """An HMAC of ``values`` under the workspace's own random key (created once, 0600):
        lets a fingerprint notice a rotated secret without progress.json holding anything a
        value could be guessed back from."""
        key_path = self.root / "fingerprint.key"
        with self._lock:
            if not key_path.is_file():
                self.root.mkdir(parents=True, exist_ok=True)
                fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_hex(32))
            key = key_path.read_text().strip().encode()
        message = "\0".join(values).encode()
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def unit_dir(self, unit: str) -> Path:
        return self.root / "work" / unit

    def new_run(self, command: str) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        run_dir = self.root / "runs" / f"{stamp}-{command}"
        run_dir.mkdir(parents=True)
        return run_dir

    def progress(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.progress_path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise InputError(
                f"{self.progress_path}: unreadable ({exc}); delete it to start over"
            ) from None
        return data

    def forget(self, unit: str) -> None:
        """Drop every step progress.json records for ``unit``, whichever run recorded it."""
        with self._lock:
            data = self.progress()
            kept = {k: v for k, v in data.items() if not k.startswith(f"{unit}/")}
            if kept != data:
                write_atomic(self.progress_path, json.dumps(kept, indent=2, sort_keys=True) + "\n")

    def record(self, key: str, entry: dict[str, Any] | None) -> None:
        with self._lock:
            data = self.progress()
            if entry is None:
                data.pop(key, None)
            else:
                data[key] = entry
            write_atomic(self.progress_path, json.dumps(data, indent=2, sort_keys=True) + "\n")


@dataclass
class Context:
    """What the units of one invocation share: the spec, the workspace, the shipped assets,
    the tools' environment, the live output, cancellation, and the step each unit runs now."""

    spec: Spec
    ws: Workspace
    say: Callable[[str], None]
    configure: bool  # False: no config steps (a rehearsal, no VM behind the instances)
    base_env: dict[str, str] | None = None  # None: this process's environment
    assets: Path = field(default_factory=assets_root)
    cancel: threading.Event = field(default_factory=threading.Event)
    units: list[Unit] = field(default_factory=list)  # the global unit reads the regions'
    # plan: set when the state bucket does not exist yet; the other units' plans need it.
    state_bucket_pending: bool = False
    # unit -> (step, monotonic start) of the step each unit is running now
    current: dict[str, tuple[str, float]] = field(default_factory=dict)

    def env(self, *, cloudflare: bool = False) -> dict[str, str]:
        """The tools' environment; the Cloudflare token only for the stacks that manage
        Cloudflare records, resolved from its reference at the last moment."""
        env = dict(self.base_env if self.base_env is not None else os.environ)
        if cloudflare and self.spec.geo is not None:
            from iconctl.secrets import resolve

            env["CLOUDFLARE_API_TOKEN"] = resolve(self.spec.geo.api_token, field="geo.api_token")
        return env

    def begin(self, unit: str, step: str, what: str = "...") -> float:
        """Note the step a unit is running now; returns its start time."""
        started = time.monotonic()
        self.current[unit] = (step, started)
        self.say(f"{unit}: {step} {what}")
        return started

    def activity(
        self, unit: str, step: str, parse: Callable[[str], str | None]
    ) -> Callable[[str], None]:
        """A tool's output line -> the unit's live line (what the tool is doing now)."""

        def on_line(line: str) -> None:
            doing = parse(line)
            if doing:
                self.say(f"{unit}: task: {step}: {doing}")

        return on_line
