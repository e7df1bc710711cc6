"""Load, merge and interpolate compose files the way `docker compose` does, for the tests.

No compose client that can merge offline is available, so this follows the Compose
specification's merge rules for the keys the project's files use: mappings merge deeply,
``command``/``entrypoint`` are replaced, ``volumes`` of a service merge by container path,
``ports`` and other sequences are concatenated without duplicates.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "compose"

# The override files. Each only adds to the services, so their order after compose.yaml
# does not change the result; iconctl lists the flavour right after compose.yaml.
OVERRIDES = ["restore", "agent", "edge", "node-exporter", "log-shipper", "source", "asg", "single"]


def combinations() -> list[list[str]]:
    """Every combination iconctl can select (see iconctl.render.compose), in its order."""
    combos = []
    for flavour in ("single", "asg"):
        for restore in (False, True):
            for shipper in (False, True):
                names = [flavour] + (["restore"] if restore else [])
                names += ["agent", "node-exporter", "edge"]
                names += ["log-shipper"] if shipper else []
                combos.append(names)
    for shipper in (False, True):  # the source of truth: snapshots instead of serving
        combos.append(["source", "agent", "node-exporter"] + (["log-shipper"] if shipper else []))
    return combos


def compose_files(names: list[str]) -> list[Path]:
    return [COMPOSE_DIR / "compose.yaml"] + [COMPOSE_DIR / f"compose.{n}.yaml" for n in names]


def load(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


_REPLACED = {"command", "entrypoint"}


def _volume_target(entry) -> str:
    if isinstance(entry, dict):
        return entry["target"]
    parts = entry.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _merge_service(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if key in _REPLACED or key not in out:
            out[key] = copy.deepcopy(value)
        elif key == "volumes":
            by_target = {_volume_target(v): v for v in out[key]}
            for v in value:
                by_target[_volume_target(v)] = v
            out[key] = list(by_target.values())
        elif isinstance(value, dict) and isinstance(out[key], dict):
            out[key] = deep_merge(out[key], value)
        elif isinstance(value, list) and isinstance(out[key], list):
            out[key] = out[key] + [v for v in value if v not in out[key]]
        else:
            out[key] = copy.deepcopy(value)
    return out


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge(models: list[dict]) -> dict:
    result: dict = {}
    for model in models:
        for key, value in model.items():
            if key == "services":
                services = result.setdefault("services", {})
                for name, svc in value.items():
                    services[name] = _merge_service(services.get(name, {}), svc)
            elif isinstance(value, dict) and isinstance(result.get(key), dict):
                result[key] = deep_merge(result[key], value)
            else:
                result[key] = copy.deepcopy(value)
    return result


_VAR = re.compile(
    r"\$(?:\$"  # $$
    r"|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}"  # ${NAME[op arg]}
    r"|([A-Za-z_][A-Za-z0-9_]*))"  # $NAME
)


class MissingVariable(Exception):
    pass


def interpolate(value, env: dict[str, str]):
    """Resolve ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, $VAR and $$."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        op, arg = match.group(2), match.group(3)
        present = name in env
        set_nonempty = present and env[name] != ""
        if op in (":-", "-"):
            use_default = not set_nonempty if op == ":-" else not present
            return interpolate(arg, env) if use_default else env[name]
        if op in (":?", "?"):
            missing = not set_nonempty if op == ":?" else not present
            if missing:
                raise MissingVariable(f"{name}: {arg}")
            return env[name]
        return env.get(name, "")

    return _VAR.sub(sub, value)


def find_schema() -> Path:
    """The Compose specification schema, kept in the repository's fixtures."""
    return ROOT / "tests" / "fixtures" / "compose-spec.json"
