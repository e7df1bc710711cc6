"""The iconctl command line: parse options, call one core function, print, map errors.

Nothing here does real work: each command hands its options to a core module, and every
error becomes an exit code in one place, ``main``.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from iconctl import __version__
from iconctl.errors import ExitCode, IconctlError

app = typer.Typer(
    name="iconctl",
    help="Deploy and operate globally distributed ICON JSON-RPC API endpoints from one spec.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

def _version(value: bool) -> None:
    if value:
        print(f"iconctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", envvar="ICONCTL_DEBUG", help="Show tracebacks on errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options; --debug is read by main() before any command runs."""


# Commands, one section per capability. Each command parses options, calls one core function
# (imported inside the command so `iconctl --help` stays fast) and prints the result.

# --- spec: init, validate, schema, render ---------------------------------------------------


# --- sync: snapshot, restore, list, verify, prune -------------------------------------------

sync_app = typer.Typer(
    name="sync",
    help="Fast sync: incremental snapshots of a node's data into a store, parallel verified "
    "restores.",
    no_args_is_help=True,
)
app.add_typer(sync_app, name="sync")

StoreOpt = Annotated[
    str,
    typer.Option("--store", envvar="ICONCTL_SYNC_STORE",
                 help="s3://bucket/prefix, gs://bucket/prefix, file:///path or a path, "
                 "http(s)://host/prefix (restore and verify only)."),
]
WorkersOpt = Annotated[
    int, typer.Option("--workers", min=1, max=256, help="Parallel transfers.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
MetricsOpt = Annotated[
    Path | None,
    typer.Option("--metrics-file", help="Write node_exporter textfile metrics here (.prom)."),
]


def _sync_report(result: dict, as_json: bool, lines: list[str]) -> None:
    from iconctl.console import out, print_json

    if as_json:
        print_json(result)
    else:
        for line in lines:
            out.print(line, markup=False)


@sync_app.command("snapshot")
def sync_snapshot(
    data_dir: Annotated[Path, typer.Option("--data-dir", help="The node's data directory.")],
    store: StoreOpt,
    admin_url: Annotated[
        str | None,
        typer.Option("--admin-url", help="goloop RPC base URL; pause the chain through its "
                     "admin API (with --chain)."),
    ] = None,
    chain: Annotated[
        str | None, typer.Option("--chain", help="Chain id or channel for the admin API.")
    ] = None,
    stop_cmd: Annotated[
        str | None, typer.Option("--stop-cmd", help="Command that stops the node.")
    ] = None,
    start_cmd: Annotated[
        str | None, typer.Option("--start-cmd", help="Command that starts the node again.")
    ] = None,
    lock_wait: Annotated[
        float, typer.Option("--lock-wait", min=0, help="Seconds to wait for the store lock.")
    ] = 0.0,
    workers: WorkersOpt = 16,
    metrics_file: MetricsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Checkpoint the data directory (pausing the node briefly) and upload what is new."""
    from iconctl.sync import snapshot

    r = snapshot(data_dir, store, admin_url=admin_url, chain=chain, stop_cmd=stop_cmd,
                 start_cmd=start_cmd, workers=workers, lock_wait=lock_wait,
                 metrics_file=metrics_file, show_progress=not as_json)
    _sync_report(r, as_json, [
        f"snapshot {r['id']} published to {r['store']}",
        f"  {r['files']} files, {r['bytes_scanned']} bytes scanned, {r['bytes_uploaded']} bytes "
        f"uploaded in {r['chunks_uploaded']} chunks",
        f"  node paused {r['pause_seconds']:.3f} s ({r['quiesce']}), total "
        f"{r['duration_seconds']:.2f} s",
    ])


@sync_app.command("restore")
def sync_restore(
    store: StoreOpt,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Directory to restore into.")],
    snapshot_id: Annotated[
        str | None, typer.Option("--snapshot", help="Snapshot id (default: latest).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Restore into a non-empty directory.")
    ] = False,
    no_sync: Annotated[
        bool, typer.Option("--no-fsync", help="Skip flushing to disk before the completion "
                           "marker (faster; not crash-safe).")
    ] = False,
    workers: WorkersOpt = 16,
    metrics_file: MetricsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fetch a snapshot in parallel straight into the data directory, verifying every byte."""
    from iconctl.sync import restore

    r = restore(store, data_dir, snapshot_id=snapshot_id, force=force, workers=workers,
                durable=not no_sync, metrics_file=metrics_file, show_progress=not as_json)
    if r["already_complete"]:
        lines = [f"{r['data_dir']} already holds the completed restore of snapshot {r['id']}"]
    else:
        lines = [
            f"restored snapshot {r['id']} into {r['data_dir']}",
            f"  {r['files']} files, {r['bytes_total']} bytes: {r['bytes_fetched']} fetched, "
            f"{r['bytes_reused']} already on disk, in {r['duration_seconds']:.2f} s",
        ]
    _sync_report(r, as_json, lines)


@sync_app.command("list")
def sync_list(store: StoreOpt, as_json: JsonOpt = False) -> None:
    """List the snapshots in a store, oldest first."""
    from iconctl.sync import list_store

    rows = list_store(store)
    lines = [f"{'ID':28} {'CREATED':21} {'FILES':>8} {'BYTES':>16}"]
    for row in rows:
        mark = " latest" if row["latest"] else ("" if row["valid"] else " INVALID")
        lines.append(f"{row['id']:28} {row['created']:21} {row['files'] or '-':>8} "
                     f"{row['bytes'] or '-':>16}{mark}")
    if not rows:
        lines = [f"no snapshots in {store}"]
    _sync_report(rows, as_json, lines)  # type: ignore[arg-type]


@sync_app.command("verify")
def sync_verify(
    store: StoreOpt,
    snapshot_id: Annotated[
        str | None, typer.Option("--snapshot", help="Snapshot id (default: latest).")
    ] = None,
    workers: WorkersOpt = 16,
    as_json: JsonOpt = False,
) -> None:
    """Re-hash every chunk of a snapshot in the store; exit 6 if anything is wrong."""
    from iconctl.errors import IntegrityError
    from iconctl.sync import verify

    r = verify(store, snapshot_id, workers=workers, show_progress=not as_json)
    ok = f"snapshot {r['id']}: {r['chunks']} chunks, {r['bytes_verified']} bytes verified"
    _sync_report(r, as_json, [ok] if r["ok"] else [])
    if not r["ok"]:
        shown = r["problems"][:20]
        more = len(r["problems"]) - len(shown)
        raise IntegrityError(
            f"snapshot {r['id']} failed verification ({len(r['problems'])} problems): "
            + "; ".join(shown) + (f"; and {more} more" if more else "")
        )


@sync_app.command("prune")
def sync_prune(
    store: StoreOpt,
    keep: Annotated[int, typer.Option("--keep", min=1, help="Snapshots to keep (newest).")],
    min_age: Annotated[
        float, typer.Option("--min-age", min=0, help="Never delete chunks younger than this "
                            "many seconds.")
    ] = 3600.0,
    as_json: JsonOpt = False,
) -> None:
    """Delete all but the newest N snapshots and the chunks only they referenced."""
    from iconctl.sync import prune

    r = prune(store, keep, min_age=min_age)
    lines = [f"kept {len(r['kept'])} snapshots, deleted {len(r['deleted'])}; "
             f"{r['chunks_deleted']} chunks ({r['bytes_freed']} bytes) freed"]
    if r["chunks_deferred"]:
        lines.append("a snapshot is running: unreferenced chunks will be collected by a later "
                     "prune")
    _sync_report(r, as_json, lines)



# --- node simulator and health agent ---------------------------------------------------------


# --- orchestration: plan, apply, destroy, status, demo ---------------------------------------


# --- global layer: statuspage, loadtest -------------------------------------------------------




def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and turn every outcome into the contract's exit code.

    Typer handles usage errors itself (exit 2 with the usage line); everything iconctl raises
    is mapped here, and nothing else reaches the user as a traceback unless --debug is set.
    """
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("ICONCTL_DEBUG", "") not in ("", "0", "false")
    from iconctl.console import err

    try:
        app(args=args, prog_name="iconctl")
    except IconctlError as exc:
        if debug:
            traceback.print_exc()
        for line in exc.lines():
            err.print(f"error: {line}", markup=False)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # the last line of defence: no traceback without --debug
        if debug:
            traceback.print_exc()
        err.print(
            f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
            markup=False,
        )
        sys.exit(ExitCode.INTERNAL)
