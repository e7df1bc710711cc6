"""The spec commands as a user runs them: exit codes, output, files, never a traceback."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.helpers import run_iconctl

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "specs"
MULTI = FIXTURES / "multi-region.yaml"
SINGLE = FIXTURES / "single-node.yaml"
LOCATED = re.compile(r"^\S+:\d+: [\w.\[\]]+: .+$")


def test_help_and_version() -> None:
    result = run_iconctl("--help")
    assert result.returncode == 0
    for command in ("init", "validate", "schema", "render"):
        assert command in result.stdout
    assert run_iconctl("--version").stdout.startswith("iconctl ")


def test_unknown_command_is_usage_error() -> None:
    result = run_iconctl("frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("spec", [MULTI, SINGLE])
def test_validate_examples(spec: Path) -> None:
    result = run_iconctl("validate", str(spec))
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    data = json.loads(run_iconctl("validate", str(spec), "--json").stdout)
    assert data["valid"] is True and data["regions"]


def test_validate_invalid_prints_located_lines(tmp_path: Path) -> None:
    bad = tmp_path / "iconctl.yaml"
    text = MULTI.read_text().replace("flavour: asg              # single | asg", "flavor: asg")
    bad.write_text(text.replace("rpc_port: 9000", "rpc_port: 123456"))
    result = run_iconctl("validate", str(bad))
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(LOCATED.match(line) for line in lines), lines
    assert f"{bad}:9: node.rpc_port:" in result.stderr
    assert f"{bad}:21: regions[0].flavor: unknown field (did you mean 'flavour'?)" in result.stderr
    data = json.loads(run_iconctl("validate", str(bad), "--json").stdout)
    assert data["exit_code"] == 3
    assert {p["path"] for p in data["problems"]} == {"node.rpc_port", "regions[0].flavor"}


def test_validate_yaml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("version: 1\nname: [oops\n")
    result = run_iconctl("validate", str(bad))
    assert result.returncode == 3 and "YAML syntax error" in result.stderr
    assert re.search(rf"{re.escape(str(bad))}:\d+: YAML syntax error", result.stderr)
    missing = run_iconctl("validate", str(tmp_path / "absent.yaml"))
    assert missing.returncode == 3 and "no such file" in missing.stderr


def test_validate_defaults_to_iconctl_yaml(tmp_path: Path) -> None:
    (tmp_path / "iconctl.yaml").write_text(SINGLE.read_text())
    assert run_iconctl("validate", cwd=tmp_path).returncode == 0


def test_debug_shows_traceback(tmp_path: Path) -> None:
    result = run_iconctl("--debug", "validate", str(tmp_path / "absent.yaml"))
    assert result.returncode == 3 and "Traceback" in result.stderr


def test_init_writes_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "iconctl.yaml"
    result = run_iconctl("init", "--example", "multi-region", "--output", str(target))
    assert result.returncode == 0, result.stderr
    original = target.read_text()
    assert original.startswith("# yaml-language-server: $schema=")
    assert run_iconctl("validate", str(target)).returncode == 0
    target.write_text("# my edits\n" + original)
    again = run_iconctl("init", "--output", str(target))
    assert again.returncode == 3 and "--force" in again.stderr
    assert target.read_text().startswith("# my edits")
    forced = run_iconctl("init", "--example", "single-node", "--output", str(target), "--force")
    assert forced.returncode == 0
    assert "flavour: single" in target.read_text()
    bad = run_iconctl("init", "--example", "nope", "--output", str(tmp_path / "x.yaml"))
    assert bad.returncode == 2


def test_schema_is_valid_json_schema_the_examples_satisfy() -> None:
    result = run_iconctl("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for spec in (MULTI, SINGLE):
        validator.validate(yaml.safe_load(spec.read_text()))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**yaml.safe_load(SINGLE.read_text()), "bogus": 1})


def test_spec_reference_doc_is_current() -> None:
    from iconctl.spec.reference import markdown

    committed = (ROOT / "docs" / "spec.md").read_text()
    assert committed == markdown(), "docs/spec.md is stale; run `make docs`"


SENTINELS = {
    "CLOUDFLARE_API_TOKEN": "sentinel-cf-7f3a9c",
    "SLACK_WEBHOOK_URL": "https://hooks.example/sentinel-slack-51d2",
    "TELEGRAM_BOT_TOKEN": "sentinel-tg-0b8e44",
    "ELASTICSEARCH_PASSWORD": "sentinel-es-9c21aa",
}


@pytest.mark.parametrize("spec", [MULTI, SINGLE])
def test_render_writes_no_secret_values(spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    result = run_iconctl("render", str(spec), "--out", str(out), "--json", env=SENTINELS)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)["files"]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) == len(listed) + 1  # + the render marker
    for path in files:
        content = path.read_text()
        for value in SENTINELS.values():
            assert value not in content, f"{path} contains a secret value"
    for value in SENTINELS.values():
        assert value not in result.stdout + result.stderr


def test_render_refuses_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = run_iconctl("render", str(SINGLE), "--out", str(tmp_path))
    assert result.returncode == 3 and "did not render" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("kind", ["alias-bomb", "oversized"])
def test_hostile_files_exit_3_quickly(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"{kind}.yaml"
    if kind == "alias-bomb":
        lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
            lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
        path.write_text("\n".join(lines) + "\n")
    else:
        path.write_text("version: 1\n" + "# padding\n" * 300_000)
    started = time.monotonic()
    result = run_iconctl("validate", str(path))
    elapsed = time.monotonic() - started
    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert str(path) in result.stderr
    assert elapsed < 10  # a generous bound: the point is that it does not hang or balloon


def _deep_flow(tmp_path: Path) -> Path:
    path = tmp_path / "deep-flow.yaml"
    path.write_text("version: 1\nregions: " + "[" * 1000 + "]" * 1000 + "\n")
    return path


def _deep_block(tmp_path: Path) -> Path:
    path = tmp_path / "deep-block.yaml"
    path.write_text("version: 1\nregions:\n" + "".join("  " * i + "-\n" for i in range(1, 1001)))
    return path


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("make", "command", "expected"),
    [
        (_deep_flow, "validate", ":2: nested deeper than 32 levels"),
        (_deep_block, "validate", ":34: nested deeper than 32 levels"),
        (_deep_flow, "render", ":2: nested deeper than 32 levels"),
        (_fifo, "validate", ": not a regular file"),
        (_fifo, "plan", ": not a regular file"),
        (lambda _: Path("/dev/zero"), "validate", ": not a regular file"),
    ],
    ids=["deep-flow", "deep-block", "render-deep", "fifo", "plan-fifo", "device"],
)
def test_odd_inputs_exit_3_with_one_line(make, command: str, expected: str, tmp_path: Path):
    """A 1,000-deep YAML list ended in RecursionError (exit 1); a FIFO made validate hang."""
    path = make(tmp_path)
    result = run_iconctl(command, str(path), timeout=20)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(str(path)) and expected in lines[0], lines
