"""The node stack end to end on a real Docker engine: `make e2e`.

Builds the images (from the project's Dockerfiles without the engine's builder: one
`docker import` each, e2e/rootfs_build.py), runs the compose stacks with the simulator image
as the node, applies the Ansible roles to a Debian 12 container twice through ansible-runner
(as `iconctl apply` does), builds the Packer image through the docker builder, checks that the
Dockerfile build of the iconctl image (in the background meanwhile) equals the fast path's,
and tears everything down. One line per stage (`ok: NAME (SECONDS s)` or
`FAIL: NAME: REASON`), then `e2e: N/M stages passed`; exit 1 if a stage failed. Each stage's
commands and output go to test-artifacts/e2e/<stage>.log.

Starts dockerd (vfs storage, no iptables, no default bridge) when no engine answers, and
stops it again at the end unless --keep-engine is given. docs/development.md has the details.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ART = ROOT / "test-artifacts" / "e2e"
CACHE = ROOT / ".cache" / "e2e"
COMPOSE_DIR = ROOT / "compose"
E2E_DIR = ROOT / "e2e"
TOOLS_BIN = [ROOT / ".tools" / "ansible" / "bin"]

sys.path.insert(0, str(ROOT / "src"))
from alerts import stage_alerts  # noqa: E402 (e2e/alerts.py: no Docker engine used)

from iconctl import __version__ as VERSION  # noqa: E402
from iconctl.sim.datadir import DataDir  # noqa: E402
from iconctl.spec.model import ICONCTL_IMAGE  # noqa: E402

REGISTRY = ICONCTL_IMAGE.rsplit("/", 1)[0]
BASE_IMAGE = "iconctl-local/debian:12"
SIM_IMAGE = f"{REGISTRY}/iconctl-sim:{VERSION}"
EDGE_IMAGE = f"iconctl-local/edge:{VERSION}"
CERTBOT_IMAGE = f"iconctl-local/certbot:{VERSION}"
NODE_EXPORTER_IMAGE = f"iconctl-local/node-exporter:{VERSION}"
MOTO_IMAGE = f"iconctl-local/moto:{VERSION}"
# the iconctl image as compose/iconctl.Dockerfile builds it through the engine's builder
DOCKERFILE_IMAGE = f"iconctl-local/iconctl-dockerfile:{VERSION}"
IMAGE_CONTEXT = ROOT / ".cache" / "images"  # compose/build-images.sh's build context
PREFIX = "e2e-"  # every compose project and container of the run
MOTO = "e2e-moto"
TARGET = "e2e-roles-target"
BUCKET = "e2e-snapshots"
# what `iconctl sync` writes for node_exporter's textfile collector after a success
SYNC_METRIC = "icon_sync_last_success_timestamp_seconds"
SIM_START_HEIGHT = 1000  # the simulator's first block on an empty data directory

# Host ports, one block per stack so that all of them run at once (the status stage sees all),
# all below the kernel's ephemeral range (32768 and up by default): the loopback servers other
# test runs on this machine start take ports from that range, and took 39000 once.
_OFFSETS = {"rpc": 0, "p2p": 100, "exporter": 200, "http": 80, "https": 443, "agent": 900}


def _ports(block: int, *services: str) -> dict[str, int]:
    return {service: block + _OFFSETS[service] for service in services}


PORTS = {
    "single": _ports(11000, "rpc", "p2p", "agent", "http", "https", "exporter"),
    "asg": _ports(12000, "rpc", "p2p", "agent", "http", "exporter"),
    # the source of truth serves no traffic: no flavour file publishes its agent
    "source": _ports(13000, "rpc", "p2p", "exporter"),
    "fresh": _ports(14000, "rpc", "p2p", "agent", "exporter"),
    "roles": _ports(16000, "rpc", "p2p", "agent", "http", "exporter"),
}
MOTO_PORT = 15000
# compose 1.29 gives up on an engine call after 60 s; creating a container on vfs copies its
# whole image, which took longer than that on a busy machine (the roles' stack, found by a run)
COMPOSE_HTTP_TIMEOUT = "300"
# Containers cannot raise their open-files limit past the engine's own hard limit.
NOFILE_LIMIT = min(65536, resource.getrlimit(resource.RLIMIT_NOFILE)[1])


class StageFailed(Exception):
    pass


class Run:
    """What the stages share: the log of the current stage, the tools, the engine."""

    def __init__(self, keep_engine: bool) -> None:
        self.keep_engine = keep_engine
        self.log = None
        self.started_engine: subprocess.Popen | None = None
        self.env = dict(os.environ)
        self.env["PATH"] = os.pathsep.join([*map(str, TOOLS_BIN), self.env.get("PATH", "")])
        self.env.setdefault("DOCKER", "docker")
        self.docker = shutil.which(self.env["DOCKER"], path=self.env["PATH"]) or "docker"
        self.compose_bin = shutil.which("docker-compose", path=self.env["PATH"])
        # compose project -> the files and environment it was started with (for `down`)
        self.projects: dict[str, tuple[list, dict[str, str]]] = {}
        self.snapshot_height: int | None = None
        self.dockerfile_build: Background | None = None
        self.selected: set[str] = set()  # the names of the stages this run runs
        self.monitoring_env: dict[str, str] = {}  # the monitoring host's made-up secrets

    # processes ------------------------------------------------------------------------------
    def sh(
        self,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 600,
        check: bool = True,
    ) -> subprocess.CompletedProcess:
        self.write(f"$ {' '.join(map(str, argv))}\n")
        try:
            result = subprocess.run(
                [str(a) for a in argv],
                cwd=cwd or ROOT,
                env={**self.env, **(env or {})},
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise StageFailed(f"{argv[0]} is not installed") from None
        except subprocess.TimeoutExpired:
            raise StageFailed(
                f"{Path(str(argv[0])).name} did not finish in {timeout:.0f} s"
            ) from None
        self.write(result.stdout + result.stderr + f"[exit {result.returncode}]\n")
        if check and result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise StageFailed(
                f"{Path(str(argv[0])).name} exited {result.returncode}: " + " | ".join(tail)
            )
        return result

    def write(self, text: str) -> None:
        if self.log is not None:
            self.log.write(text)
            self.log.flush()

    def dock(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return self.sh([self.docker, *args], **kw)

    # the engine -----------------------------------------------------------------------------
    def engine_up(self) -> bool:
        probe = subprocess.run(
            [self.docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            env=self.env,
        )
        return probe.returncode == 0

    def ensure_engine(self) -> None:
        if self.engine_up():
            return
        dockerd = shutil.which("dockerd", path=self.env["PATH"] + ":/usr/sbin:/sbin")
        if dockerd is None:
            raise StageFailed(
                "no Docker engine answers and dockerd is not installed "
                "(apt-get install docker.io docker-compose)"
            )
        ART.mkdir(parents=True, exist_ok=True)
        log = open(ART / "dockerd.log", "a")  # noqa: SIM115 - lives as long as dockerd
        # No systemd, no iptables and no default bridge here: compose's own networks work.
        self.started_engine = subprocess.Popen(
            [dockerd, "--storage-driver=vfs", "--iptables=false", "--bridge=none"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.started_engine.poll() is not None:
                raise StageFailed(
                    f"dockerd exited {self.started_engine.returncode} (see {ART / 'dockerd.log'})"
                )
            if self.engine_up():
                return
            time.sleep(1)
        raise StageFailed("dockerd did not answer within 60 s")

    def stop_engine(self) -> None:
        if self.started_engine is None or self.keep_engine:
            return
        self.started_engine.terminate()
        try:
            self.started_engine.wait(60)
        except subprocess.TimeoutExpired:
            self.started_engine.kill()

    # compose --------------------------------------------------------------------------------
    def compose(
        self,
        project: str,
        files: list[str | Path],
        env: dict[str, str],
        *args: str,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess:
        if self.compose_bin is None:
            raise StageFailed("docker-compose is not installed (apt-get install docker-compose)")
        self.projects.setdefault(project, (files, env))
        paths = [str(f if isinstance(f, Path) else COMPOSE_DIR / f) for f in files]
        full_env = {
            "COMPOSE_HTTP_TIMEOUT": COMPOSE_HTTP_TIMEOUT,
            "COMPOSE_PROJECT_NAME": project,
            "COMPOSE_FILE": ":".join(paths),
            "COMPOSE_PATH_SEPARATOR": ":",
            **env,
        }
        return self.sh([self.compose_bin, *args], env=full_env, cwd=COMPOSE_DIR, timeout=timeout)

    def container(self, project: str, service: str) -> dict:
        out = self.dock(
            "ps",
            "-aq",
            "--filter",
            f"label=com.docker.compose.project={project}",
            "--filter",
            f"label=com.docker.compose.service={service}",
        ).stdout.split()
        if not out:
            raise StageFailed(f"{project}: no {service} container")
        return json.loads(self.dock("inspect", out[0]).stdout)[0]


# HTTP helpers ----------------------------------------------------------------------------------
def http(url: str, *, body: dict | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - ours
    context = ssl._create_unverified_context() if url.startswith("https") else None  # noqa: S323 - our self-signed edge
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310
            return response.status, response.read(1 << 20)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(1 << 20)


def last_height(url: str) -> int:
    status, body = http(url, body={"jsonrpc": "2.0", "id": 1, "method": "icx_getLastBlock"})
    if status != 200:
        raise StageFailed(f"{url} answered {status}")
    return int(json.loads(body)["result"]["height"])


def wait_for(what: str, probe: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    error = ""
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except (OSError, ValueError, KeyError, TypeError, StageFailed) as exc:
            error = f" (last error: {exc})"
        time.sleep(1)
    raise StageFailed(f"{what} not within {timeout:.0f} s{error}")


def ready(port: int) -> bool:
    status, body = http(f"http://127.0.0.1:{port}/readyz")
    return status == 200 and body.strip() == b"OK"


def stack_env(name: str, **extra: str) -> dict[str, str]:
    ports = PORTS[name]
    data = ART / name
    shutil.rmtree(data, ignore_errors=True)  # every run starts from empty data directories
    (data / "data").mkdir(parents=True, exist_ok=True)
    (data / "textfile").mkdir(parents=True, exist_ok=True)
    env = {
        "ICON_NODE_IMAGE": SIM_IMAGE,
        "ICON_ICONCTL_IMAGE": ICONCTL_IMAGE,
        "ICON_EDGE_IMAGE": EDGE_IMAGE,
        "ICON_CERTBOT_IMAGE": CERTBOT_IMAGE,
        "ICON_NODE_EXPORTER_IMAGE": NODE_EXPORTER_IMAGE,
        "ICON_DATA_DIR": str(data),
        "ICON_TEXTFILE_DIR": str(data / "textfile"),
        "ICON_RPC_PORT": str(ports["rpc"]),
        "ICON_P2P_PORT": str(ports["p2p"]),
        # the simulator never falls behind a reference: the agent judges its own progress
        "ICON_REFERENCES": "",
        "ICON_NOFILE_LIMIT": str(NOFILE_LIMIT),
    }
    if "agent" in ports:
        env["ICON_AGENT_PORT"] = str(ports["agent"])
    if "http" in ports:
        env["ICON_EDGE_HTTP_PORT"] = str(ports["http"])
    if "https" in ports:
        env["ICON_EDGE_HTTPS_PORT"] = str(ports["https"])
    if "exporter" in ports:
        # node_exporter shares the host's network: one loopback port per stack
        env["ICON_NODE_EXPORTER_LISTEN"] = f"127.0.0.1:{ports['exporter']}"
        # this machine's / is no shared mount: the engine refuses the default rslave of /
        env["ICON_NODE_EXPORTER_HOST_ROOT"] = str(data)
        env["ICON_NODE_EXPORTER_ROOTFS_PROPAGATION"] = "rprivate"
    return {**env, **extra}


def check_edge(base: str, rpc_port: int) -> None:
    """The edge serves JSON-RPC from the node and refuses the admin API.

    The agent can be ready before the edge's container answers: until then the engine's
    port proxy accepts and drops connections (a reset or a broken pipe), so wait first."""
    wait_for(f"the edge at {base}", lambda: last_height(f"{base}/api/v3") >= SIM_START_HEIGHT, 90)
    wait_for(f"a block monitor through {base} (the gateway)", lambda: block_monitor(base), 60)
    status, _ = http(f"{base}/admin/chain")
    if status == 200:
        raise StageFailed(f"{base}/admin/chain answered 200: the admin API is public")
    if http(f"http://127.0.0.1:{rpc_port}/admin/chain")[0] != 200:
        raise StageFailed("the node's own admin API does not answer on loopback")


def block_monitor(base: str) -> bool:
    """A client's block monitor through the edge (websocket, the stack's gateway): a block
    notification arrives within 20 s."""
    import asyncio

    import aiohttp

    url = base.replace("http", "ws", 1) + "/api/v3/icon_dex/block"
    start = last_height(f"{base}/api/v3")

    async def first_block() -> bool:
        timeout = aiohttp.ClientTimeout(total=20)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.ws_connect(url, ssl=False, max_msg_size=1 << 20) as ws,
        ):
            await ws.send_json({"height": hex(start)})
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    raise StageFailed(f"{url}: {message.type.name} {message.data!r}")
                frame = json.loads(message.data)
                if isinstance(frame, dict) and "hash" in frame:
                    return int(frame["height"], 16) >= start
        raise StageFailed(f"{url}: closed before a block arrived")

    try:
        return asyncio.run(first_block())
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise StageFailed(f"{url}: {type(exc).__name__} {exc}") from None


def check_node_exporter(port: int, *, textfile: str | None = None) -> None:
    """node_exporter answers /metrics with the host's node_ series (and the textfile's)."""

    def answers() -> bool:
        status, body = http(f"http://127.0.0.1:{port}/metrics")
        return status == 200 and b"\nnode_" in body

    wait_for(f"node_exporter on {port}", answers, 60)
    status, body = http(f"http://127.0.0.1:{port}/metrics")
    names = {line.split(b"{")[0].split(b" ")[0] for line in body.splitlines()}
    for expected in (b"node_load1", b"node_filesystem_avail_bytes"):
        if expected not in names:
            raise StageFailed(f"node_exporter on {port}: no {expected.decode()}")
    if textfile is not None and f"\n{textfile}".encode() not in body:
        raise StageFailed(f"node_exporter on {port}: no {textfile} from the textfile collector")


def check_agent_public(run: Run, project: str) -> None:
    """The agent's port is published on every address (load balancers, monitors, Prometheus)."""
    bindings = run.container(project, "agent")["HostConfig"]["PortBindings"]["9900/tcp"]
    hosts = {b.get("HostIp") or "0.0.0.0" for b in bindings}  # noqa: S104 - what we check for
    if hosts != {"0.0.0.0"}:  # noqa: S104
        raise StageFailed(f"{project}: the agent is published on {sorted(hosts)} only")


