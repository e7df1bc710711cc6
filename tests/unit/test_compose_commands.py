"""Every compose service that runs the iconctl image with the image's own entrypoint
(``iconctl``) passes a command iconctl has: ``command`` is the entrypoint's arguments, so a
leading ``iconctl`` would run ``iconctl iconctl ...`` (the gateway did, and crash-looped in
every stack until ``make e2e`` opened a block monitor through the edge)."""

from __future__ import annotations

import pytest
import typer.main
import yaml

from iconctl.cli import app
from tests.helpers import ROOT

COMPOSE = sorted((ROOT / "compose").glob("compose*.yaml"))


def _iconctl_services() -> list[tuple[str, str, list[str]]]:
    found = []
    for path in COMPOSE:
        services = (yaml.safe_load(path.read_text()) or {}).get("services") or {}
        for name, service in services.items():
            if (
                "ICON_ICONCTL_IMAGE" in str(service.get("image", ""))
                and "entrypoint" not in service
            ):
                found.append((path.name, name, [str(a) for a in service.get("command") or []]))
    return found


def test_the_stack_runs_iconctl_services_with_the_images_entrypoint() -> None:
    names = {(f, s) for f, s, _ in _iconctl_services()}
    assert ("compose.edge.yaml", "gateway") in names
    assert ("compose.restore.yaml", "restore") in names


@pytest.mark.parametrize(("file", "service", "command"), _iconctl_services())
def test_the_command_is_one_iconctl_has(file: str, service: str, command: list[str]) -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    assert command, f"{file} {service}: no command (the image would print its help)"
    assert command[0] in commands, f"{file} {service}: iconctl has no command {command[0]!r}"
