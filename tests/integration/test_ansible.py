"""The Ansible roles for real: lint, then applied to localhost into a temporary root, twice.

No Docker engine runs here, so Docker-dependent tasks are switched off by their variables
(icon_node_manage_docker, *_manage_service, *_install); everything else is applied for real
and the second run must change nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.helpers import ROOT, need_tool
from tests.integration import compose_model as cf

pytestmark = pytest.mark.timeout(600)

ANSIBLE = ROOT / "ansible"
ROLES = ["icon_node", "icon_agent", "icon_source", "icon_edge", "icon_monitoring"]

# The role inputs iconctl renders into env/extravars (the contract with the renderer).
CONTRACT_KEYS = {
    "icon_node_image",
    "icon_node_network",
    "icon_node_rpc_port",
    "icon_node_p2p_port",
    "icon_node_ws_max_sessions",
    "icon_node_compose_files",
    "icon_node_restore_store_url",
    "icon_agent_listen",
    "icon_agent_max_lag_blocks",
    "icon_agent_max_block_age",
    "icon_agent_references",
    "icon_source_store_url",
    "icon_source_interval_minutes",
    "icon_source_keep",
    "icon_edge_domain",
    "icon_edge_tls_email",
}


def _specs() -> dict[str, dict]:
    options = {}
    for role in ROLES:
        path = ANSIBLE / "roles" / role / "meta" / "argument_specs.yml"
        spec = yaml.safe_load(path.read_text())
        options[role] = spec["argument_specs"]["main"]["options"]
    return options


def test_every_default_is_declared_and_every_declared_input_has_a_default():
    for role, options in _specs().items():
        defaults = yaml.safe_load((ANSIBLE / "roles" / role / "defaults" / "main.yml").read_text())
        assert set(defaults) == set(options) - {k for k, v in options.items() if v.get("required")}
        for name, option in options.items():
            assert name.startswith(role + "_"), name
            assert option.get("description"), name
            assert option.get("type"), name
            if name in defaults:
                assert option.get("default") == defaults[name], name


def test_the_renderer_contract_keys_are_role_inputs():
    declared = set().union(*(set(o) for o in _specs().values()))
    assert not CONTRACT_KEYS - declared


def test_ansible_lint_production_profile(tmp_path: Path):
    tools = need_tool("ansible-lint")
    # On a copy: ansible-lint installs the collection into <project>/.ansible, whose links
    # would point nowhere and break building the package from the checkout.
    project = tmp_path / "ansible"
    shutil.copytree(ANSIBLE, project, ignore=shutil.ignore_patterns(".ansible"))
    result = subprocess.run(
        [tools["ansible-lint"], "--profile", "production", "--nocolor"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def _inventory(tmp: Path, hosts: dict[str, dict]) -> Path:
    inventory = {
        "all": {
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": sys.executable,
                "ansible_become": False,
            },
            "children": {"icon_nodes": {"hosts": hosts}, "icon_source": {"hosts": hosts}},
        }
    }
    path = tmp / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path


def _roots(root: Path) -> dict:
    return {f"icon_{role}_root": str(root) for role in ("node", "agent", "source", "edge")}


def _extravars(**extra) -> dict:
    return {
        # what the renderer writes for a source-of-truth node in an ASG region
        "icon_node_image": "iconloop/icon2-node:v1.4.2",
        "icon_node_network": "mainnet",
        "icon_node_rpc_port": 9000,
        "icon_node_p2p_port": 7100,
        "icon_node_ws_max_sessions": 1000,
        "icon_node_compose_files": [
            "compose.yaml",
            "compose.restore.yaml",
            "agent",
            "compose.edge.yaml",
            "compose.node-exporter.yaml",
            "compose.source.yaml",
            "compose.asg.yaml",
        ],
        "icon_node_restore_store_url": "s3://icon-api-snapshots-us-east-1/mainnet",
        "icon_agent_listen": "0.0.0.0:9900",
        "icon_agent_max_lag_blocks": 30,
        "icon_agent_max_block_age": 60,
        "icon_agent_references": [
            "https://ctz.solidwallet.io/api/v3",
            "https://api.icon.community/api/v3",
        ],
        "icon_source_store_url": "s3://icon-api-snapshots-us-east-1/mainnet",
        "icon_source_interval_minutes": 60,
        "icon_source_keep": 24,
        # this machine: no Docker engine, no systemd, no package installs
        "icon_node_manage_docker": False,
        "icon_node_install_packages": False,
        "icon_agent_install": False,
        "icon_agent_manage_service": False,
        "icon_source_manage_service": False,
        "icon_edge_install_packages": False,
        "icon_edge_manage_service": False,
        "icon_edge_validate": False,
        **extra,
    }


# Two hosts in one run: the compose packaging (what the renderer selects by default), and
# the systemd/host packaging (agent and snapshots as hardened units, nginx on the host).
def _hosts(tmp: Path) -> dict[str, dict]:
    return {
        "compose-node": {
            **_roots(_os_root(tmp / "compose-root")),
            "icon_edge_domain": "",
            "icon_edge_tls_email": "",
        },
        "systemd-node": {
            **_roots(_os_root(tmp / "systemd-root")),
            "icon_agent_mode": "systemd",
            "icon_source_mode": "systemd",
            "icon_edge_mode": "host",
            "icon_edge_domain": "node.example.org",
            "icon_edge_tls_email": "ops@example.org",
        },
    }


def _os_root(path: Path) -> Path:
    """An empty root with the directories every Debian system has."""
    for sub in ("etc/systemd/system", "usr/local/sbin", "usr/local/bin", "var/lib", "opt"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def _play(
    tmp: Path, hosts: dict[str, dict], extravars: dict, *args: str
) -> tuple[int, str, dict[str, dict]]:
    tools = need_tool("ansible-playbook")
    vars_file = tmp / "extravars.yml"
    vars_file.write_text(yaml.safe_dump(extravars))
    env = {
        **os.environ,
        "ANSIBLE_ROLES_PATH": str(ANSIBLE / "roles"),
        "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
        "ANSIBLE_HOME": str(tmp / "ansible-home"),
    }
    result = subprocess.run(
        [
            tools["ansible-playbook"],
            "-i",
            str(_inventory(tmp, hosts)),
            "-e",
            f"@{vars_file}",
            str(ANSIBLE / "playbooks" / "site.yml"),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=500,
    )
    recap = {}
    for host, counts in re.findall(
        r"^(\S+)\s*:\s*(ok=.*)$", result.stdout.split("PLAY RECAP")[-1], re.MULTILINE
    ):
        recap[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    return result.returncode, result.stdout + result.stderr, recap


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the roles set file ownership to root; run as root (as CI does)")
    tmp = tmp_path_factory.mktemp("ansible")
    hosts = _hosts(tmp)
    first = _play(tmp, hosts, _extravars())
    second = _play(tmp, hosts, _extravars())
    return tmp / "compose-root", first, second, tmp / "systemd-root"


def test_site_applies_and_is_idempotent(applied):
    _, (rc1, out1, recap1), (rc2, out2, recap2), _ = applied
    assert rc1 == 0, out1[-6000:]
    assert set(recap1) == {"compose-node", "systemd-node"}, recap1
    for host, counts in recap1.items():
        assert counts["failed"] == 0 and counts["changed"] > 0, (host, counts)
    assert rc2 == 0, out2[-6000:]
    for host, counts in recap2.items():
        assert counts["changed"] == 0, (host, out2[-6000:])


def _dotenv(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    return env


def test_the_stack_it_writes_is_a_valid_compose_project(applied):
    root = applied[0]
    compose_dir = root / "opt/icon/compose"
    env = _dotenv(compose_dir / ".env")
    assert env["COMPOSE_PROJECT_NAME"] == "icon"
    assert env["ICON_WS_MAX_SESSION"] == "1000"
    assert env["COMPOSE_PATH_SEPARATOR"] == ":"
    files = env["COMPOSE_FILE"].split(":")
    assert files == [
        "compose.yaml",
        "compose.restore.yaml",
        "compose.agent.yaml",
        "compose.edge.yaml",
        "compose.node-exporter.yaml",
        "compose.source.yaml",
        "compose.asg.yaml",
    ]
    assert env["ICON_SERVICE"] == "MainNet"
    assert env["ICON_SEEDS"] == "seed-ctz.solidwallet.io:7100"
    assert env["ICON_REFERENCES"] == (
        "https://ctz.solidwallet.io/api/v3,https://api.icon.community/api/v3"
    )
    assert env["ICON_STORE_URL"] == "s3://icon-api-snapshots-us-east-1/mainnet"
    assert env["ICON_SYNC_KEEP"] == "24"
    # exporters stay on loopback unless a private metrics address is given
    assert env["ICON_NODE_EXPORTER_LISTEN"] == "127.0.0.1:9100"
    assert env["ICON_VECTOR_METRICS_LISTEN"] == "127.0.0.1:9598"
    merged = cf.merge([cf.load(compose_dir / name) for name in files])
    model = cf.interpolate(merged, env)  # raises when a required variable is missing
    schema = cf.find_schema().read_text()
    jsonschema.Draft7Validator(yaml.safe_load(schema)).validate(model)
    node = model["services"]["node"]
    assert node["image"] == "iconloop/icon2-node:v1.4.2"
    assert node["environment"]["wsMaxSession"] == "1000"
    # the edge's files mounted by the stack were rendered beside it
    for mount in model["services"]["edge"]["volumes"]:
        source = mount.split(":")[0]
        if source.startswith("."):
            assert (compose_dir / source).resolve().is_file(), source
    assert (root / "opt/icon/logging/vector.yaml").is_file()


def test_the_edge_config_it_renders_is_valid_for_nginx(applied, tmp_path):
    """The compose-mode nginx.conf, re-pointed at this machine's paths, passes nginx -t."""
    need_tool("nginx")
    conf = (applied[0] / "opt/icon/edge/nginx.conf").read_text()
    assert "server node:9000" in conf
    assert "server gateway:9081" in conf  # the monitors go to the stack's websocket gateway
    edge_dir = applied[0] / "opt/icon/edge"
    conf = (
        conf.replace("load_module modules/", "load_module /usr/lib/nginx/modules/")
        .replace("user nginx;", "")
        .replace("/etc/nginx/njs", str(edge_dir))
        .replace("/etc/nginx", str(edge_dir))
        .replace("/var/log/icon-edge", str(tmp_path))
        .replace("/var/run", str(tmp_path))
        .replace("server node:9000", "server 127.0.0.1:9000")
        .replace("server gateway:9081", "server 127.0.0.1:9081")
    )
    (tmp_path / "nginx.conf").write_text(conf)
    result = subprocess.run(
        [
            "nginx",
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-e",
            str(tmp_path / "error.log"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_units_and_scripts(applied):
    root = applied[0]
    stack = (root / "etc/systemd/system/icon-stack.service").read_text()
    assert "WorkingDirectory=/opt/icon/compose" in stack
    drain = (root / "usr/local/sbin/icon-drain").read_text()
    assert "kill -s SIGUSR1 agent" in drain  # compose mode signals the agent
    assert (root / "usr/local/sbin/icon-drain").stat().st_mode & 0o777 == 0o755
    assert (
        "ExecStop=/usr/local/sbin/icon-drain"
        in (root / "etc/systemd/system/icon-drain.service").read_text()
    )
    # secrets never land in the stack's files
    for path in (root / "opt/icon/compose").rglob("*"):
        if path.is_file():
            assert "PASSWORD=" not in path.read_text(), path


def test_data_disk_script_without_devices_keeps_the_root_volume(applied):
    script = applied[0] / "usr/local/sbin/icon-data-disk"
    result = subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "no data device present" in result.stdout


def test_systemd_and_host_modes(applied):
    """The other packaging: the agent and snapshots as hardened systemd units, nginx on the host."""
    root = applied[3]
    agent = (root / "etc/systemd/system/icon-agent.service").read_text()
    assert (
        "ExecStart=/opt/iconctl/bin/iconctl agent --node http://127.0.0.1:9000 "
        "--listen 0.0.0.0:9900 --max-lag-blocks 30 --max-block-age 60 "
        "--reference https://ctz.solidwallet.io/api/v3 "
        "--reference https://api.icon.community/api/v3\n"
    ) in agent
    for hardening in (
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=\n",
        "MemoryMax=256M\n",
        "LimitNOFILE=4096\n",
    ):
        assert hardening in agent
    assert "http://127.0.0.1:9900/drain" in (root / "usr/local/sbin/icon-drain").read_text()
    timer = (root / "etc/systemd/system/icon-snapshot.timer").read_text()
    assert "OnUnitInactiveSec=60min" in timer
    service = (root / "etc/systemd/system/icon-snapshot.service").read_text()
    assert "--store s3://icon-api-snapshots-us-east-1/mainnet" in service
    assert "--keep 24" in service
    nginx = (root / "etc/nginx/nginx.conf").read_text()
    assert "ssl_certificate /etc/letsencrypt/live/icon-edge/fullchain.pem;" in nginx
    assert "server 127.0.0.1:9000" in nginx
    assert (root / "etc/nginx/njs/icon_jsonrpc.js").is_file()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"icon_node_network": "testnet"}, "icon_node_network must be one of"),
        ({"icon_node_compose_files": ["compose.agent.yaml"]}, "start with compose.yaml"),
        (
            {"icon_node_compose_files": ["compose.yaml", "compose.nope.yaml"]},
            "unknown compose file",
        ),
        ({"icon_agent_listen": "9900"}, "listen is HOST:PORT"),
        ({"icon_source_store_url": "ftp://x"}, "store URL"),
        ({"icon_edge_tls_email": "ops@example.org"}, "TLS needs icon_edge_domain"),
        ({"icon_node_metrics_address": "0.0.0.0"}, "metrics are never public"),
        ({"icon_node_metrics_address": "203.0.113.7"}, "metrics are never public"),
        ({"icon_node_metrics_address": "172.32.0.1"}, "metrics are never public"),
    ],
)
def test_invalid_inputs_fail_in_preflight(tmp_path, override, message):
    root = _os_root(tmp_path / "root")
    hosts = {"node": {**_roots(root), "icon_edge_domain": ""}}
    rc, out, _ = _play(tmp_path, hosts, _extravars(**override), "--tags", "preflight")
    assert rc != 0
    assert message in out, out[-3000:]
    assert not (root / "opt/icon/compose/.env").exists()