# stages -------------------------------------------------------------------------------------------
def stage_images(run: Run) -> None:
    # the debootstrap root filesystem, imported as the base image; every other image is made
    # on it without the engine's builder (e2e/rootfs_build.py): one import each
    rootfs = run.sh([E2E_DIR / "base-image.sh", BASE_IMAGE], timeout=900).stdout.strip()
    # moto's image needs nothing of the checkout: it builds beside the project's images
    moto = Background(run.env, ART / "images-moto.log", _moto_image_steps(rootfs))
    moto.start()
    try:
        out = run.sh(
            [
                COMPOSE_DIR / "build-images.sh",
                "--base-image",
                BASE_IMAGE,
                "--rootfs",
                rootfs,
                "--stand-ins",
            ],
            env={"PYTHON": sys.executable},
            timeout=1500,
        ).stdout.split()
    finally:
        moto.join(1500)
    if moto.error:
        raise StageFailed(f"moto's image: {moto.error} (see {moto.log_path})")
    expected = {ICONCTL_IMAGE, SIM_IMAGE, EDGE_IMAGE, CERTBOT_IMAGE, NODE_EXPORTER_IMAGE}
    if not expected <= set(out):
        raise StageFailed(f"build-images.sh built {out}, expected {sorted(expected)}")
    # the image runs iconctl of this version, unprivileged
    user = run.dock("image", "inspect", "--format", "{{.Config.User}}", ICONCTL_IMAGE).stdout
    if user.strip() in ("", "root", "0"):
        raise StageFailed(f"{ICONCTL_IMAGE} runs as {user.strip() or 'root'}")
    probe = run.dock(
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "python3",
        ICONCTL_IMAGE,
        "-c",
        "import iconctl; print(iconctl.__version__)",
    )
    if probe.stdout.strip() != VERSION:
        raise StageFailed(f"{ICONCTL_IMAGE} holds iconctl {probe.stdout.strip()}")
    # The operator's path, compose/iconctl.Dockerfile through the engine's builder, from the
    # same wheels: slow on vfs, so it runs beside the stack stages and a later stage compares.
    if EQUIVALENCE_STAGE in run.selected:
        run.dockerfile_build = _dockerfile_build(run)
        run.dockerfile_build.start()


