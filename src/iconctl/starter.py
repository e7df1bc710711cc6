"""`iconctl init`: a commented starter spec from one of the bundled examples."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from iconctl.errors import InputError
from iconctl.files import write_atomic

EXAMPLES = ("multi-region", "single-node")

MODELINE = """\
# yaml-language-server: $schema=./iconctl.schema.json
# Written by `iconctl init`. Check it with `iconctl validate`; see what it deploys with
# `iconctl render` and `iconctl plan`. Editor completion: `iconctl schema > iconctl.schema.json`.
"""


def example_text(name: str) -> str:
    if name not in EXAMPLES:
        raise InputError(f"unknown example {name!r}; choose one of: {', '.join(EXAMPLES)}")
    return resources.files("iconctl.examples").joinpath(f"{name}.yaml").read_text("utf-8")


def write_starter(example: str, output: Path, *, force: bool) -> Path:
    text = MODELINE + example_text(example)
    if output.is_dir():
        raise InputError(f"{output}: is a directory; give the spec file's path")
    if output.exists() and not force:
        raise InputError(f"{output}: already exists; pass --force to overwrite it")
    write_atomic(output, text)
    return output
