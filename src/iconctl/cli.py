"""The iconctl command line: parse options, call one core function, print, map errors.

Nothing here does real work: each command hands its options to a core module, and every
error becomes an exit code in one place, ``main``.
"""

from __future__ import annotations

import os
import sys
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from iconctl import __version__
from iconctl.console import out, print_json
from iconctl.errors import ExitCode, IconctlError

DEFAULT_SPEC = Path("iconctl.yaml")

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
def validate(spec: SpecArg = DEFAULT_SPEC, json_out: JsonOpt = False) -> None:
    """Check a spec; print one line per problem as FILE:LINE: field.path: message."""
    from iconctl.spec import load_spec
    from iconctl.spec.summary import summary, text

    loaded = load_spec(spec)
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


# --- node simulator and health agent ---------------------------------------------------------


# --- orchestration: plan, apply, destroy, status, demo ---------------------------------------


@app.command()
def demo(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Keep rendered files here (default: a temp dir).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run the whole flow locally on the bundled example; no cloud account needed."""
    from iconctl.demo import run_demo
    from iconctl.spec.summary import table

    report = run_demo(out_dir)
    if json_out:
        print_json({"spec": report.spec, "out": str(report.out_dir), "files": report.files})
        return
    out.print("[bold]1. validate[/] the bundled multi-region spec: valid")
    out.print(table(report.spec))
    out.print(f"[bold]2. render[/] {len(report.files)} files into {report.out_dir}/")
    for name in report.files:
        out.print(f"   {name}", markup=False)


# --- global layer: statuspage, loadtest -------------------------------------------------------


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
    json_out: JsonOpt = False,
) -> None:
    """Load-test an endpoint with Locust and the ICON method mix; exit 6 if a threshold breaks."""
    from iconctl.console import err
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
        )
    )
    if json_out:
        print_json(report.to_json())
    else:
        for line in summary_lines(report):
            out.print(line, markup=False)
    if report.breaches:
        for breach in report.breaches:
            err.print(f"error: threshold broken: {breach}", markup=False)
        raise typer.Exit(ExitCode.INTEGRITY)


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
        if "--json" in args:
            from iconctl.console import print_json

            print_json(exc.to_json())
        for line in exc.lines():
            err.print(f"{exc.prefix}{line}", markup=False)
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
