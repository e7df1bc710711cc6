"""Every compose file, and every combination iconctl selects, against the Compose schema."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from tests.integration import compose_model as cf

# What the renderer writes into .env (non-secret values only), for a fully featured node.
RENDERED_ENV = {
    "COMPOSE_PROJECT_NAME": "icon-api",
    "ICON_NODE_IMAGE": "iconloop/icon2-node:v1.4.2",
    "ICON_ICONCTL_IMAGE": "ghcr.io/icon-community/iconctl:0.1.0",
    "ICON_SERVICE": "MainNet",
    "ICON_RPC_PORT": "9000",
    "ICON_P2P_PORT": "7100",
    "ICON_WS_MAX_SESSION": "1000",
    "ICON_RPC_BATCH_LIMIT": "10",
    "ICON_SEEDS": "",
    "ICON_DOMAIN": "node.example.org",
    "ICON_TLS_EMAIL": "ops@example.org",
    "ICON_AGENT_PORT": "9900",
    "ICON_MAX_LAG_BLOCKS": "30",
    "ICON_MAX_BLOCK_AGE": "60",
    "ICON_REFERENCES": "https://ctz.solidwallet.io/api/v3,https://api.icon.community/api/v3",
    "ICON_STORE_URL": "s3://icon-api-snapshots-us-east-1/mainnet",
    "ICON_SYNC_INTERVAL_MINUTES": "60",
    "ICON_SYNC_KEEP": "24",
}


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(cf.find_schema().read_text(encoding="utf-8"))
    cls = jsonschema.Draft7Validator
    cls.check_schema(schema)
    return cls(schema)


def _errors(validator, model) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(model)
    ]


ALL_FILES = sorted(cf.COMPOSE_DIR.glob("compose*.yaml"))


def test_every_override_has_a_file():
    names = {p.name for p in ALL_FILES}
    assert names == {"compose.yaml"} | {f"compose.{n}.yaml" for n in cf.OVERRIDES}


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_each_file_validates(validator, path):
    model = cf.load(path)
    assert isinstance(model, dict) and model.get("services"), path
    assert _errors(validator, model) == []
    # and once its variables are resolved, as compose validates it
    assert _errors(validator, cf.interpolate(model, RENDERED_ENV)) == []


def _combo_id(names):
    return "+".join(names)


def check_stack(validator, files, env) -> dict:
    """Merge the files as compose does, resolve the variables, validate, check invariants."""
    merged = cf.merge([cf.load(p) for p in files])
    model = cf.interpolate(merged, env)
    assert _errors(validator, model) == []

    names = [p.name for p in files]
    services = model["services"]
    declared_volumes = set(model.get("volumes") or {})
    for name, svc in services.items():
        assert svc.get("image"), f"service {name} has no image"
        for dep in svc.get("depends_on") or {}:
            assert dep in services, f"{name} depends on missing service {dep}"
        for vol in svc.get("volumes") or []:
            source = vol.split(":")[0]
            if source.startswith("."):
                assert (cf.COMPOSE_DIR / source).resolve().is_file(), f"{name}: {source} missing"
            elif not source.startswith("/"):
                assert source in declared_volumes, f"{name}: volume {source} not declared"

    # the node's RPC port (admin API, metrics, debug API) is never published beyond loopback
    for port in services["node"]["ports"]:
        if port.endswith(":9000"):
            assert port.startswith("127.0.0.1:"), port
    # a serving node's agent is published on every address: the load balancer's health checks,
    # Cloudflare's monitors and Prometheus reach it there (the firewall picks the sources); a
    # loopback binding would keep a single-node pool unhealthy forever
    agent_ports = services["agent"].get("ports", [])
    if "compose.single.yaml" in names or "compose.asg.yaml" in names:
        assert len(agent_ports) == 1 and agent_ports[0].count(":") == 1, agent_ports
    else:
        assert agent_ports == []
    if "compose.restore.yaml" in names:
        cond = services["node"]["depends_on"]["restore"]["condition"]
        assert cond == "service_completed_successfully"
    if "compose.single.yaml" in names:
        assert any(p.endswith(":8443") for p in services["edge"]["ports"])
        assert services["edge"]["environment"]["ICON_TLS_EMAIL"]
        assert services["edge"]["depends_on"]["certbot-init"]
    return model


@pytest.mark.parametrize("names", cf.combinations(), ids=_combo_id)
def test_combination_validates_and_is_complete(validator, names):
    check_stack(validator, cf.compose_files(names), RENDERED_ENV)


@pytest.mark.parametrize(
    "names",
    [
        ["single", "agent", "node-exporter", "edge"],
        ["asg", "restore", "agent", "node-exporter", "edge"],
    ],
    ids=_combo_id,
)
def test_order_of_overrides_does_not_matter(names):
    files = cf.compose_files(names)
    forward = cf.interpolate(cf.merge([cf.load(p) for p in files]), RENDERED_ENV)
    backward = cf.interpolate(
        cf.merge([cf.load(p) for p in [files[0], *files[:0:-1]]]), RENDERED_ENV
    )

    def normal(model):
        for svc in model["services"].values():
            for key in ("ports", "volumes"):
                if key in svc:
                    svc[key] = sorted(svc[key])
        return model

    assert normal(forward) == normal(backward)


def test_missing_required_variable_is_reported():
    merged = cf.merge([cf.load(p) for p in cf.compose_files(["asg", "restore", "agent", "edge"])])
    env = {k: v for k, v in RENDERED_ENV.items() if k != "ICON_STORE_URL"}
    with pytest.raises(cf.MissingVariable, match="ICON_STORE_URL"):
        cf.interpolate(merged, env)


def test_no_secret_literals():
    """Secrets reach containers only from the environment of `docker compose up`."""
    for path in ALL_FILES:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"(PASSWORD|TOKEN|SECRET|KEY)[A-Z_]*:\s*(\S+)", text):
            assert match.group(2).startswith("${"), f"{path.name}: {match.group(0)}"


def test_merge_rules_are_the_ones_compose_applies():
    base = {
        "services": {
            "s": {
                "image": "a",
                "command": ["x", "y"],
                "ports": ["1:1"],
                "volumes": ["./a:/etc/c:ro", "v:/data"],
                "environment": {"A": "1"},
            }
        }
    }
    over = {
        "services": {
            "s": {
                "command": ["z"],
                "ports": ["2:2"],
                "volumes": ["./b:/etc/c:ro"],
                "environment": {"B": "2"},
            }
        }
    }
    merged = cf.merge([base, over])["services"]["s"]
    assert merged["command"] == ["z"]
    assert merged["ports"] == ["1:1", "2:2"]
    assert merged["volumes"] == ["./b:/etc/c:ro", "v:/data"]
    assert merged["environment"] == {"A": "1", "B": "2"}


def test_interpolation():
    env = {"A": "1", "E": ""}
    assert cf.interpolate("${A}-${B:-two}-${E:-e}-${E-f}-$$A", env) == "1-two-e--$A"
    with pytest.raises(cf.MissingVariable):
        cf.interpolate("${E:?empty}", env)


def _dotenv(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
    return dict(pairs)


@pytest.mark.parametrize("example", ["multi-region", "single-node"])
def test_every_stack_iconctl_renders_is_valid(validator, example):
    """The contract with the renderer: its .env files select files that exist, set every
    variable they need, and the merged stacks validate."""
    from iconctl.render import render_files
    from iconctl.spec import load_spec

    files = render_files(load_spec(cf.ROOT / "examples" / f"{example}.yaml"))
    envs = {
        path: _dotenv(text)
        for path, text in files.items()
        if path.split("/")[-2:-1] == ["compose"] and path.endswith(".env")
    }
    assert envs, "the renderer wrote no compose environment"
    for path, env in envs.items():
        assert env["COMPOSE_PATH_SEPARATOR"] == ":", path
        names = env["COMPOSE_FILE"].split(":")
        assert names[0] == "compose.yaml", path
        for name in names:
            assert (cf.COMPOSE_DIR / name).is_file(), f"{path}: {name} does not exist"
        check_stack(validator, [cf.COMPOSE_DIR / n for n in names], env)
        for key, value in env.items():  # secrets are never written, only referenced
            assert not value.startswith("env:"), (path, key)


def test_iconctl_image_dockerfile():
    """What the file promises; `make e2e` builds it for real."""
    text = (cf.COMPOSE_DIR / "iconctl.Dockerfile").read_text()
    lines = [
        line
        for line in text.splitlines()
        if line and not line.startswith("#") and not line.startswith(" ")
    ]
    stages: dict[str, list[tuple[str, str]]] = {}
    current = None
    for op, _, args in (line.partition(" ") for line in lines):
        if op == "FROM":
            current = args.split()[-1]
            stages[current] = []
        elif current:
            stages[current].append((op, args))
    assert set(stages) == {"iconctl", "sim"}
    # the base image is an argument with a pinned default, never :latest
    default = re.search(r"^ARG BASE_IMAGE=(\S+)$", text, re.MULTILINE).group(1)
    assert ":" in default and not default.endswith(":latest")
    # the sidecar image is unprivileged; only the node stand-in runs as root (goloop does)
    assert [a for op, a in stages["iconctl"] if op == "USER"][-1] not in ("root", "0")
    # installed offline from the wheelhouse build-images.sh puts into the build context
    assert ("COPY", "wheels /tmp/wheels") in stages["iconctl"]
    assert '--wheel-dir "$context/wheels"' in (cf.COMPOSE_DIR / "build-images.sh").read_text()
    # every service that runs the iconctl image without its entrypoint passes iconctl args
    restore = cf.load(cf.COMPOSE_DIR / "compose.restore.yaml")["services"]["restore"]
    assert restore["command"][:2] == ["sync", "restore"]