@pytest.mark.parametrize("example", ["multi-region", "single-node"])
def test_every_key_iconctl_renders_is_a_declared_role_input(example):
    """The contract with the renderer: env/extravars only sets inputs some role declares,
    with values of the declared type."""
    from iconctl.render import render_files
    from iconctl.spec import load_spec

    files = render_files(load_spec(ROOT / "examples" / f"{example}.yaml"))
    rendered = {
        path: yaml.safe_load(text)
        for path, text in files.items()
        if path.endswith("/ansible/env/extravars")
    }
    assert rendered
    options = {name: opt for opts in _specs().values() for name, opt in opts.items()}
    types = {"str": str, "int": int, "bool": bool, "list": list, "path": str, "dict": dict}
    for path, extravars in rendered.items():
        undeclared = set(extravars) - set(options)
        assert not undeclared, f"{path}: {sorted(undeclared)}"
        for key, value in extravars.items():
            assert isinstance(value, types[options[key]["type"]]), (path, key, value)
            if "choices" in options[key]:
                assert value in options[key]["choices"], (path, key, value)
        for name in extravars.get("icon_node_compose_files", []):
            assert (ROOT / "compose" / name).is_file(), (path, name)


def _render_role_template(role: str, template: str, **overrides) -> str:
    import jinja2

    defaults = yaml.safe_load((ANSIBLE / "roles" / role / "defaults" / "main.yml").read_text())
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ANSIBLE / "roles" / role / "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        keep_trailing_newline=True,
    )
    values = {"ansible_managed": "Ansible managed", **defaults, **overrides}
    return env.get_template(template).render(**values)


