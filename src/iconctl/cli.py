"""The iconctl command line: parse options, call one core function, print, map errors.

Nothing here does real work: each command hands its options to a core module, and every
error becomes an exit code in one place, ``main``.
"""

import os
import sys
import traceback
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

import typer

from iconctl import __version__
from iconctl.console import err, json_printed, out, print_json, ready_line
from iconctl.errors import ExitCode, IconctlError, Interrupted, UsageError, from_os_error

if TYPE_CHECKING:
    from iconctl.pipeline import Pipeline, Report

DEFAULT_SPEC = Path("iconctl.yaml")


class _Reported(Protocol):
    """A typed result a command prints: ``--json`` shows its ``to_json()``."""

    def to_json(self) -> Mapping[str, object]: ...


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

SpecArg = Annotated[
    Path,
    typer.Argument(help="The spec file.", envvar="ICONCTL_SPEC", show_default=True),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class Example(StrEnum):
    multi_region = "multi-region"
    single_node = "single-node"


@app.command()
def init(
    example: Annotated[
        Example, typer.Option("--example", help="Which bundled example to start from.")
    ] = Example.single_node,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the spec.")] = Path(
        "iconctl.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter spec."""
    from iconctl.starter import write_starter

    path = write_starter(example.value, output, force=force)
    out.print(f"wrote {path} (from the {example.value} example); next: iconctl validate {path}")


@app.command()
def validate(
    spec: SpecArg = DEFAULT_SPEC,
    check_secrets: Annotated[
        bool,
        typer.Option(
            "--check-secrets",
            help="Also resolve every secret reference (env:, ssm:, gcp-sm:); values are not shown.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Check a spec; print one line per problem as FILE:LINE: field.path: message."""
    from iconctl.spec import load_spec
    from iconctl.spec.summary import summary, text

    loaded = load_spec(spec)
    if check_secrets:
        from iconctl.preflight import check_secrets as resolve_all
        from iconctl.preflight import secret_fields

        resolve_all(secret_fields(loaded))
    if json_out:
        print_json({"valid": True, "file": str(spec), **summary(loaded)})
        return
    print(f"{spec}: valid\n{text(summary(loaded))}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the spec (for editors; see docs/spec.md)."""
    from iconctl.spec.schema import json_schema

    print_json(json_schema())


@app.command()
def render(
    spec: SpecArg = DEFAULT_SPEC,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Output directory (replaced whole on each render).")
    ] = Path("build"),
    json_out: JsonOpt = False,
) -> None:
    """Render Terraform, Packer, Ansible, compose and monitoring inputs from the spec."""
    from iconctl.render import render as render_spec
    from iconctl.spec import load_spec

    written = render_spec(load_spec(spec), out_dir)
    if json_out:
        print_json(
            {
                "out": str(out_dir),
                "files": [str(p.relative_to(out_dir.absolute())) for p in written],
            }
        )
        return
    out.print(f"rendered {len(written)} files into {out_dir}/")


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
    typer.Option(
        "--store",
        envvar="ICONCTL_SYNC_STORE",
        help="s3://bucket/prefix, gs://bucket/prefix, file:///path or a path, "
        "http(s)://host/prefix (restore and verify only).",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        max=256,
        help="Parallel transfers (default: 16 for s3:// and gs://, 8 for other stores).",
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        min=0.1,
        envvar="ICONCTL_SYNC_TIMEOUT",
        help="Seconds one store request may wait for an answer (default 30); failures that "
        "may pass are retried with backoff for up to 4 times this long.",
    ),
]
MetricsOpt = Annotated[
    Path | None,
    typer.Option("--metrics-file", help="Write node_exporter textfile metrics here (.prom)."),
]


def _sync_report(result: _Reported | list[_Reported], as_json: bool, lines: list[str]) -> None:
    from iconctl.console import out, print_json

    if as_json:
        print_json([r.to_json() for r in result] if isinstance(result, list) else result.to_json())
    else:
        for line in lines:
            out.print(line, markup=False)


@sync_app.command("snapshot")
def sync_snapshot(
    data_dir: Annotated[Path, typer.Option("--data-dir", help="The node's data directory.")],
    store: StoreOpt,
    admin_url: Annotated[
        str | None,
        typer.Option(
            "--admin-url",
            help="goloop RPC base URL; pause the chain through its admin API (with --chain).",
        ),
    ] = None,
    chain: Annotated[
        str | None,
        typer.Option(
            "--chain", help="Chain id for the admin API (default: the node's only chain)."
        ),
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
    workers: WorkersOpt = None,
    metrics_file: MetricsOpt = None,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Checkpoint the data directory (pausing the node briefly) and upload what is new."""
    from iconctl.sync import take_snapshot

    r = take_snapshot(
        data_dir,
        store,
        admin_url=admin_url,
        chain=chain,
        stop_cmd=stop_cmd,
        start_cmd=start_cmd,
        workers=workers,
        lock_wait=lock_wait,
        metrics_file=metrics_file,
        show_progress=not as_json,
        timeout=timeout,
    )
    _sync_report(
        r,
        as_json,
        [
            f"snapshot {r.id} published to {r.store}",
            f"  {r.files} files, {r.bytes_scanned} bytes scanned, "
            f"{r.bytes_uploaded} bytes uploaded in {r.chunks_uploaded} chunks",
            f"  node paused {r.pause_seconds:.3f} s ({r.quiesce}), total "
            f"{r.duration_seconds:.2f} s",
        ],
    )


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
        bool,
        typer.Option(
            "--no-fsync",
            help="Skip flushing to disk before the completion marker (faster; not crash-safe).",
        ),
    ] = False,
    workers: WorkersOpt = None,
    metrics_file: MetricsOpt = None,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fetch a snapshot in parallel straight into the data directory, verifying every byte."""
    from iconctl.sync import restore_into

    r = restore_into(
        store,
        data_dir,
        snapshot_id=snapshot_id,
        force=force,
        workers=workers,
        durable=not no_sync,
        metrics_file=metrics_file,
        show_progress=not as_json,
        timeout=timeout,
    )
    if r.already_complete:
        lines = [f"{r.data_dir} already holds the completed restore of snapshot {r.id}"]
    else:
        lines = [f"restored snapshot {r.id} into {r.data_dir}"]
        if r.restarted_from:
            lines.append(
                f"  snapshot {r.restarted_from}, which an earlier run had started, is no "
                f"longer in the store (pruned): restored latest ({r.id}) instead, keeping "
                "what was already on disk and verified"
            )
        lines += [
            f"  {r.files} files, {r.bytes_total} bytes: {r.bytes_fetched} fetched, "
            f"{r.bytes_reused} already on disk, in {r.duration_seconds:.2f} s",
        ]
    _sync_report(r, as_json, lines)


@sync_app.command("list")
def sync_list(store: StoreOpt, timeout: TimeoutOpt = None, as_json: JsonOpt = False) -> None:
    """List the snapshots in a store, oldest first."""
    from iconctl.sync import list_store

    rows = list_store(store, timeout=timeout)
    lines = [f"{'ID':28} {'CREATED':21} {'FILES':>8} {'BYTES':>16}"]
    for row in rows:
        mark = " latest" if row.latest else ("" if row.valid else " INVALID")
        lines.append(
            f"{row.id:28} {row.created:21} {row.files or '-':>8} {row.bytes or '-':>16}{mark}"
        )
    if not rows:
        lines = [f"no snapshots in {store}"]
    _sync_report(list(rows), as_json, lines)


@sync_app.command("verify")
def sync_verify(
    store: StoreOpt,
    snapshot_id: Annotated[
        str | None, typer.Option("--snapshot", help="Snapshot id (default: latest).")
    ] = None,
    workers: WorkersOpt = None,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-hash every chunk of a snapshot in the store; exit 6 if anything is wrong."""
    from iconctl.sync import verify_store

    r = verify_store(
        store, snapshot_id, workers=workers, show_progress=not as_json, timeout=timeout
    )
    ok = f"snapshot {r.id}: {r.chunks} chunks, {r.bytes_verified} bytes verified"
    _sync_report(r, as_json, [ok] if r.ok else [])
    r.check()


@sync_app.command("prune")
def sync_prune(
    store: StoreOpt,
    keep: Annotated[int, typer.Option("--keep", min=1, help="Snapshots to keep (newest).")],
    min_age: Annotated[
        float,
        typer.Option(
            "--min-age", min=0, help="Never delete chunks younger than this many seconds."
        ),
    ] = 3600.0,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete all but the newest N snapshots and the chunks only they referenced."""
    from iconctl.sync import prune_store

    r = prune_store(store, keep, min_age=min_age, timeout=timeout)
    lines = [
        f"kept {len(r.kept)} snapshots, deleted {len(r.deleted)}; "
        f"{r.chunks_deleted} chunks ({r.bytes_freed} bytes) freed"
    ]
    if r.chunks_deferred:
        lines.append(
            "a snapshot is running: unreferenced chunks will be collected by a later prune"
        )
    _sync_report(r, as_json, lines)


# --- node simulator and health agent ---------------------------------------------------------


@app.command("sim")
def sim_command(
    listen: Annotated[str, typer.Option(help="HOST:PORT for the node API (port 0: any free).")] = (
        "127.0.0.1:9000"
    ),
    control_listen: Annotated[
        str | None,
        typer.Option(help="HOST:PORT of the scenario control endpoint (loopback only)."),
    ] = None,
    block_interval: Annotated[float, typer.Option(help="Seconds between blocks.")] = 2.0,
    start_height: Annotated[int, typer.Option(min=0, help="Height of the first block.")] = 1000,
    stall: Annotated[bool, typer.Option("--stall", help="Produce no blocks.")] = False,
    lag: Annotated[int, typer.Option(min=0, help="Serve this many blocks behind the chain.")] = 0,
    error_rate: Annotated[
        float, typer.Option(help="Fraction of JSON-RPC requests answered with HTTP 500.")
    ] = 0.0,
    latency_ms: Annotated[float, typer.Option(help="Added latency of every API answer.")] = 0.0,
    admin_state: Annotated[str, typer.Option(help="Chain state in /admin/chain.")] = "started",
    peers: Annotated[int, typer.Option(help="Peers listed by /admin/chain/{cid}.")] = 8,
    batch_limit: Annotated[int, typer.Option(help="rpcBatchLimit: most requests per batch.")] = 10,
    ws_max_sessions: Annotated[
        int, typer.Option(help="wsMaxSession: most concurrent websocket streams.")
    ] = 10,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Write (or resume) a node-like data directory here as blocks come."),
    ] = None,
    cid: Annotated[str, typer.Option(help="Chain id.")] = "0x1",
    nid: Annotated[str, typer.Option(help="Network id.")] = "0x1",
    channel: Annotated[str, typer.Option(help="Channel name.")] = "icon_dex",
    seed: Annotated[int | None, typer.Option(help="Random seed for the error-rate draw.")] = None,
    fund: Annotated[
        list[str] | None,
        typer.Option(
            help="ADDRESS=ICX: a genesis balance (repeatable); every other account starts at 0. "
            "The first funded address also owns the genesis token's supply."
        ),
    ] = None,
    wait_timeout_ms: Annotated[
        int,
        typer.Option(
            min=0,
            help="defaultWaitTimeout of icx_sendTransactionAndWait and "
            "icx_waitTransactionResult (0: the methods are off, goloop's default).",
        ),
    ] = 5000,
    debug_api: Annotated[
        bool, typer.Option("--debug-api", help="Serve /api/v3d (goloop's rpcIncludeDebug).")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the ready line as JSON.")] = (
        False
    ),
) -> None:
    """Run a local ICON node simulator (goloop's JSON-RPC, admin API, metrics, websocket)."""
    from iconctl.sim import Scenario, SimOptions, run

    scenario = Scenario(
        block_interval=block_interval,
        stalled=stall,
        lag=lag,
        error_rate=error_rate,
        latency_ms=latency_ms,
        admin_state=admin_state,
        peers=peers,
        batch_limit=batch_limit,
        ws_max_sessions=ws_max_sessions,
    )
    options = SimOptions.resolve(
        listen=listen,
        control_listen=control_listen,
        cid=cid,
        nid=nid,
        channel=channel,
        fund=fund,
        wait_timeout_ms=wait_timeout_ms,
        start_height=start_height,
        data_dir=data_dir,
        seed=seed,
        debug_api=debug_api,
    )

    def ready(sim) -> None:
        if json_output:
            ready_line(
                {
                    "url": sim.url,
                    "control_url": sim.control_url,
                    "height": sim.height,
                    "channel": channel,
                    "token": sim.ledger.token.address,
                }
            )
            return
        control = f", control {sim.control_url}" if sim.control_url else ""
        out.print(f"simulator ready: {sim.url} (height {sim.height}{control})", markup=False)
        sys.stdout.flush()

    run(options, scenario, ready)


@app.command("agent")
def agent_command(
    node: Annotated[
        str,
        typer.Option(
            envvar="ICONCTL_AGENT_NODE", help="The node's RPC URL (base or /api/v3[/channel])."
        ),
    ],
    reference: Annotated[
        list[str] | None,
        typer.Option(
            envvar="ICONCTL_AGENT_REFERENCES",
            help="A reference node's RPC URL for lag (repeatable; the environment "
            "variable takes a space-separated list).",
        ),
    ] = None,
    listen: Annotated[
        str,
        typer.Option(
            envvar="ICONCTL_AGENT_LISTEN", help="HOST:PORT for /healthz, /readyz, /metrics."
        ),
    ] = "127.0.0.1:9900",
    max_lag_blocks: Annotated[
        int | None,
        typer.Option(
            envvar="ICONCTL_AGENT_MAX_LAG_BLOCKS",
            help="Most blocks behind the best reference [spec or 30].",
        ),
    ] = None,
    max_block_age: Annotated[
        float | None,
        typer.Option(
            envvar="ICONCTL_AGENT_MAX_BLOCK_AGE", help="Oldest last block in seconds [spec or 60]."
        ),
    ] = None,
    poll_interval: Annotated[
        float,
        typer.Option(envvar="ICONCTL_AGENT_POLL_INTERVAL", help="Seconds between node polls."),
    ] = 2.0,
    reference_interval: Annotated[
        float, typer.Option(help="Seconds between polls of each reference.")
    ] = 5.0,
    timeout: Annotated[float, typer.Option(help="Timeout of each poll in seconds.")] = 2.0,
    rise: Annotated[int, typer.Option(help="Good polls in a row to become ready.")] = 3,
    fall: Annotated[int, typer.Option(help="Bad polls in a row to become unready.")] = 3,
    spec: Annotated[
        Path | None,
        typer.Option(
            envvar="ICONCTL_AGENT_SPEC", help="Take defaults from this spec's health section."
        ),
    ] = None,
    region_source: Annotated[
        str | None,
        typer.Option(
            envvar="ICONCTL_AGENT_REGION_SOURCE",
            help="Serve /region/readyz from the load balancer's count of ready nodes: "
            "aws:<target group ARN> or gcp:<project>/<backend service>/<region>/<group>.",
        ),
    ] = None,
    region_min_ready: Annotated[
        int,
        typer.Option(
            envvar="ICONCTL_AGENT_REGION_MIN_READY",
            help="Ready nodes the region needs for /region/readyz to answer OK.",
        ),
    ] = 1,
    region_interval: Annotated[
        float, typer.Option(help="Seconds between reads of the region's ready count.")
    ] = 15.0,
    region_max_stale: Annotated[
        float,
        typer.Option(
            help="Seconds a count stays valid when the source fails; then /region/readyz "
            "answers with this node's own readiness."
        ),
    ] = 60.0,
    boot_grace: Annotated[
        float,
        typer.Option(
            envvar="ICONCTL_AGENT_BOOT_GRACE",
            help="Seconds from the agent's start (at boot) during which /healthz answers OK "
            "until the node first answers: restoring and starting are not failures.",
        ),
    ] = 0.0,
    replace_unhealthy: Annotated[
        str | None,
        typer.Option(
            envvar="ICONCTL_AGENT_REPLACE_UNHEALTHY",
            help="aws: mark this instance Unhealthy in its Auto Scaling group once /healthz "
            "has failed for --replace-after seconds, so the group replaces it.",
        ),
    ] = None,
    replace_after: Annotated[
        float,
        typer.Option(
            envvar="ICONCTL_AGENT_REPLACE_AFTER",
            help="Seconds /healthz must fail without a break before the instance is replaced.",
        ),
    ] = 300.0,
    imds_endpoint: Annotated[
        str,
        typer.Option(
            envvar="ICONCTL_AGENT_IMDS_ENDPOINT",
            help="The instance metadata service (IMDSv2) that names this instance.",
        ),
    ] = "http://169.254.169.254",
    json_output: Annotated[bool, typer.Option("--json", help="Print the ready line as JSON.")] = (
        False
    ),
) -> None:
    """Run the health agent: lag-aware /healthz and /readyz, /metrics, and a drain switch."""
    import logging

    from iconctl.agent import AgentConfig, run

    config = AgentConfig.resolve(
        node=node,
        listen=listen,
        references=reference,
        max_lag_blocks=max_lag_blocks,
        max_block_age_seconds=max_block_age,
        spec_path=spec,
        poll_interval=poll_interval,
        reference_interval=reference_interval,
        timeout=timeout,
        rise=rise,
        fall=fall,
        region_source=region_source or None,  # an empty variable means "not configured"
        region_min_ready=region_min_ready,
        region_interval=region_interval,
        region_max_stale=region_max_stale,
        boot_grace=boot_grace,
        replace_unhealthy=replace_unhealthy or None,  # an empty variable means "off"
        replace_after=replace_after,
        imds_endpoint=imds_endpoint,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    def ready(agent) -> None:
        if json_output:
            ready_line(
                {
                    "url": agent.url,
                    "node": agent.node_rpc,
                    "references": [r.label for r in agent.references],
                    "max_lag_blocks": config.max_lag_blocks,
                    # the option's spelling: this line is read by programs (docs/agent.md)
                    "max_block_age": config.max_block_age_seconds,
                    "region_source": agent.region_source.label if agent.region_source else None,
                    "boot_grace": config.boot_grace,
                    "replace_unhealthy": config.replace_unhealthy,
                }
            )
            return
        out.print(
            f"agent ready: {agent.url} (node {agent.node_rpc}, {len(agent.references)} references)",
            markup=False,
        )
        sys.stdout.flush()

    run(config, ready)


@app.command("gateway")
def gateway_command(
    node: Annotated[
        str,
        typer.Option(
            envvar="ICONCTL_GATEWAY_NODE",
            help="The node's RPC base URL, e.g. http://127.0.0.1:9000.",
        ),
    ],
    listen: Annotated[
        str, typer.Option(help="HOST:PORT for client monitors and /metrics (port 0: any free).")
    ] = "127.0.0.1:9081",
    channel: Annotated[str, typer.Option(help="The channel served (/api/v3/CHANNEL/block).")] = (
        "icon_dex"
    ),
    upstream_sessions: Annotated[
        int,
        typer.Option(help="Most monitor sessions opened to the node at once (goloop allows 10)."),
    ] = 2,
    max_clients: Annotated[int, typer.Option(help="Most client monitors in all.")] = 20_000,
    max_per_client: Annotated[
        int, typer.Option(help="Most client monitors from one address.")
    ] = 16,
    window_blocks: Annotated[
        int, typer.Option(help="Recent blocks kept in memory for resuming clients.")
    ] = 1_000,
    max_replay: Annotated[
        int, typer.Option(help="Most blocks behind the tip a client may start from.")
    ] = 10_000,
    max_filters: Annotated[
        int, typer.Option(help="Most distinct event filters served at a time (goloop: 64).")
    ] = 64,
    ping_interval: Annotated[
        float, typer.Option(help="Seconds between keepalive pings to clients and the node.")
    ] = 30.0,
    client_backlog: Annotated[
        int,
        typer.Option(
            help="Bytes waiting for one client (beyond its socket buffer) before it is "
            "dropped as too slow."
        ),
    ] = 256 * 1024,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            help="Address range whose X-Real-IP header names the client (repeatable; "
            "default loopback)."
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the ready line as JSON.")] = (
        False
    ),
) -> None:
    """Serve goloop's websocket monitors to many clients over a few node sessions."""
    import logging

    from iconctl.gateway import GatewayConfig, run
    from iconctl.http.server import parse_hostport

    host, port = parse_hostport(listen, option="--listen")
    config = GatewayConfig(
        node=node,
        host=host,
        port=port,
        channel=channel,
        upstream_sessions=upstream_sessions,
        max_clients=max_clients,
        max_per_client=max_per_client,
        window_blocks=window_blocks,
        max_replay=max_replay,
        max_filters=max_filters,
        ping_interval=ping_interval,
        client_backlog=client_backlog,
    )
    if trusted_proxy:
        config.trusted_proxies = list(trusted_proxy)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    def ready(gateway, bound_port: int) -> None:  # noqa: ANN001
        url = f"ws://{host}:{bound_port}/api/v3/{channel}"
        if json_output:
            ready_line({"url": url, "port": bound_port, "node": config.rpc_url})
            return
        out.print(f"gateway ready: {url}/block, {url}/event (node {config.rpc_url})", markup=False)
        sys.stdout.flush()

    run(config, ready)


# --- orchestration: plan, apply, destroy, status, demo ---------------------------------------

RegionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--region", metavar="NAME", help="Limit the run to this region (repeatable; skips global)."
    ),
]
AutoApproveOpt = Annotated[
    bool, typer.Option("--auto-approve", help="Do not ask for confirmation.")
]


def _run_pipeline(
    spec: Path,
    regions: list[str] | None,
    json_out: bool,
    command: str,
    run: "Callable[[Pipeline], Report]",
) -> None:
    """Build the pipeline, run one command inside the live view, print and map the result."""
    from iconctl.console import real
    from iconctl.pipeline import Pipeline
    from iconctl.progress_view import PipelineView
    from iconctl.spec import load_spec

    console = real(stderr=json_out)
    views: list[PipelineView] = []

    def say(message: str) -> None:
        (views[0].say if views else console.print)(message)

    pipeline = Pipeline(load_spec(spec), spec, regions=regions or [], say=say)
    try:
        with PipelineView(console, [u.name for u in pipeline.units]) as view:
            views.append(view)
            report = run(pipeline)
    except KeyboardInterrupt:
        views.clear()
        again = "apply" if command == "apply" else command
        raise Interrupted(
            f"{command} interrupted; child processes were stopped and state was saved. "
            f"Run `iconctl {again}` again to continue from the interrupted step."
        ) from None
    views.clear()
    if json_out:
        print_json(report.to_json())
    elif not report.cancelled:
        from iconctl.plan_table import plan_table, step_notes

        if command == "plan":
            out.print(plan_table(report))
        for line in step_notes(report):
            out.print(line, markup=False, soft_wrap=True)
        out.print(f"run folder: {report.run_dir}")
    failure = report.failure()
    if failure is not None:
        raise failure


@app.command()
def plan(spec: SpecArg = DEFAULT_SPEC, region: RegionOpt = None, json_out: JsonOpt = False) -> None:
    """Show what apply would change, per region and module; changes nothing."""
    _run_pipeline(spec, region, json_out, "plan", lambda pipeline: pipeline.plan())


@app.command()
def apply(
    spec: SpecArg = DEFAULT_SPEC,
    region: RegionOpt = None,
    auto_approve: AutoApproveOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Build images, create infrastructure and configure nodes, region by region."""

    def confirm(todo: list[str]) -> bool:
        if auto_approve:
            return True
        err.print("iconctl will run:", *(f"  {line}" for line in todo), sep="\n")
        return _ask_yes("Apply?")

    _run_pipeline(spec, region, json_out, "apply", lambda pipeline: pipeline.apply(confirm))


@app.command()
def destroy(
    spec: SpecArg = DEFAULT_SPEC,
    region: RegionOpt = None,
    auto_approve: AutoApproveOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Tear the deployment down in reverse order (the state bucket is kept)."""

    def confirm(name: str) -> bool:
        if auto_approve:
            return True
        return _ask_text(f"Type the deployment name ({name}) to destroy it") == name

    _run_pipeline(spec, region, json_out, "destroy", lambda pipeline: pipeline.destroy(confirm))


def _ask_yes(question: str) -> bool:
    return _ask_text(f"{question} [y/N]").lower() in ("y", "yes")


def _ask_text(question: str) -> str:
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError("no terminal to confirm on; pass --auto-approve to run unattended")
    err.print(question + " ", end="", markup=False)
    try:
        return input().strip()
    except EOFError:
        return ""


@app.command()
def demo(
    keep: Annotated[
        Path | None,
        typer.Option("--keep", help="Work in this directory and keep it (default: a temp dir)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run the whole flow locally on the bundled example; no cloud account needed."""
    from iconctl.demo import run_demo

    report = run_demo(err.print if json_out else out.print, keep=keep)
    if json_out:
        print_json(report.to_json())
        return
    if report.status is not None:
        from iconctl.status import table

        out.print(table(report.status))
    out.print(f"demo finished in {report.seconds:.1f} s")


# The targets of `status` and `statuspage` (parsed by health.parse_target).
EndpointsOpt = Annotated[
    list[str] | None,
    typer.Option("--endpoint", metavar="[REGION=]URL", help="A JSON-RPC v3 endpoint (repeatable)."),
]
AgentsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--agent",
        metavar="[REGION=]URL",
        help="A node's health agent (repeatable): joins the endpoint of its REGION, or is "
        "watched on its own.",
    ),
]
ReferencesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--reference",
        metavar="URL",
        help="Measure lag against this endpoint (repeatable; default: the spec's references).",
    ),
]


@app.command()
def status(
    spec: Annotated[
        Path | None,
        typer.Argument(help="The spec (optional: regions, references, readiness rules)."),
    ] = None,
    endpoint: EndpointsOpt = None,
    agent: AgentsOpt = None,
    reference: ReferencesOpt = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per probe.")] = 5.0,
    json_out: JsonOpt = False,
) -> None:
    """Height, lag, readiness and latency of every endpoint and node; exit 7 if a region has
    no ready node."""
    from iconctl.status import StatusQuery, check, table

    query = StatusQuery.resolve(
        spec_path=spec,
        endpoints=endpoint or [],
        agents=agent or [],
        references=reference or [],
        timeout=timeout,
        default_spec=DEFAULT_SPEC,
    )
    report = query.run()
    try:
        check(report, query.spec)
    finally:
        if json_out:
            print_json(report.to_json())
        else:
            out.print(table(report))


# --- global layer: statuspage, loadtest -------------------------------------------------------


@app.command()
def statuspage(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory of the static site.")],
    spec: Annotated[
        Path | None,
        typer.Argument(
            help="Spec whose regions to watch (optional with --endpoint).", envvar="ICONCTL_SPEC"
        ),
    ] = None,
    endpoint: EndpointsOpt = None,
    agent: AgentsOpt = None,
    reference: ReferencesOpt = None,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Keep serving on loopback: rebuild on a timer, accept "
            "Alertmanager webhooks at /alertmanager.",
        ),
    ] = False,
    listen: Annotated[
        str, typer.Option("--listen", help="HOST:PORT for --serve (loopback only; port 0: any).")
    ] = "127.0.0.1:8080",
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between rebuilds with --serve.")
    ] = 60.0,
    json_out: JsonOpt = False,
) -> None:
    """Build the public status page (per region status, height, lag, latency, uptime, incidents)."""
    from iconctl.statuspage.command import run as run_statuspage

    def ready(result, url) -> None:  # noqa: ANN001
        if json_out:
            ready_line({**result.to_json(), "url": url})
            return
        from iconctl.console import printable

        for region in result.results:  # the agents' words: never markup, controls escaped
            reason = f" ({region.reason})" if region.reason else ""
            detail = f" {region.detail}" if region.detail else ""
            line = printable(f"{region.name}: {region.status}{reason}{detail}")
            out.print(line, markup=False)
        out.print(f"status page: {result.overall}, written to {result.out_dir}/", markup=False)
        if url:
            out.print(f"serving {url} (Alertmanager webhook: {url}alertmanager)", markup=False)

    run_statuspage(
        spec_path=spec, endpoints=endpoint or [], agents=agent or [], out_dir=out_dir,
        references=reference or [], serve=serve, listen=listen, interval_s=interval,
        on_ready=ready,
    )  # fmt: skip


@app.command()
def loadtest(
    endpoint: Annotated[
        str,
        typer.Option(
            "--endpoint",
            envvar="ICONCTL_ENDPOINT",
            help="JSON-RPC v3 URL, e.g. https://host/api/v3.",
        ),
    ],
    users: Annotated[int, typer.Option("--users", help="Concurrent clients at the peak.")] = 10,
    duration: Annotated[
        int, typer.Option("--duration", help="Length of the run in seconds, ramp included.")
    ] = 30,
    ramp: Annotated[
        int | None,
        typer.Option("--ramp", help="Seconds to ramp up to --users (default: a third of the run)."),
    ] = None,
    p95_ms: Annotated[
        float | None, typer.Option("--p95-ms", help="Fail when p95 latency exceeds this (ms).")
    ] = None,
    max_error_rate: Annotated[
        float | None,
        typer.Option("--max-error-rate", help="Fail when the failed share exceeds this (0-1)."),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write an HTML report with latency charts to FILE."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Load-test an endpoint with Locust and the ICON method mix; exit 7 if a threshold breaks."""
    from iconctl.loadtest import LoadTest, Thresholds
    from iconctl.loadtest import run as run_loadtest
    from iconctl.loadtest.report import summary_lines

    report = run_loadtest(
        LoadTest(
            endpoint=endpoint,
            users=users,
            duration_s=duration,
            ramp_s=ramp,
            thresholds=Thresholds(p95_ms=p95_ms, max_error_rate=max_error_rate),
            html=html,
        )
    )
    if json_out:
        print_json(report.to_json())
    else:
        for line in summary_lines(report):
            out.print(line, markup=False)
        if html is not None:
            out.print(f"report: {html}", markup=False)
    report.check()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and turn every outcome into the contract's exit code.

    Typer handles usage errors itself (exit 2 with the usage line); everything iconctl raises
    is mapped here, and nothing else reaches the user as a traceback unless --debug is set.
    """
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("ICONCTL_DEBUG", "") not in ("", "0", "false")

    try:
        try:
            app(args=args, prog_name="iconctl")
        except OSError as exc:  # a path or the disk failed where no command said more
            raise from_os_error(exc) from exc
    except IconctlError as exc:
        if debug:
            traceback.print_exc()
        if "--json" in args and not json_printed():
            print_json(exc.to_json())
        for line in exc.lines():
            err.print(f"{exc.prefix}{line}", markup=False)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as exc:  # the last line of defence: no traceback without --debug
        if debug:
            traceback.print_exc()
        err.print(
            f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
            markup=False,
        )
        sys.exit(ExitCode.INTERNAL)
