"""The iconctl command line: parse options, call one core function, print, map errors.

Nothing here does real work: each command hands its options to a core module, and every
error becomes an exit code in one place, ``main``.
"""

from __future__ import annotations

import os
import sys
import traceback
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