def _moto_image_steps(rootfs: str) -> list[list[str]]:
    from importlib.metadata import version

    context = CACHE / "moto"
    steps = []
    if not any((context / "wheels").glob("moto-*.whl")):
        wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir"]
        steps.append([*wheel, str(context / "wheels"), f"moto[server]=={version('moto')}"])
    steps.append(
        [
            sys.executable,
            str(E2E_DIR / "rootfs_build.py"),
            "--rootfs",
            rootfs,
            "--base-image",
            BASE_IMAGE,
            "-f",
            str(E2E_DIR / "images" / "moto.Dockerfile"),
            "--build-arg",
            f"BASE_IMAGE={BASE_IMAGE}",
            "-t",
            MOTO_IMAGE,
            str(context),
        ]
    )
    return steps


class Background(threading.Thread):
    """Commands run one after the other beside the stages, into a log of their own."""

    def __init__(self, env: dict[str, str], log_path: Path, steps: list[list[str]]) -> None:
        super().__init__(daemon=True)
        self.env = env
        self.log_path = log_path
        self.steps = steps
        self.error = ""
        self.seconds = 0.0

    def run(self) -> None:
        t0 = time.monotonic()
        with open(self.log_path, "w") as log:
            for argv in self.steps:
                log.write(f"$ {' '.join(argv)}\n")
                log.flush()
                try:
                    result = subprocess.run(
                        argv,
                        env=self.env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        timeout=1500,
                        check=False,
                    )
                except (OSError, subprocess.TimeoutExpired) as exc:
                    self.error = f"{Path(argv[0]).name}: {exc}"
                    break
                log.write(f"[exit {result.returncode}]\n")
                if result.returncode != 0:
                    self.error = f"{Path(argv[0]).name} exited {result.returncode}"
                    break
        self.seconds = time.monotonic() - t0


def _dockerfile_build(run: Run) -> Background:
    """`docker build` of the iconctl target from build-images.sh's context, in the background."""
    argv = [
        run.docker,
        "build",
        "--quiet",
        "--network",
        "host",
        "-f",
        str(COMPOSE_DIR / "iconctl.Dockerfile"),
        "--target",
        "iconctl",
        "--build-arg",
        f"BASE_IMAGE={BASE_IMAGE}",
        "--build-arg",
        f"ICONCTL_VERSION={VERSION}",
        "-t",
        DOCKERFILE_IMAGE,
        str(IMAGE_CONTEXT),
    ]
    return Background(run.env, ART / "dockerfile-build.log", [argv])