@pytest.mark.parametrize(
    ("role", "template", "overrides"),
    [
        ("icon_agent", "icon-drain.sh.j2", {"icon_agent_mode": "compose"}),
        ("icon_agent", "icon-drain.sh.j2", {"icon_agent_mode": "systemd"}),
        ("icon_node", "icon-data-disk.sh.j2", {}),
        (
            "icon_node",
            "icon-data-disk.sh.j2",
            {"icon_node_data_devices": ["/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*"]},
        ),
    ],
    ids=["drain-compose", "drain-systemd", "disk-none", "disk-nvme"],
)
def test_shell_scripts_pass_shellcheck(tmp_path, role, template, overrides):
    tools = need_tool("shellcheck")
    script = tmp_path / "script.sh"
    script.write_text(_render_role_template(role, template, **overrides))
    syntax = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    result = subprocess.run(
        [tools["shellcheck"], "-s", "sh", str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout


def test_roles_ship_every_file_they_install():
    """The roles read compose/, logging/ and edge/ from their own files/, never from a checkout."""
    shipped = ANSIBLE / "roles" / "icon_node" / "files" / "compose"
    expected = {p.name for p in cf.COMPOSE_DIR.glob("compose*.yaml")}
    assert {p.name for p in shipped.glob("compose*.yaml")} == expected
    for path in shipped.glob("*"):
        assert path.resolve() == (cf.COMPOSE_DIR / path.name).resolve(), path
    for role in ROLES:
        text = "".join(p.read_text() for p in (ANSIBLE / "roles" / role).rglob("*.yml"))
        assert "../../.." not in text, role


def test_collection_builds_with_the_files_inside(tmp_path):
    """ansible-galaxy stores the linked files as regular files: installable without a checkout."""
    import tarfile

    tools = need_tool("ansible-galaxy")
    result = subprocess.run(
        [
            tools["ansible-galaxy"],
            "collection",
            "build",
            str(ANSIBLE),
            "--output-path",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Skipping" not in result.stdout + result.stderr
    (archive,) = tmp_path.glob("iconctl-icon-*.tar.gz")
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
    for name in (
        "roles/icon_node/files/compose/compose.yaml",
        "roles/icon_node/files/logging/vector.yaml",
        "roles/icon_edge/files/edge/nginx.conf.j2",
        "meta/runtime.yml",
    ):
        assert members[name].isfile(), name


def test_declared_platforms_are_what_the_project_boots():
    """Terraform boots Debian 12 and Packer builds on it: the roles declare exactly that."""
    for role in ROLES:
        meta = yaml.safe_load((ANSIBLE / "roles" / role / "meta" / "main.yml").read_text())
        assert meta["galaxy_info"]["platforms"] == [{"name": "Debian", "versions": ["bookworm"]}]
    variables = (ROOT / "packer" / "variables.pkr.hcl").read_text()
    assert "debian-12" in variables and "ubuntu" not in variables.lower()


def test_default_docker_packages_exist_on_debian_12():
    """The default source installs what Debian 12 ships (no compose v2 package there)."""
    role = ANSIBLE / "roles" / "icon_node"
    vars_ = yaml.safe_load((role / "vars" / "main.yml").read_text())
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
    assert defaults["icon_node_docker_source"] == "debian"
    assert vars_["_icon_node_docker_packages"]["debian"] == ["docker.io", "docker-compose"]
    apt_cache = shutil.which("apt-cache")
    if apt_cache:  # on a Debian 12 machine: the packages resolve
        for package in vars_["_icon_node_docker_packages"]["debian"]:
            result = subprocess.run([apt_cache, "show", package], capture_output=True, text=True)
            assert result.returncode == 0 and "Package: " + package in result.stdout, package
