"""`iconctl demo`: the whole flow on this machine, on the bundled example, no cloud account.

1. validate the bundled multi-region spec and render every tool's inputs;
2. start an S3 server (moto) on loopback with the region's snapshot bucket;
3. start a source-of-truth node (the simulator, writing a chain-like data directory) and its
   health agent;
4. snapshot the source into the bucket (pausing it through the admin API), then restore the
   snapshot into an empty directory as a new node would at boot;
5. start the new node on the restored data with its agent, wait until both are ready;
6. show `iconctl status` for both;
7. meanwhile, when Terraform and the hashicorp/aws provider are available, plan, apply and
   destroy the bundled single-node example's AWS region against the same local AWS API
   (iconctl.rehearsal), and check through the API that nothing is left; otherwise say which
   stage was skipped and why;
8. stop everything and remove what the demo created.

Every step runs the real commands (`iconctl sim`, `agent`, `sync snapshot`, `sync restore`)
as separate processes on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iconctl import process
from iconctl.errors import IconctlError, ToolFailed, ToolNotFound
from iconctl.health import Thresholds
from iconctl.render import render
from iconctl.spec import parse_spec
from iconctl.spec.summary import summary
from iconctl.starter import example_text
from iconctl.status import StatusReport, Target, check, collect

EXAMPLE = "multi-region"
REGION = "us-east-1"  # the region whose snapshot bucket the demo emulates
AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",  # moto accepts any credentials
    "AWS_DEFAULT_REGION": REGION,
}


@dataclass
class DemoReport:
    spec: dict[str, Any]
    out_dir: Path
    files: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    status: StatusReport | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "out": str(self.out_dir),
            "files": self.files,
            "steps": self.steps,
            "status": self.status.to_json() if self.status else None,
            "seconds": round(self.seconds, 2),
        }


def run_demo(
    say: Callable[[str], None] = print, *, keep: Path | None = None, example: str = EXAMPLE
) -> DemoReport:
    started = time.monotonic()
    spec = parse_spec(example_text(example), filename=f"<bundled {example} example>")
    workdir = Path(tempfile.mkdtemp(prefix="iconctl-demo-")) if keep is None else keep
    workdir.mkdir(parents=True, exist_ok=True)
    written = render(spec, workdir / "build")
    report = DemoReport(
        summary(spec), workdir / "build",
        [str(p.relative_to((workdir / "build").absolute())) for p in written],
    )  # fmt: skip
    step = _stepper(report, say)
    step("validate and render", f"{len(written)} files in {workdir / 'build'}")
    region = next(r for r in spec.regions if r.name == REGION)
    bucket = spec.snapshot_bucket(region) or f"{spec.name}-snapshots-{REGION}"
    store = f"s3://{bucket}/{spec.network}"
    try:
        with contextlib.ExitStack() as stack:
            env = {**os.environ, **AWS_TEST_ENV, "AWS_ENDPOINT_URL": _start_s3(stack, workdir)}
            _create_bucket(env, bucket)
            step("S3 server", f"moto on {env['AWS_ENDPOINT_URL']}, bucket {bucket}")
            # The AWS rehearsal takes longest: it runs beside the sync stages.
            rehearsal = ThreadPoolExecutor(max_workers=1)
            stack.callback(rehearsal.shutdown)
            orchestrated = rehearsal.submit(_rehearse, workdir / "aws", env)

            source = _service(stack, workdir, env, "source node", "sim", "--listen",
                              "127.0.0.1:0", "--block-interval", "0.5", "--data-dir",
                              str(workdir / "source"))  # fmt: skip
            source_agent = _agent(stack, workdir, env, "source agent", source["url"], [])
            time.sleep(1.5)  # a few blocks into the data directory
            step("source node", f"{source['url']} (agent {source_agent['url']})")

            snap = _iconctl_json(env, "sync", "snapshot", "--data-dir", str(workdir / "source"),
                                 "--store", store, "--admin-url", _base(source["url"])
                                 )  # fmt: skip
            step("snapshot", f"{snap['id']}: {snap['files']} files, {snap['bytes_uploaded']} "
                 f"bytes uploaded, node paused {snap['pause_seconds']:.3f} s")  # fmt: skip

            restored = _iconctl_json(env, "sync", "restore", "--store", store, "--data-dir",
                                     str(workdir / "restored"))  # fmt: skip
            step("restore", f"{restored['files']} files, {restored['bytes_total']} bytes "
                 f"verified in {restored['duration_seconds']:.2f} s into "
                 f"{workdir / 'restored'}")  # fmt: skip

            fresh = _service(stack, workdir, env, "restored node", "sim", "--listen",
                             "127.0.0.1:0", "--block-interval", "0.5", "--data-dir",
                             str(workdir / "restored"))  # fmt: skip
            fresh_agent = _agent(stack, workdir, env, "restored agent", fresh["url"],
                                 [source["url"]])  # fmt: skip
            waited = _wait_ready([source_agent["url"], fresh_agent["url"]], timeout=30)
            step("readiness", f"both agents answer OK after {waited:.1f} s")

            report.status = collect(
                [Target("endpoint", source["url"], REGION),
                 Target("endpoint", fresh["url"], REGION),
                 Target("agent", source_agent["url"], REGION),
                 Target("agent", fresh_agent["url"], REGION)],
                references=[source["url"]], limits=Thresholds.from_spec(spec), timeout=5,
            )  # fmt: skip
            check(report.status, None)
            step("status", "every node ready")
            name, detail = orchestrated.result()
            step(name, detail)
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report.seconds = time.monotonic() - started
    step("clean up", "stopped every process" + ("" if keep else ", removed the work directory"))
    return report


def _rehearse(folder: Path, env: dict[str, str]) -> tuple[str, str]:
    """plan, apply and destroy the single-node example's AWS region against the local AWS
    API; (stage name, what happened). Skipped, with the reason, when Terraform or the
    hashicorp/aws provider is missing."""
    import boto3

    from iconctl.pipeline import Pipeline
    from iconctl.rehearsal import TERRAFORM_VARIABLES, provider_mirror, terraform_cli_config

    name = "AWS rehearsal"
    if shutil.which("terraform") is None:
        return f"{name} skipped", "terraform is not on PATH (install Terraform >= 1.10)"
    folder.mkdir(parents=True, exist_ok=True)
    tf_env = {**env, **TERRAFORM_VARIABLES, "AWS_DEFAULT_REGION": "us-east-2"}
    mirror = provider_mirror(env)
    if mirror is not None:
        tf_env["TF_CLI_CONFIG_FILE"] = str(terraform_cli_config(mirror, folder))
    spec_path = folder / "iconctl.yaml"
    spec_path.write_text(example_text("single-node"))
    spec = parse_spec(spec_path.read_text(), filename=str(spec_path))
    # The region only: the monitoring host doubles the Terraform runs, which would take the
    # demo past two minutes (the deploy tests apply and destroy it against the same API).
    spec = spec.model_copy(
        update={"monitoring": spec.monitoring.model_copy(update={"prometheus": False})}
    )
    aws = {"endpoint_url": env["AWS_ENDPOINT_URL"], "region_name": "us-east-2",
           "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
           "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"]}  # fmt: skip
    # The operator's public zone for the example's hostname.
    boto3.client("route53", **aws).create_hosted_zone(Name="example.org", CallerReference="demo")
    region = spec.regions[0].name
    pipeline = Pipeline(spec, spec_path, say=lambda _: None, env=tf_env, configure=False)
    applied = pipeline.apply(lambda _: True)
    failure = applied.failure()
    if failure is not None:
        if "registry.terraform.io" in failure.message and "provider" in failure.message:
            return f"{name} skipped", (
                "the hashicorp/aws provider cannot be installed (no registry access); set "
                "ICONCTL_TF_PLUGIN_MIRROR to a provider mirror"
            )
        raise failure
    ec2 = boto3.client("ec2", **aws)

    def instances(states: set[str]) -> list[str]:
        reservations = ec2.describe_instances()["Reservations"]
        return [
            i["InstanceId"] for r in reservations for i in r["Instances"]
            if i["State"]["Name"] in states
        ]  # fmt: skip

    running = instances({"running"})
    destroyed = pipeline.destroy(lambda _: True)
    failure = destroyed.failure()
    if failure is not None:
        raise failure
    left = instances({"pending", "running", "stopping", "stopped", "shutting-down"})
    vpcs = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]]
    if left or vpcs:
        raise IconctlError(f"demo: destroy left {len(left)} instances and {len(vpcs)} VPCs")
    return name, (
        f"{region} (single node) applied against the local AWS API: {len(running)} instance "
        f"running; destroyed, nothing left (Terraform and the real provider, config skipped: "
        f"no VM stands behind the local API; the monitoring host is left out to keep the demo "
        f"short: `make test` deploys it)"
    )


def _stepper(report: DemoReport, say: Callable[[str], None]) -> Callable[[str, str], None]:
    started = time.monotonic()

    def step(name: str, detail: str) -> None:
        elapsed = time.monotonic() - started
        report.steps.append({"step": name, "detail": detail, "at_seconds": round(elapsed, 2)})
        say(f"[bold]{len(report.steps)}. {name}[/] ({elapsed:.1f} s): {detail}")

    return step


def _iconctl(*args: str) -> list[str]:
    return [sys.executable, "-m", "iconctl", *args]


def _service(stack: contextlib.ExitStack, workdir: Path, env: dict[str, str], name: str,
             *args: str) -> dict[str, Any]:  # fmt: skip
    log = workdir / "logs" / f"{name.replace(' ', '-')}.log"
    try:
        service = process.Service(name, _iconctl(*args, "--json"), env=env, stderr=log)
    except IconctlError as exc:
        raise IconctlError(f"demo: {exc.message}") from None
    stack.callback(service.stop)
    return service.info


def _agent(stack: contextlib.ExitStack, workdir: Path, env: dict[str, str], name: str,
           node: str, references: list[str]) -> dict[str, Any]:  # fmt: skip
    refs = [arg for ref in references for arg in ("--reference", ref)]
    return _service(stack, workdir, env, name, "agent", "--node", node, "--listen", "127.0.0.1:0",
                    "--poll-interval", "0.5", "--reference-interval", "0.5", "--rise", "2",
                    *refs)  # fmt: skip


def _iconctl_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = process.run(_iconctl(*args, "--json"), step=f"iconctl {' '.join(args[:2])}",
                         env=env, capture=True, timeout=120)  # fmt: skip
    return json.loads(result.stdout)


def _start_s3(stack: contextlib.ExitStack, workdir: Path) -> str:
    server = Path(sys.executable).parent / "moto_server"
    if not server.exists() and shutil.which("moto_server") is None:
        raise ToolNotFound(
            tool="moto_server", hint="the demo's S3 server: pip install 'moto[server]>=5'"
        )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (workdir / "logs").joinpath("s3.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("w")
    from iconctl.rehearsal import moto_server_env

    proc = subprocess.Popen(
        [str(server) if server.exists() else "moto_server", "-H", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, **moto_server_env(workdir)},
    )  # fmt: skip

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        handle.close()

    stack.callback(stop)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return url
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise ToolFailed(step="demo: start moto_server", argv=["moto_server"], returncode=1,
                     tail=log.read_text()[-2000:])  # fmt: skip


def _create_bucket(env: dict[str, str], bucket: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=REGION,
                          aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])  # fmt: skip
    client.create_bucket(Bucket=bucket)


def _base(url: str) -> str:
    return url.split("/api/v3")[0]


def _wait_ready(agents: list[str], timeout: float) -> float:
    started = time.monotonic()
    pending = set(agents)
    while pending and time.monotonic() - started < timeout:
        for url in list(pending):
            if _ready(url):
                pending.discard(url)
        time.sleep(0.2)
    if pending:
        raise IconctlError(f"demo: not ready after {timeout:.0f} s: {', '.join(sorted(pending))}")
    return time.monotonic() - started


def _ready(url: str) -> bool:
    from iconctl.http import client

    try:
        return client.request(url + "/readyz", timeout=2)[0] == 200
    except (OSError, ValueError):
        return False