def _image_facts(run: Run, image: str) -> dict[str, object]:
    """What makes two iconctl images the same to their users: configuration and contents."""
    config = json.loads(run.dock("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    inside = run.dock(
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "sh",
        image,
        "-c",
        # RECORD holds the hash of every file the iconctl wheel installed
        "id; id iconctl; command -v iconctl; /opt/iconctl/bin/python -m pip freeze --all; "
        "sha256sum /opt/iconctl/lib/python3*/site-packages/iconctl-*.dist-info/RECORD",
    ).stdout
    return {
        "User": config.get("User"),
        "Entrypoint": config.get("Entrypoint"),
        "Cmd": config.get("Cmd"),
        "Env": sorted(config.get("Env") or []),
        "WorkingDir": config.get("WorkingDir"),
        "StopSignal": config.get("StopSignal"),
        "ExposedPorts": config.get("ExposedPorts"),
        "inside": inside.splitlines(),
    }


def stage_dockerfile_equivalent(run: Run) -> None:
    build = run.dockerfile_build
    if build is None:
        raise StageFailed("the images stage started no Dockerfile build")
    build.join(1800)
    if build.is_alive():
        raise StageFailed("docker build of compose/iconctl.Dockerfile did not finish in 30 min")
    run.write(build.log_path.read_text())
    run.write(f"docker build took {build.seconds:.0f} s (beside the stack stages)\n")
    if build.error:
        raise StageFailed(f"compose/iconctl.Dockerfile: {build.error} (see {build.log_path})")
    fast, dockerfile = _image_facts(run, ICONCTL_IMAGE), _image_facts(run, DOCKERFILE_IMAGE)
    run.write(json.dumps({"fast path": fast, "Dockerfile": dockerfile}, indent=1) + "\n")
    differ = [key for key in fast if fast[key] != dockerfile[key]]
    if differ:
        raise StageFailed(f"the fast path's iconctl image differs in {differ} (see the log)")


def stage_single(run: Run) -> None:
    # the files `iconctl render` lists for a node (render/compose.py node_files)
    files = [
        "compose.yaml",
        "compose.single.yaml",
        "compose.agent.yaml",
        "compose.node-exporter.yaml",
        "compose.edge.yaml",
    ]
    env = stack_env(
        "single",
        ICON_DOMAIN="node.e2e.invalid",
        ICON_TLS_EMAIL="ops@e2e.invalid",
        # no ACME server is reachable here: refused at once, then the self-signed fallback
        ICON_ACME_SERVER="https://127.0.0.1:9/directory",
        ICON_TLS_SELF_SIGNED_FALLBACK="true",
    )
    run.compose(f"{PREFIX}single", files, env, "up", "-d")
    ports = PORTS["single"]
    wait_for("the agent's readiness", lambda: ready(ports["agent"]), 120)
    base = f"https://127.0.0.1:{ports['https']}"
    check_edge(base, ports["rpc"])
    check_agent_public(run, f"{PREFIX}single")
    check_node_exporter(ports["exporter"])
    cert = ssl.get_server_certificate(("127.0.0.1", ports["https"]))
    if "BEGIN CERTIFICATE" not in cert:
        raise StageFailed("the edge presented no certificate")


def _moto(run: Run) -> None:
    """moto's S3 API in a container: s3:5000 on the stacks' networks, loopback for the host."""
    if run.dock("ps", "-q", "--filter", f"name=^{MOTO}$").stdout.strip():
        return
    run.dock("rm", "-f", MOTO, check=False)
    if not run.dock("network", "ls", "-q", "--filter", f"name=^{PREFIX}store$").stdout.strip():
        run.dock("network", "create", f"{PREFIX}store")
    run.dock(
        "run",
        "-d",
        "--name",
        MOTO,
        "--network",
        f"{PREFIX}store",
        "-p",
        f"127.0.0.1:{MOTO_PORT}:5000",
        MOTO_IMAGE,
    )
    wait_for("moto", lambda: http(f"http://127.0.0.1:{MOTO_PORT}/")[0] == 200, 60)
    store_env = _store_env()
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=store_env["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="e2e",
        aws_secret_access_key="e2e",  # noqa: S106 - moto takes any
    )
    s3.create_bucket(Bucket=BUCKET)


def _store_env() -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{MOTO_PORT}",
        "AWS_ACCESS_KEY_ID": "e2e",
        "AWS_SECRET_ACCESS_KEY": "e2e",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def _up_with_store(run: Run, project: str, files: list, env: dict[str, str]) -> None:
    """`up` with moto already on the project's network, before any service starts.

    The network is made here as compose would make it (compose 1.29's `up --no-start` waits
    forever for a service_completed_successfully dependency it does not start).
    """
    network = f"{project}_default"
    if not run.dock("network", "ls", "-q", "--filter", f"name=^{network}$").stdout.strip():
        run.dock(
            "network",
            "create",
            "--label",
            "com.docker.compose.network=default",
            "--label",
            f"com.docker.compose.project={project}",
            network,
        )
    run.dock("network", "connect", "--alias", "s3", network, MOTO)
    run.compose(project, files, env, "up", "-d")


def _iconctl(run: Run, *args: str, **kw) -> subprocess.CompletedProcess:
    return run.sh([Path(sys.executable).parent / "iconctl", *args], **kw)


def _instant(stamp: str) -> tuple[str, int]:
    """Docker's RFC 3339 times trim trailing zeros of the fraction: compare them as numbers."""
    seconds, _, fraction = stamp.rstrip("Z").partition(".")
    return seconds, int(fraction.ljust(9, "0")[:9] or 0)


def _check_restored(
    run: Run, project: str, agent_port: int, rpc_port: int, min_height: int
) -> None:
    wait_for(f"{project}'s agent readiness", lambda: ready(agent_port), 180)
    restore = run.container(project, "restore")["State"]
    if restore["Status"] != "exited" or restore["ExitCode"] != 0:
        raise StageFailed(f"{project}: restore {restore['Status']} ({restore['ExitCode']})")
    node = run.container(project, "node")["State"]
    if not _instant(restore["FinishedAt"]) <= _instant(node["StartedAt"]):
        raise StageFailed(f"{project}: the node started before the restore finished")
    height = last_height(f"http://127.0.0.1:{rpc_port}/api/v3")
    if height < min_height:
        raise StageFailed(f"{project}: the node is at {height}, the snapshot held {min_height}")


def stage_asg(run: Run) -> None:
    _moto(run)
    # A snapshot to boot from: the simulator's data directory, made on this host.
    seed = ART / "seed"
    shutil.rmtree(seed, ignore_errors=True)
    seed.mkdir(parents=True)
    sim = subprocess.Popen(
        [
            Path(sys.executable).parent / "iconctl",
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            seed,
            "--block-interval",
            "0.02",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        time.sleep(4)
    finally:
        sim.terminate()
        sim.wait(30)
    store = f"s3://{BUCKET}/asg"
    out = _iconctl(
        run,
        "sync",
        "snapshot",
        "--data-dir",
        seed / "data",
        "--store",
        store,
        "--json",
        env=_store_env(),
    ).stdout
    run.write(out)
    seeded = DataDir(seed, cid=1, channel="icon_dex").last_height() or 0
    files = [
        "compose.yaml",
        "compose.asg.yaml",
        "compose.restore.yaml",
        "compose.agent.yaml",
        "compose.node-exporter.yaml",
        "compose.edge.yaml",
        E2E_DIR / "compose.restore-store.yaml",
    ]
    project = f"{PREFIX}asg"
    _up_with_store(run, project, files, stack_env("asg", ICON_STORE_URL=store))
    ports = PORTS["asg"]
    _check_restored(run, project, ports["agent"], ports["rpc"], seeded)
    check_edge(f"http://127.0.0.1:{ports['http']}", ports["rpc"])
    check_agent_public(run, project)
    check_node_exporter(ports["exporter"], textfile=SYNC_METRIC)


def stage_source_restore(run: Run) -> None:
    _moto(run)
    store = f"s3://{BUCKET}/source"
    files = [
        "compose.yaml",
        "compose.source.yaml",
        "compose.agent.yaml",
        "compose.node-exporter.yaml",
        E2E_DIR / "compose.snapshot-store.yaml",
    ]
    _up_with_store(run, f"{PREFIX}source", files, stack_env("source", ICON_STORE_URL=store))
    ports = PORTS["source"]
    source_rpc = f"http://127.0.0.1:{ports['rpc']}/api/v3"
    wait_for("the source node", lambda: last_height(source_rpc) >= SIM_START_HEIGHT, 120)

    def published() -> bool:
        listing = _iconctl(
            run, "sync", "list", "--store", store, "--json", env=_store_env(), check=False
        )
        return listing.returncode == 0 and len(json.loads(listing.stdout or "[]")) > 0

    wait_for("a snapshot from the source's sidecar", published, 180)
    # every block the source had served when the snapshot was listed is at most this high
    source_height = last_height(f"http://127.0.0.1:{ports['rpc']}/api/v3")
    snapshot = json.loads(
        _iconctl(run, "sync", "list", "--store", store, "--json", env=_store_env()).stdout
    )[-1]
    run.write(f"snapshot {snapshot} taken with the source at <= {source_height}\n")
    files = [
        # a new autoscaled node: restores, then serves behind the load balancer
        "compose.yaml",
        "compose.asg.yaml",
        "compose.restore.yaml",
        "compose.agent.yaml",
        "compose.node-exporter.yaml",
        E2E_DIR / "compose.restore-store.yaml",
    ]
    project = f"{PREFIX}fresh"
    _up_with_store(run, project, files, stack_env("fresh", ICON_STORE_URL=store))
    fresh = PORTS["fresh"]
    # restored: well past the height an empty data directory starts at
    _check_restored(run, project, fresh["agent"], fresh["rpc"], SIM_START_HEIGHT + 10)
    # the source's snapshot and the fresh node's restore, each in its node_exporter
    check_node_exporter(ports["exporter"], textfile=SYNC_METRIC)
    check_node_exporter(fresh["exporter"], textfile=SYNC_METRIC)


def stage_status(run: Run) -> None:
    """Every node this run started, the roles' one included: `iconctl status` says ready."""
    args = []
    for name, ports in PORTS.items():
        args += ["--endpoint", f"{name}=http://127.0.0.1:{ports['rpc']}/api/v3"]
        if "agent" in ports:
            args += ["--agent", f"{name}=http://127.0.0.1:{ports['agent']}"]
    result = _iconctl(run, "status", *args, "--json", check=False)
    if result.returncode != 0:
        raise StageFailed(f"iconctl status exited {result.returncode}")
    report = json.loads(result.stdout)
    run.write(json.dumps(report, indent=2) + "\n")
    if report["regions"] != dict.fromkeys(PORTS, "ready"):
        raise StageFailed(f"iconctl status: {report['regions']}")
    not_ready = [f"{t['kind']} {t['region']}" for t in report["targets"] if not t["ready"]]
    if len(report["targets"]) != len(args) // 2 or not_ready:
        raise StageFailed(f"iconctl status: not ready: {not_ready}")


# roles -------------------------------------------------------------------------------------------
ROLES_DIR = ART / "roles"


def _roles_vars() -> dict:
    stack = ROLES_DIR / "opt" / "icon"
    ports = PORTS["roles"]
    return {
        "ansible_connection": "community.docker.docker",
        "ansible_python_interpreter": "/usr/bin/python3",
        "icon_node_image": SIM_IMAGE,
        "icon_node_iconctl_image": ICONCTL_IMAGE,
        "icon_node_compose_files": ["compose.yaml", "asg", "agent", "node-exporter", "edge"],
        "icon_node_project_name": f"{PREFIX}roles",
        "icon_node_rpc_port": ports["rpc"],
        "icon_node_p2p_port": ports["p2p"],
        "icon_node_stack_dir": str(stack),
        "icon_node_data_dir": str(ROLES_DIR / "var" / "lib" / "icon"),
        "icon_node_textfile_dir": str(ROLES_DIR / "textfile"),
        "icon_node_systemd": False,
        "icon_agent_systemd": False,
        "icon_agent_stack_dir": str(stack),
        "icon_agent_listen": f"0.0.0.0:{ports['agent']}",
        "icon_agent_references": [],
        "icon_edge_stack_dir": str(stack),
        "icon_source_stack_dir": str(stack),
    }


def _playbook(run: Run) -> dict[str, int]:
    """site.yml through ansible-runner, as `iconctl apply` runs it; the target's counts."""
    inventory = {
        "all": {
            "children": {"icon_nodes": {"hosts": {TARGET: {}}}, "icon_source": {"hosts": {}}},
            "vars": _roles_vars(),
        }
    }
    return _run_playbook(run, "roles", "site.yml", inventory, TARGET)


def _run_playbook(
    run: Run,
    name: str,
    playbook: str,
    inventory: dict,
    target: str,
    env: dict[str, str] | None = None,
) -> dict[str, int]:
    """A playbook through ansible-runner with the pipeline's layout (a private data directory
    whose inventory carries the variables); the target's counts."""
    from iconctl.errors import IconctlError
    from iconctl.runners.ansible import Ansible

    private = ART / f"{name}-ansible"
    shutil.rmtree(private, ignore_errors=True)
    (private / "inventory").mkdir(parents=True)
    (private / "inventory" / "hosts.yml").write_text(json.dumps(inventory, indent=1))
    log_path = ART / f"{name}-ansible.log"
    log_path.unlink(missing_ok=True)
    ansible = Ansible(
        private,
        step=f"e2e {name}",
        log_path=log_path,
        env={
            "ANSIBLE_CONFIG": str(ROOT / "ansible" / "ansible.cfg"),
            "ANSIBLE_ROLES_PATH": str(ROOT / "ansible" / "roles"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            **(env or {}),
        },
        on_line=lambda line: run.write(line + "\n"),
    )
    path = ROOT / "ansible" / "playbooks" / playbook
    run.write(f"$ ansible-runner: {path} (log {log_path})\n")
    try:
        stats = ansible.run(path)
    except IconctlError as exc:
        raise StageFailed(" | ".join(str(exc).splitlines()[:4])) from None
    finally:
        if log_path.is_file():
            run.write(log_path.read_text())
    recap = {kind: int((counts or {}).get(target, 0)) for kind, counts in stats.items()}
    run.write(f"recap: {recap}\n")
    if not recap.get("ok"):
        raise StageFailed(f"no task ran on {target}: {stats}")
    return recap


def stage_roles_first(run: Run) -> None:
    shutil.rmtree(ROLES_DIR, ignore_errors=True)
    env_d = ROLES_DIR / "opt" / "icon" / "compose" / "env.d"
    env_d.mkdir(parents=True)
    # The stack's third-party images by their variables, as an operator's own fragment.
    # Later fragments win: the exporter's port moves off the role's 9100 (one per stack here).
    (env_d / "90-local-images.env").write_text(
        f"ICON_EDGE_IMAGE={EDGE_IMAGE}\nICON_EDGE_HTTP_PORT={PORTS['roles']['http']}\n"
        f"ICON_NOFILE_LIMIT={NOFILE_LIMIT}\nICON_NODE_EXPORTER_IMAGE={NODE_EXPORTER_IMAGE}\n"
        f"ICON_NODE_EXPORTER_LISTEN=127.0.0.1:{PORTS['roles']['exporter']}\n"
        f"ICON_NODE_EXPORTER_HOST_ROOT={ROLES_DIR}\n"
        "ICON_NODE_EXPORTER_ROOTFS_PROPAGATION=rprivate\n"
        f"COMPOSE_HTTP_TIMEOUT={COMPOSE_HTTP_TIMEOUT}\n"
    )
    run.dock("rm", "-f", TARGET, check=False)
    # A Debian 12 host without systemd: unprivileged, the engine's socket and the stack's
    # directory (same path inside and out, so the engine finds the bind-mounted files).
    run.dock(
        "run",
        "-d",
        "--name",
        TARGET,
        "--network",
        "host",
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock",
        "-v",
        f"{ROLES_DIR}:{ROLES_DIR}",
        BASE_IMAGE,
        "sleep",
        "infinity",
    )
    # The base image was made minutes ago with its package lists removed; apt's cache then
    # looks fresh to the role (cache_valid_time). A booted VM's image is older than that.
    run.dock("exec", TARGET, "touch", "-d", "@0", "/var/lib/apt/lists")
    recap = _playbook(run)
    if recap.get("failures") or recap.get("dark") or not recap.get("changed"):
        raise StageFailed(f"first run: {recap}")
    ports = PORTS["roles"]
    wait_for("the roles' stack agent readiness", lambda: ready(ports["agent"]), 120)
    check_edge(f"http://127.0.0.1:{ports['http']}", ports["rpc"])
    check_node_exporter(ports["exporter"])
    # Debian's compose 1.29 through `docker compose`, as the units and the user data call it
    run.dock("exec", TARGET, "docker", "compose", "version")
    _verify_units(run)


def _verify_units(run: Run) -> None:
    """The units a host without systemd cannot run are still checked by systemd itself."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        run.write("systemd-analyze not installed: units not verified\n")
        return
    units = ART / "units"
    shutil.rmtree(units, ignore_errors=True)
    units.mkdir()
    for unit in ("icon-stack.service", "icon-data-disk.service", "icon-drain.service"):
        run.dock("cp", f"{TARGET}:/etc/systemd/system/{unit}", str(units / unit))
    result = run.sh([analyze, "verify", "--man=no", *sorted(units.glob("*.service"))], check=False)
    # Only the unit files' own errors count: the scripts they run live in the target.
    output = (result.stdout + result.stderr).splitlines()
    problems = [line for line in output if line.strip() and "is not executable" not in line]
    if problems:
        raise StageFailed("systemd-analyze verify: " + " | ".join(problems[:3]))


def stage_roles_second(run: Run) -> None:
    recap = _playbook(run)
    if recap.get("failures") or recap.get("dark") or recap.get("changed"):
        raise StageFailed(f"second run is not idempotent: {recap}")


# monitoring host ---------------------------------------------------------------------------
MONITORING_TARGET = "e2e-monitoring-target"
MONITORING_DIR = ART / "monitoring"
# On the host network: the role's daemons move off 9090/9091/9093/3000 (docs/development.md).
MONITORING_PORTS = {"prometheus": 17090, "global_prometheus": 17091, "alertmanager": 17093}
MONITORING_REGION = "us-east-1"  # the multi-region example's global region
MONITORING_TIMING = {
    "regional_scrape": "2s",
    "global_scrape": "2s",
    "evaluation": "2s",
    "federate_timeout": "1500ms",
    "discovery_refresh": "2s",
}


def _monitoring_files() -> Path:
    """The global region's host tree as `iconctl render` writes it, with file discovery of the
    roles' stack (its agent and node exporter) instead of the cloud's API, and shifted ports."""
    from iconctl.render import monitoring
    from iconctl.spec import load_spec

    spec = load_spec(ROOT / "examples" / "multi-region.yaml")
    region = next(r for r in spec.regions if r.name == MONITORING_REGION)
    ports = monitoring.HostPorts(grafana=17300, **MONITORING_PORTS)
    timing = monitoring.Timing(**MONITORING_TIMING)
    files = monitoring.host_files(spec, region, discovery="file", timing=timing, ports=ports)
    roles = PORTS["roles"]
    node = "e2e-roles-node"
    agent = {node: f"127.0.0.1:{roles['agent']}"}
    targets = {
        "icon-agent": monitoring.file_targets("node", agent),
        "goloop": monitoring.file_targets("node", agent),  # the agent relays goloop's /metrics
        "node": monitoring.file_targets("node", {node: f"127.0.0.1:{roles['exporter']}"}),
        "icon-edge": [],
    }
    for job, entries in targets.items():
        files[f"prometheus/targets/{job}.json"] = json.dumps(entries, indent=2) + "\n"
    root = MONITORING_DIR / "files"
    shutil.rmtree(root, ignore_errors=True)
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    return root


def _monitoring_secrets() -> dict[str, str]:
    """Made-up secrets for this run only: the checks look for them in every log."""
    token = secrets.token_hex(12)
    return {
        "ICON_MONITORING_SLACK_WEBHOOK_URL": f"https://hooks.slack.invalid/services/E2E{token}",
        "ICON_MONITORING_TELEGRAM_BOT_TOKEN": f"123456:E2E{token}",
    }


def _monitoring_playbook(run: Run, files: Path, env: dict[str, str]) -> dict[str, int]:
    inventory = {
        "all": {
            "children": {"icon_monitoring": {"hosts": {MONITORING_TARGET: {}}}},
            "vars": {
                "ansible_connection": "community.docker.docker",
                "ansible_python_interpreter": "/usr/bin/python3",
                "icon_monitoring_files_dir": str(files),
                "icon_monitoring_global": True,
                "icon_monitoring_listen_address": "127.0.0.1",
                "icon_monitoring_systemd": False,
                "icon_monitoring_grafana": False,  # Grafana's apt repository is not reachable
                "icon_monitoring_elastalert": False,  # nor PyPI from the target
            },
        }
    }
    return _run_playbook(run, "monitoring", "monitoring.yml", inventory, MONITORING_TARGET, env)


def _prometheus_api(port: int, path: str) -> dict:
    status, body = http(f"http://127.0.0.1:{port}{path}")
    if status != 200:
        raise StageFailed(f"127.0.0.1:{port}{path}: HTTP {status}")
    return json.loads(body)


def _monitoring_checks(run: Run) -> None:
    ports = MONITORING_PORTS
    wait_for("the regional Prometheus", lambda: http_ok(ports["prometheus"], "/-/ready"), 60)
    wait_for("the global Prometheus", lambda: http_ok(ports["global_prometheus"], "/-/ready"), 60)

    def agent_up() -> bool:
        active = _prometheus_api(ports["prometheus"], "/api/v1/targets")["data"]["activeTargets"]
        agents = [t for t in active if t["labels"].get("job") == "icon-agent"]
        return bool(agents) and all(t["health"] == "up" for t in agents)

    wait_for("the roles' agent as an up target of the regional Prometheus", agent_up, 90)

    def federated() -> bool:
        query = urllib.parse.quote('icon_node_block_height{region="us-east-1",job="icon-agent"}')
        result = _prometheus_api(ports["global_prometheus"], f"/api/v1/query?query={query}")
        return bool(result["data"]["result"])

    wait_for("a federated series in the global Prometheus", federated, 120)
    run.write("global Prometheus: icon_node_block_height of us-east-1 federated\n")

    wait_for("Alertmanager", lambda: http_ok(ports["alertmanager"], "/-/ready"), 60)
    status = _prometheus_api(ports["alertmanager"], "/api/v2/status")
    original = status["config"]["original"]
    for expected in ("receiver: critical", "telegram_configs", "iconctl.slack.title"):
        if expected not in original:
            raise StageFailed(f"Alertmanager runs without the rendered {expected!r}")
    if "bot_token_file" in original:  # Debian's 0.25: the role inlines the Telegram token
        raise StageFailed("Alertmanager 0.25 runs with bot_token_file, not the inlined token")
    run.write(f"Alertmanager {status['versionInfo']['version']}: the rendered routes loaded\n")

    stat = run.dock(
        "exec", MONITORING_TARGET, "stat", "-c", "%a %U %G",
        "/etc/icon-monitoring/secrets/slack_webhook_url",
    ).stdout.strip()  # fmt: skip
    if stat != "440 root prometheus":
        raise StageFailed(f"the Slack secret file is {stat!r}, not 440 root prometheus")


def http_ok(port: int, path: str) -> bool:
    try:
        return http(f"http://127.0.0.1:{port}{path}", timeout=3)[0] == 200
    except OSError:
        return False


def _no_secret_in_logs(run: Run, env: dict[str, str]) -> None:
    logs = [ART / "monitoring-ansible.log", *sorted((ART / "monitoring-ansible").rglob("*"))]
    for path in logs:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for name, value in env.items():
            secret = value.rsplit("E2E", 1)[-1]
            if secret in text:
                raise StageFailed(f"{name}'s value appears in {path.relative_to(ART)}")


def stage_monitoring_first(run: Run) -> None:
    files = _monitoring_files()
    run.monitoring_env = _monitoring_secrets()
    run.dock("rm", "-f", MONITORING_TARGET, check=False)
    # --init: the daemons start-stop-daemon leaves to PID 1 are reaped once stopped (sleep would
    # keep them as zombies, which start-stop-daemon counts as refusing to die).
    run.dock(
        "run", "-d", "--init", "--name", MONITORING_TARGET, "--network", "host", BASE_IMAGE,
        "sleep", "infinity",
    )  # fmt: skip
    run.dock("exec", MONITORING_TARGET, "touch", "-d", "@0", "/var/lib/apt/lists")
    recap = _monitoring_playbook(run, files, run.monitoring_env)
    if recap.get("failures") or recap.get("dark") or not recap.get("changed"):
        raise StageFailed(f"first run: {recap}")
    _no_secret_in_logs(run, run.monitoring_env)
    _monitoring_checks(run)


def stage_monitoring_second(run: Run) -> None:
    recap = _monitoring_playbook(run, MONITORING_DIR / "files", run.monitoring_env)
    if recap.get("failures") or recap.get("dark") or recap.get("changed"):
        raise StageFailed(f"second run is not idempotent: {recap}")
    _no_secret_in_logs(run, run.monitoring_env)


def stage_packer(run: Run) -> None:
    manifest = ART / "packer-manifest.json"
    manifest.unlink(missing_ok=True)
    run.sh(
        [
            "packer",
            "build",
            "-only=icon-node.docker.icon-node",
            "-var",
            "image_name=icon-node-e2e",
            "-var",
            f"node_image={SIM_IMAGE}",
            "-var",
            f"iconctl_image={ICONCTL_IMAGE}",
            "-var",
            "instance_type=local",
            "-var",
            f"docker_base_image={BASE_IMAGE}",
            "-var",
            f"manifest_path={manifest}",
            "-var",
            'ansible_extra_arguments=["--extra-vars", '
            '"ansible_python_interpreter=/usr/bin/python3"]',
            ROOT / "packer",
        ],
        env={"PACKER_NO_COLOR": "1", "CHECKPOINT_DISABLE": "1"},
        timeout=1200,
    )
    builds = json.loads(manifest.read_text())["builds"]
    image = builds[-1]["artifact_id"]
    try:
        listing = run.dock(
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "ls",
            image,
            "-a",
            "/opt/icon/compose",
            "/etc/systemd/system",
        ).stdout
        for expected in ("compose.yaml", ".env", "icon-stack.service"):
            if expected not in listing:
                raise StageFailed(f"the packer image has no {expected}")
        env = run.dock(
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "cat",
            image,
            "/opt/icon/compose/.env",
        ).stdout
        if f"ICON_ICONCTL_IMAGE={ICONCTL_IMAGE}" not in env:
            raise StageFailed("the packer image's .env does not name the iconctl image")
    finally:
        run.dock("rmi", "-f", image, check=False)


def diagnose(run: Run) -> None:
    """What the stacks looked like when a stage failed, into the stage's log."""
    for project, (files, env) in run.projects.items():
        for args in (("ps", "-a"), ("logs", "--tail", "40")):
            try:
                run.compose(project, files, env, *args, timeout=60)
            except StageFailed as exc:
                run.write(f"{exc}\n")


def teardown(run: Run, *, check: bool) -> None:
    # moto first: while it sits on a stack's network, compose cannot remove that network
    run.dock("rm", "-f", MOTO, TARGET, MONITORING_TARGET, check=False)
    errors = []
    for project, (files, env) in list(run.projects.items()):
        try:
            run.compose(
                project, files, env, "down", "--volumes", "--remove-orphans", "--timeout", "20"
            )
        except StageFailed as exc:
            errors.append(str(exc))
    # the roles' stack was started by compose inside the target, from this directory
    roles_compose = ROLES_DIR / "opt" / "icon" / "compose"
    if (roles_compose / ".env").is_file() and run.compose_bin:
        result = run.sh(
            [run.compose_bin, "down", "--volumes", "--remove-orphans", "--timeout", "20"],
            cwd=roles_compose,
            check=False,
        )
        if result.returncode != 0:
            errors.append("the roles' stack did not go down")
    run.dock("network", "rm", f"{PREFIX}store", check=False)
    if errors and check:
        raise StageFailed("; ".join(errors))
    if not check:
        return
    left = run.dock("ps", "-a", "--format", "{{.Names}}").stdout.split()
    left = [name for name in left if name.startswith(PREFIX) or name.startswith("packer")]
    networks = [
        n
        for n in run.dock("network", "ls", "--format", "{{.Name}}").stdout.split()
        if n.startswith(PREFIX)
    ]
    volumes = [
        v
        for v in run.dock("volume", "ls", "--format", "{{.Name}}").stdout.split()
        if v.startswith(PREFIX.replace("-", ""))
    ]
    if left or networks or volumes:
        raise StageFailed(f"left behind: containers {left}, networks {networks}, volumes {volumes}")


EQUIVALENCE_STAGE = "the Dockerfile builds the fast path's iconctl image"
STAGES: list[tuple[str, Callable[[Run], None], tuple[str, ...]]] = [
    ("images", stage_images, ()),
    ("single stack", stage_single, ("images",)),
    ("asg stack", stage_asg, ("images",)),
    ("source snapshot, fresh node restores it", stage_source_restore, ("images",)),
    ("roles first run", stage_roles_first, ("images",)),
    ("roles second run unchanged", stage_roles_second, ("roles first run",)),
    ("monitoring host first run", stage_monitoring_first, ("roles first run",)),
    (
        "monitoring host second run unchanged",
        stage_monitoring_second,
        ("monitoring host first run",),
    ),
    (
        "status shows every node ready",
        stage_status,
        ("single stack", "asg stack", "source snapshot, fresh node restores it", "roles first run"),
    ),
    ("packer build (docker builder)", stage_packer, ("images",)),
    (EQUIVALENCE_STAGE, stage_dockerfile_equivalent, ("images",)),
    ("alerts delivered to Slack and Telegram", lambda run: stage_alerts(run, ART, StageFailed), ()),
    ("tear-down leaves nothing running", lambda run: teardown(run, check=True), ()),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep-engine", action="store_true", help="leave a dockerd this run started running"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="run only stages whose name starts with this (repeatable)",
    )
    options = parser.parse_args()
    ART.mkdir(parents=True, exist_ok=True)
    run = Run(options.keep_engine)
    # ansible-runner finds ansible-playbook on this process's PATH, as the pipeline's does
    os.environ["PATH"] = run.env["PATH"]
    started = time.monotonic()
    passed: list[str] = []
    selected = [
        s for s in STAGES if not options.only or any(s[0].startswith(o) for o in options.only)
    ]
    run.selected = {name for name, _stage, _needs in selected}
    try:
        try:
            run.ensure_engine()
            engine_error = ""
        except StageFailed as exc:
            engine_error = str(exc)
        for name, stage, needs in selected:
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            t0 = time.monotonic()
            with open(ART / f"{slug}.log", "w") as log:
                run.log = log
                try:
                    if engine_error:
                        raise StageFailed(f"no Docker engine: {engine_error}")
                    missing = [
                        n for n in needs if n not in passed and any(s[0] == n for s in selected)
                    ]
                    if missing:
                        raise StageFailed(f"needs {', '.join(missing)}")
                    stage(run)
                except StageFailed as exc:
                    print(f"FAIL: {name}: {exc}", flush=True)
                    diagnose(run)
                except Exception as exc:  # a bug in a stage is a failed stage, not a crash
                    log.write(f"{type(exc).__name__}: {exc}\n")
                    print(f"FAIL: {name}: {type(exc).__name__}: {exc}", flush=True)
                else:
                    passed.append(name)
                    print(f"ok: {name} ({time.monotonic() - t0:.0f} s)", flush=True)
                finally:
                    run.log = None
    finally:
        if run.dockerfile_build is not None:  # never stop the engine under a running build
            run.dockerfile_build.join(1800)
        if not engine_error and run.engine_up():
            with open(ART / "cleanup.log", "w") as log:
                run.log = log
                try:
                    teardown(run, check=False)
                except StageFailed as exc:
                    log.write(f"{exc}\n")
        run.stop_engine()
    total = len(selected)
    print(f"e2e: {len(passed)}/{total} stages passed in {time.monotonic() - started:.0f} s")
    # the plain closing form CI tools read, stages counted as tests
    print(f"e2e: {len(passed)} passed, {total - len(passed)} failed")
    return 0 if len(passed) == total else 1


if __name__ == "__main__":
    sys.exit(main())
