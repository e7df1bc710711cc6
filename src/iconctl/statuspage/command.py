"""What `iconctl statuspage` does: resolve targets, build once, optionally keep serving."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from iconctl.errors import InputError
from iconctl.statuspage.probe import probe, references_from, targets_from
from iconctl.statuspage.site import BuildResult, build

MIN_INTERVAL_S = 5.0


def run(
    *,
    spec_path: Path | None,
    endpoints: list[str],
    agents: list[str],
    out_dir: Path,
    references: list[str] | None = None,
    serve: bool = False,
    listen: str = "127.0.0.1:8080",
    interval_s: float = 60.0,
    on_ready: Callable[[BuildResult, str | None], None] | None = None,
) -> BuildResult:
    spec = None
    if spec_path is not None:
        from iconctl.spec import load_spec

        spec = load_spec(spec_path)
    targets, rules = targets_from(spec, endpoints, agents)
    refs = references_from(spec, references or [])
    title = f"{spec.domain} status" if spec is not None else "ICON API status"
    if serve:
        from iconctl.http.server import parse_hostport
        from iconctl.statuspage.server import StatusServer, check_loopback

        host, port = parse_hostport(listen, option="--listen")
        check_loopback(host)
        if interval_s < MIN_INTERVAL_S:
            raise InputError(f"--interval {interval_s:g}: at least {MIN_INTERVAL_S:g} seconds")
    build_fn = partial(build, targets, rules, out_dir.absolute(), title=title, references=refs)
    result = build_fn()
    if not serve:
        if on_ready:
            on_ready(result, None)
        return result
    server = StatusServer(
        out_dir.absolute(), host, port, interval_s=interval_s,
        probe=partial(probe, targets, rules, references=refs),
        write=lambda results, record, notice: build_fn(
            results=results, record=record, notice=notice
        ),
    )  # fmt: skip
    if on_ready:
        on_ready(result, server.url)
    server.serve()
    return result
