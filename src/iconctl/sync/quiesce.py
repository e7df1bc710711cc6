"""Pausing the node for the checkpoint: goloop's admin API, given commands, or nothing."""

from __future__ import annotations

import json
import shlex
import time
from abc import ABC, abstractmethod

from iconctl import process
from iconctl.errors import InputError, RemoteFailed
from iconctl.http import client


class Quiescer(ABC):
    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def start(self) -> None: ...

    describe = "none"


class NoQuiesce(Quiescer):
    """The data directory is already stopped (or the caller takes care of it)."""

    def stop(self) -> None:
        pass

    def start(self) -> None:
        pass


class CommandQuiesce(Quiescer):
    """Operator-given commands (``systemctl stop goloop``, ``docker compose stop node``)."""

    def __init__(self, stop_cmd: str, start_cmd: str, timeout: float = 300.0) -> None:
        self.stop_argv = _split(stop_cmd, "--stop-cmd")
        self.start_argv = _split(start_cmd, "--start-cmd")
        self.timeout = timeout
        self.describe = "commands"

    def stop(self) -> None:
        process.run(self.stop_argv, step="stop the node (--stop-cmd)", timeout=self.timeout)

    def start(self) -> None:
        process.run(self.start_argv, step="start the node (--start-cmd)", timeout=self.timeout)


def _split(cmd: str, flag: str) -> list[str]:
    try:
        argv = shlex.split(cmd)
    except ValueError as exc:
        raise InputError(f"{flag}: cannot parse {cmd!r}: {exc}") from None
    if not argv:
        raise InputError(f"{flag} is empty")
    return argv


class AdminQuiesce(Quiescer):
    """goloop's admin API: POST /admin/chain/{cid}/stop, wait for "stopped", and /start."""

    def __init__(self, admin_url: str, chain: str | None, timeout: float = 120.0) -> None:
        if not admin_url.startswith(("http://", "https://")):
            raise InputError(f"--admin-url must be an http(s) URL, got {admin_url!r}")
        base = admin_url.rstrip("/")
        if not base.endswith("/admin"):
            base += "/admin"
        self.base = base
        self.timeout = timeout
        self.describe = "admin-api"
        self.chain = chain or self._only_chain()

    def _only_chain(self) -> str:
        """With no --chain: the node's one chain, from GET /admin/chain (the usual case)."""
        url = f"{self.base}/chain"
        try:
            status, body = client.request(url, timeout=30)
            if status != 200:
                raise RemoteFailed(step="goloop admin GET /chain", target=url, status=status,
                                   detail=body[:300].decode(errors="replace"))  # fmt: skip
            chains = json.loads(body)
        except (OSError, ValueError) as exc:
            raise RemoteFailed(
                step="goloop admin GET /chain", target=url, detail=str(exc)
            ) from None
        ids = (
            [c.get("cid") for c in chains if isinstance(c, dict)]
            if isinstance(chains, list)
            else []
        )
        if len(ids) != 1 or not isinstance(ids[0], str):
            raise InputError(f"{url} lists {len(ids)} chains; name the one to pause with --chain")
        return ids[0]

    def _call(self, method: str, path: str) -> object:
        url = f"{self.base}/chain/{self.chain}{path}"
        try:
            status, body = client.request(
                url, method=method, data=b"" if method == "POST" else None, timeout=30
            )
        except (OSError, ValueError) as exc:
            raise RemoteFailed(
                step=f"goloop admin {method} {path or '/'}", target=url, detail=str(exc)
            ) from None
        if not 200 <= status < 300:  # redirects are not followed: an answer like any other
            raise RemoteFailed(
                step=f"goloop admin {method} {path or '/'}",
                target=url,
                status=status,
                detail=body[:300].decode(errors="replace"),
            )
        try:
            return json.loads(body) if body.strip() else None
        except ValueError:
            return None

    def _wait_state(self, wanted: set[str]) -> None:
        deadline = time.monotonic() + self.timeout
        state = "?"
        while time.monotonic() < deadline:
            info = self._call("GET", "")
            state = info.get("state", "?") if isinstance(info, dict) else "?"
            if state in wanted:
                return
            if state == "failed":
                break
            time.sleep(0.05)
        raise RemoteFailed(
            step=f"wait for chain {self.chain} to be {'/'.join(sorted(wanted))}",
            target=f"{self.base}/chain/{self.chain}",
            detail=f"last state: {state}",
        )

    def stop(self) -> None:
        self._call("POST", "/stop")
        self._wait_state({"stopped"})

    def start(self) -> None:
        self._call("POST", "/start")


def make_quiescer(
    admin_url: str | None, chain: str | None, stop_cmd: str | None, start_cmd: str | None
) -> Quiescer:
    if admin_url or chain:
        if stop_cmd or start_cmd:
            raise InputError("give either --admin-url/--chain or --stop-cmd/--start-cmd, not both")
        if not admin_url:
            raise InputError("--chain needs --admin-url")
        return AdminQuiesce(admin_url, chain)
    if stop_cmd or start_cmd:
        if not (stop_cmd and start_cmd):
            raise InputError("--stop-cmd and --start-cmd go together")
        return CommandQuiesce(stop_cmd, start_cmd)
    return NoQuiesce()
