"""plan / apply / destroy: the deployment's units, in dependency order, with resumable steps.

Units come from the rendered deployment.json: the state backend, then every region (in
parallel), then the global geo layer. A region's steps are zone (Terraform: the Route 53 zone
delegated from Cloudflare, for AWS regions behind the global load balancer), image (Packer,
for autoscaled flavours), infra (Terraform) and config (Ansible, on the hosts Terraform
reports). Earlier steps' outputs reach later Terraform runs as variables (RUNTIME_VARS). Each
step records a fingerprint of its inputs when it finishes, so a re-run after a failure skips
what is done and unchanged. Every invocation gets a run folder that keeps each tool's full
output.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from iconctl import process
from iconctl.assets import assets_root
from iconctl.errors import ExitCode, IconctlError, InputError
from iconctl.files import write_atomic
from iconctl.render import render
from iconctl.render.terraform import deployment
from iconctl.runners.ansible import Ansible
from iconctl.runners.kubectl import Kubectl
from iconctl.runners.packer import Packer
from iconctl.runners.terraform import PlanSummary, Terraform
from iconctl.spec import Spec
from iconctl.spec.model import Region

# packer/sources.json names the template's source that builds each cloud's image.
PACKER_SOURCES = Path("packer") / "sources.json"
SITE_PLAYBOOK = Path("ansible") / "playbooks" / "site.yml"
# Outputs of earlier steps and units that later Terraform runs take as variables: the image
# the image step built, the Route 53 zone the zone step created (region stacks), and the
# region hostnames' records the regions report (global stack).
RUNTIME_VARS = ("image_id", "route53_zone_id", "region_records")


@dataclass(frozen=True)
class Unit:
    name: str
    stack: str
    dir: str
    cloud: str | None = None
    flavour: str | None = None
    zone_stack: str | None = None  # the region's zone step (aws-region-zone), when it has one
    zone_dir: str | None = None

    @classmethod
    def from_deployment(cls, entry: dict[str, Any]) -> Unit:
        zone = entry.get("zone") or {}
        return cls(
            name=entry["unit"], stack=entry["stack"], dir=entry["dir"],
            cloud=entry.get("cloud"), flavour=entry.get("flavour"),
            zone_stack=zone.get("stack"), zone_dir=zone.get("dir"),
        )  # fmt: skip

    @property
    def is_region(self) -> bool:
        return self.cloud is not None


@dataclass
class StepResult:
    unit: str
    step: str
    status: str  # done | skipped | failed | planned | deferred | destroyed | interrupted
    seconds: float = 0.0
    plan: dict[str, int] | None = None
    error: str | None = None
    exit_code: int = 0
    note: str | None = None  # why a step is deferred


@dataclass
class Report:
    command: str
    run_dir: Path | None  # None when the operator declined and nothing ran
    steps: list[StepResult] = field(default_factory=list)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return all(s.status not in ("failed", "interrupted") for s in self.steps)

    def failure(self) -> IconctlError | None:
        """The first failed step as an error carrying its exit code, or None."""
        for step in self.steps:
            if step.status == "failed":
                where = f"{step.unit} {step.step}" if step.step != "-" else step.unit
                message = step.error or "failed"
                if not message.startswith(where):
                    message = f"{where}: {message}"
                return IconctlError(message, exit_code=ExitCode(step.exit_code))
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "run_dir": str(self.run_dir) if self.run_dir else None,
            "ok": self.ok,
            "cancelled": self.cancelled,
            "steps": [asdict(s) for s in self.steps],
        }


class Workspace:
    """`.iconctl/` beside the spec: rendered inputs, working copies, local state, runs."""

    def __init__(self, spec_path: Path) -> None:
        self.root = spec_path.absolute().parent / ".iconctl"
        self.build = self.root / "build"
        self.state = self.root / "state"
        self.progress_path = self.root / "progress.json"
        self._lock = threading.Lock()

    def unit_dir(self, unit: str) -> Path:
        return self.root / "work" / unit

    def new_run(self, command: str) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        run_dir = self.root / "runs" / f"{stamp}-{command}"
        run_dir.mkdir(parents=True)
        return run_dir

    def progress(self) -> dict[str, Any]:
        try:
            return json.loads(self.progress_path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise InputError(
                f"{self.progress_path}: unreadable ({exc}); delete it to start over"
            ) from None

    def record(self, key: str, entry: dict[str, Any] | None) -> None:
        with self._lock:
            data = self.progress()
            if entry is None:
                data.pop(key, None)
            else:
                data[key] = entry
            write_atomic(self.progress_path, json.dumps(data, indent=2, sort_keys=True) + "\n")


class Pipeline:
    def __init__(
        self,
        spec: Spec,
        spec_path: Path,
        *,
        regions: Iterable[str] = (),
        say: Callable[[str], None] = print,
        env: dict[str, str] | None = None,
        configure: bool = True,
        refresh_wait: float | None = None,
    ) -> None:
        """configure=False leaves out the config steps (a rehearsal on a local AWS API, where
        no VM stands behind the instances Terraform creates). refresh_wait: seconds apply
        waits for an autoscaling group's running instance refresh (default 30 minutes)."""
        from iconctl.instance_refresh import WAIT_SECONDS

        self.spec = spec
        self.configure = configure
        self.refresh_wait = WAIT_SECONDS if refresh_wait is None else refresh_wait
        self.ws = Workspace(spec_path)
        self.say = say
        self.env = env
        self.assets = assets_root()
        self.cancel = threading.Event()
        # plan: set when the state bucket does not exist yet; the other units' plans need it.
        self._state_bucket_pending = False
        # unit -> (step, monotonic start) of the step each unit is running now
        self._current: dict[str, tuple[str, float]] = {}
        wanted = list(regions)
        known = [r.name for r in spec.regions]
        unknown = [r for r in wanted if r not in known]
        if unknown:
            raise InputError(
                f"--region {', '.join(unknown)}: not in the spec (regions: {', '.join(known)})"
            )
        units = [Unit.from_deployment(u) for u in deployment(spec)["units"]]
        if wanted:  # a region filter limits the run to those regions, nothing global
            units = [u for u in units if u.name in wanted]
        self.units = units
        render(spec, self.ws.build)

    # -- the three commands -------------------------------------------------------------

    def plan(self) -> Report:
        self._preflight()
        report = self._new_report("plan")
        self._in_order(report, lambda unit: self._plan_unit(unit, report.run_dir))
        return report

    def apply(self, confirm: Callable[[list[str]], bool]) -> Report:
        self._preflight("apply")
        todo = [f"{u.name}: {', '.join(self._steps(u))}" for u in self.units]
        if not confirm(todo):
            return Report("apply", None, cancelled=True)
        report = self._new_report("apply")
        self._in_order(report, lambda unit: self._apply_unit(unit, report.run_dir))
        return report

    def _new_report(self, command: str) -> Report:
        """A run folder for this invocation, named before anything runs."""
        run_dir = self.ws.new_run(command)
        self.say(f"run folder: {run_dir}")
        return Report(command, run_dir)

    def destroy(self, confirm: Callable[[str], bool]) -> Report:
        if self.spec.protect:
            raise InputError(
                f"{self.spec.name} is protected (protect: true in the spec); "
                "set protect: false and run destroy again"
            )
        self._preflight("destroy")
        if not confirm(self.spec.name):
            return Report("destroy", None, cancelled=True)
        report = self._new_report("destroy")
        # The state backend holds everyone's state: it is kept, never destroyed from here.
        units = [u for u in self.units if u.name != "state-backend"]
        self._in_order(report, lambda unit: [self._destroy_unit(unit, report.run_dir)], units[::-1])
        return report

    def _preflight(self, command: str = "plan") -> None:
        """Preflight, before anything runs: the tools the run's steps need, the clouds'
        credentials, and the secret references the run uses (docs/orchestration.md)."""
        from iconctl import preflight

        vm_units = [u for u in self.units if u.flavour != "k8s"]
        tools = {"terraform"} if vm_units else set()
        if any(u.flavour == "k8s" for u in self.units):
            tools.add("kubectl")
        if command == "apply":
            steps = {step for u in vm_units for step in self._steps(u)}
            if "image" in steps:
                tools.add("packer")
            # Autoscaled nodes configure themselves at boot; single nodes are configured here.
            if self.configure and any(u.flavour == "single" for u in vm_units):
                tools.add("ansible-playbook")
        env = self._env()
        preflight.check_tools(tools, env)
        secrets = []
        cloudflare = any(u.name == "global" or u.zone_stack for u in self.units)
        if self.spec.geo is not None and cloudflare:
            secrets.append(("geo.api_token", self.spec.geo.api_token))
        preflight.check_secrets(secrets)
        clouds = {u.cloud for u in vm_units if u.cloud}
        if any(u.name == "state-backend" for u in self.units) or (
            vm_units and self.spec.state.backend != "local"
        ):
            clouds.add("aws" if self.spec.state.backend == "s3" else "gcp")
        preflight.check_credentials(clouds, env)

    # -- ordering: state backend, regions in parallel, then global (reverse for destroy) ----

    def _in_order(
        self,
        report: Report,
        work: Callable[[Unit], list[StepResult]],
        units: list[Unit] | None = None,
    ) -> None:
        units = self.units if units is None else units
        stages: list[list[Unit]] = []
        for unit in units:
            if stages and unit.is_region and stages[-1][0].is_region:
                stages[-1].append(unit)
            else:
                stages.append([unit])
        for stage in stages:
            pool = ThreadPoolExecutor(max_workers=len(stage))
            try:
                futures = [pool.submit(self._guarded, unit, work) for unit in stage]
                for future in futures:
                    report.steps.extend(future.result())
            except KeyboardInterrupt:
                # Workers' children run in their own sessions: stop them, then the threads.
                self.cancel.set()
                process.stop_all()
                pool.shutdown(wait=True, cancel_futures=True)
                report.steps.append(StepResult("-", "-", "interrupted"))
                raise
            pool.shutdown(wait=True)
            if not report.ok:
                break

    def _guarded(self, unit: Unit, work: Callable[[Unit], list[StepResult]]) -> list[StepResult]:
        """Run a unit's work; a failure becomes the failed step's result (said in one short
        line here, its error printed once at the end of the run)."""
        started = time.monotonic()
        try:
            return work(unit)
        except IconctlError as exc:
            step, since = self._current.get(unit.name, ("-", started))
            elapsed = time.monotonic() - since
            self.say(f"{unit.name}: [red]{step} failed[/] after {elapsed:.1f}s")
            return [
                StepResult(
                    unit.name, step, "failed", elapsed,
                    error=exc.message, exit_code=int(exc.exit_code),
                )
            ]  # fmt: skip

    def _begin(self, unit: Unit, step: str, what: str = "...") -> float:
        """Note the step a unit is running now; returns its start time."""
        started = time.monotonic()
        self._current[unit.name] = (step, started)
        self.say(f"{unit.name}: {step} {what}")
        return started

    def _activity(self, unit: Unit, step: str, parse: Callable[[str], str | None]):
        """A tool's output line -> the unit's live line (what the tool is doing now)."""

        def on_line(line: str) -> None:
            doing = parse(line)
            if doing:
                self.say(f"{unit.name}: task: {step}: {doing}")

        return on_line

    # -- steps ------------------------------------------------------------------------------

    def _steps(self, unit: Unit) -> list[str]:
        if not unit.is_region:
            return ["infra"]
        if unit.flavour == "k8s":
            return ["deploy"]
        # The zone first: its delegation propagates while Packer builds the image.
        zone = ["zone"] if unit.zone_stack else []
        # Autoscaled nodes boot a baked image: built here unless the spec pins one.
        image = ["image"] if unit.flavour == "asg" and self._region(unit).image_id is None else []
        return zone + image + ["infra"] + (["config"] if self.configure else [])

    def _region(self, unit: Unit) -> Region:
        return next(r for r in self.spec.regions if r.name == unit.name)

    def _apply_unit(self, unit: Unit, run_dir: Path) -> list[StepResult]:
        results: list[StepResult] = []
        runtime: dict[str, Any] = self._inputs_from_regions(unit)
        for step in self._steps(unit):
            if self.cancel.is_set():
                break
            inputs = self._fingerprint(unit, step, runtime)
            key = f"{unit.name}/{step}"
            done = self.ws.progress().get(key)
            if done and done.get("fingerprint") == inputs:
                self.say(f"{unit.name}: {step} unchanged since {done['at']}, skipped")
                results.append(StepResult(unit.name, step, "skipped"))
                runtime.update(done.get("outputs", {}))
                continue
            started = self._begin(unit, step)
            try:
                outputs = getattr(self, f"_{step}")(unit, run_dir, runtime)
            except IconctlError as exc:
                elapsed = time.monotonic() - started
                self.say(f"{unit.name}: [red]{step} failed[/] after {elapsed:.1f}s")
                results.append(
                    StepResult(
                        unit.name, step, "failed", elapsed,
                        error=exc.message, exit_code=int(exc.exit_code),
                    )
                )  # fmt: skip
                return results
            runtime.update(outputs)
            elapsed = time.monotonic() - started
            self.ws.record(key, {"fingerprint": inputs, "at": _now(), "outputs": outputs})
            self.say(f"{unit.name}: [green]{step} done[/] in {elapsed:.1f}s")
            results.append(StepResult(unit.name, step, "done", elapsed))
        return results

    def _image(self, unit: Unit, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        assert unit.cloud is not None
        manifest = run_dir / f"{unit.name}-packer-manifest.json"
        packer = Packer(
            self.assets / "packer",
            step=f"{unit.name} image",
            log_path=run_dir / f"{unit.name}-image.log",
            env=self._env(),
            on_line=self._activity(unit, "image", Packer.activity),
        )
        var_file = self.ws.build / unit.dir / "packer" / f"{unit.cloud}.pkrvars.hcl"
        image = packer.build(
            [var_file],
            {"manifest_path": str(manifest)},
            manifest=manifest,
            only=self._packer_source(unit.cloud),
        )
        return {"image_id": image.split(":")[-1]}  # amazon-ebs records "region:ami-..."

    def _packer_source(self, cloud: str) -> str:
        path = self.assets / PACKER_SOURCES
        try:
            return str(json.loads(path.read_text())[cloud])
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{path}: cannot tell which source builds {cloud} ({exc})") from None

    def _zone(self, unit: Unit, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        tf, var_files = self._terraform(unit, run_dir, {}, zone=True)
        plan_file = run_dir / f"{unit.name}-zone.tfplan"
        summary = tf.plan(var_files, plan_file)
        self.say(f"{unit.name}: zone: {_describe(summary)}")
        tf.apply(plan_file)
        zone_id = tf.output().get("zone_id")
        if not isinstance(zone_id, str) or not zone_id:
            raise IconctlError(
                f"{unit.name} zone: stack {unit.zone_stack} reported no zone_id",
                exit_code=ExitCode.TOOL_FAILED,
            )
        return {"route53_zone_id": zone_id}

    def _infra(self, unit: Unit, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        tf, var_files = self._terraform(unit, run_dir, runtime)
        plan_file = run_dir / f"{unit.name}.tfplan"
        summary = tf.plan(var_files, plan_file)
        self.say(f"{unit.name}: {_describe(summary)}")
        tf.apply(plan_file)
        outputs = tf.output()
        result: dict[str, Any] = {"terraform_outputs": outputs}
        group = outputs.get("autoscaling_group_name")
        if unit.cloud == "aws" and unit.flavour == "asg" and isinstance(group, str) and group:
            result["instance_refresh"] = self._instance_refresh(unit, group)
        return result

    def _instance_refresh(self, unit: Unit, group: str) -> dict[str, Any]:
        """Wait (bounded) for the group's latest instance refresh and report how it ended;
        one that failed or rolled back fails the step (docs/orchestration.md)."""
        from iconctl.instance_refresh import autoscaling_client, latest_refresh

        def progress(report: Any) -> None:
            self.say(f"{unit.name}: {report.line()}")

        client = autoscaling_client(unit.name, self._env())
        report = latest_refresh(client, group, wait=self.refresh_wait, on_progress=progress)
        self.say(f"{unit.name}: {report.line()}")
        if report.failed:
            raise IconctlError(
                f"{unit.name} infra: {report.line()}", exit_code=ExitCode.TOOL_FAILED
            )
        return {"group": group, "status": report.status, "percent": report.percent}

    def _config(self, unit: Unit, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        hosts = (runtime.get("terraform_outputs") or {}).get("ansible_hosts") or {}
        if not isinstance(hosts, dict) or not any(hosts.values()):
            self.say(f"{unit.name}: no hosts to configure (nodes configure themselves at boot)")
            return {}
        private = self.ws.unit_dir(unit.name) / "ansible"
        shutil.rmtree(private, ignore_errors=True)
        shutil.copytree(self.ws.build / unit.dir / "ansible", private)
        inventory = yaml.safe_load((private / "inventory" / "hosts.yml").read_text())
        for group, addresses in hosts.items():
            members = inventory["all"]["children"].setdefault(group, {"hosts": {}})
            members["hosts"] = {str(a): {} for a in addresses or []}
        extra_vars = (runtime.get("terraform_outputs") or {}).get("ansible_vars") or {}
        inventory["all"].setdefault("vars", {}).update(extra_vars)
        write_atomic(private / "inventory" / "hosts.yml", yaml.safe_dump(inventory, sort_keys=True))
        ansible = Ansible(
            private,
            step=f"{unit.name} config",
            log_path=run_dir / f"{unit.name}-config.log",
            env={"ANSIBLE_ROLES_PATH": str(self.assets / "ansible" / "roles")},
            on_line=lambda line: self.say(f"{unit.name}: {line}"),
            cancel=self.cancel,
        )
        ansible.run(self.assets / SITE_PLAYBOOK)
        return {}

    def _deploy(self, unit: Unit, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        kubectl, overlay = self._kubectl(unit, run_dir)
        kubectl.apply(overlay)
        return {}

    def _kubectl(self, unit: Unit, run_dir: Path, log_suffix: str = "deploy") -> tuple:
        region = self._region(unit)
        kubectl = Kubectl(
            context=region.kubernetes.context if region.kubernetes else None,
            step=f"{unit.name} deploy",
            log_path=run_dir / f"{unit.name}-{log_suffix}.log",
            env=self._env(),
            on_line=None,
        )
        return kubectl, self.ws.build / unit.dir / "k8s"

    def _plan_unit(self, unit: Unit, run_dir: Path) -> list[StepResult]:
        started = time.monotonic()
        if unit.flavour == "k8s":
            started = self._begin(unit, "deploy", "planning ...")
            # The overlay is built offline; server-side apply sends every object each time.
            kubectl, overlay = self._kubectl(unit, run_dir)
            count = len(kubectl.build(overlay))
            self.say(f"{unit.name}: {count} Kubernetes objects to apply")
            plan = PlanSummary(change=count, modules={"kubernetes": [0, count, 0]})
            return [
                StepResult(
                    unit.name, "deploy", "planned", time.monotonic() - started, plan=asdict(plan)
                )
            ]
        if self._state_bucket_pending:
            note = "planned once apply has created the state bucket"
            self.say(f"{unit.name}: {note}")
            return [StepResult(unit.name, "infra", "deferred", note=note)]
        results: list[StepResult] = []
        runtime = self._known_outputs(unit)
        if unit.zone_stack:
            started = self._begin(unit, "zone", "planning ...")
            zone_tf, zone_vars = self._terraform(unit, run_dir, {}, zone=True)
            summary = zone_tf.plan(zone_vars, run_dir / f"{unit.name}-zone.tfplan")
            self.say(f"{unit.name}: zone: {_describe(summary)}")
            results.append(
                StepResult(
                    unit.name, "zone", "planned", time.monotonic() - started, plan=asdict(summary)
                )
            )
            # The region's plan needs the zone's ID; its state has it once apply created it.
            zone_id = zone_tf.output().get("zone_id")
            if not zone_id:
                note = "planned once apply has created the zone"
                self.say(f"{unit.name}: infra is {note}")
                results.append(StepResult(unit.name, "infra", "deferred", note=note))
                return results
            runtime["route53_zone_id"] = zone_id
        started = self._begin(unit, "infra", "planning ...")
        tf, var_files = self._terraform(unit, run_dir, runtime)
        summary = tf.plan(var_files, run_dir / f"{unit.name}.tfplan")
        self.say(f"{unit.name}: {_describe(summary)}")
        if unit.name == "state-backend" and not tf.output().get("bucket"):
            # Every other unit keeps its state in that bucket: their plans wait for it.
            self._state_bucket_pending = True
        results.append(
            StepResult(
                unit.name, "infra", "planned", time.monotonic() - started, plan=asdict(summary)
            )
        )
        return results

    def _destroy_unit(self, unit: Unit, run_dir: Path) -> StepResult:
        if unit.flavour == "k8s":
            started = self._begin(unit, "deploy", "deleting ...")
            kubectl, overlay = self._kubectl(unit, run_dir, log_suffix="destroy")
            kubectl.delete(overlay)
            self.ws.record(f"{unit.name}/deploy", None)
            self.say(f"{unit.name}: [green]deleted[/]")
            return StepResult(unit.name, "deploy", "destroyed", time.monotonic() - started)
        started = self._begin(unit, "infra", "destroying ...")
        runtime = self._known_outputs(unit)
        zone = None
        if unit.zone_stack:
            # The region's stack goes first (its records live in the zone), then the zone and
            # its delegation; the zone's state says which zone the region used.
            zone = self._terraform(unit, run_dir, {}, zone=True, log_suffix="destroy")
            zone_id = zone[0].output().get("zone_id")
            if zone_id:
                runtime["route53_zone_id"] = zone_id
        tf, var_files = self._terraform(unit, run_dir, runtime, log_suffix="destroy")
        tf.destroy(var_files)
        if zone is not None:
            self._begin(unit, "zone", "destroying ...")
            zone[0].destroy(zone[1])
        for step in self._steps(unit):
            self.ws.record(f"{unit.name}/{step}", None)
        self.say(f"{unit.name}: [green]destroyed[/]")
        return StepResult(unit.name, "infra", "destroyed", time.monotonic() - started)

    # -- terraform working copies -------------------------------------------------------------

    def _terraform(
        self,
        unit: Unit,
        run_dir: Path,
        runtime: dict[str, Any],
        log_suffix: str = "infra",
        *,
        zone: bool = False,
    ) -> tuple[Terraform, list[Path]]:
        """A fresh copy of terraform/ for the unit (or its zone step), its backend wired in,
        initialised, with the var files: the rendered one and the runtime variables."""
        base = self.ws.unit_dir(unit.name) / "zone" if zone else self.ws.unit_dir(unit.name)
        stack_name = unit.zone_stack if zone else unit.stack
        step = "zone" if zone else "infra"
        if zone and log_suffix == "infra":
            log_suffix = "zone"
        elif zone:
            log_suffix = f"zone-{log_suffix}"
        copy = base / "terraform"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(
            self.assets / "terraform",
            copy,
            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"),
        )
        stack = copy / "stacks" / str(stack_name)
        if not stack.is_dir():
            raise InputError(f"{unit.name}: no Terraform stack {stack_name} in {self.assets}")
        backend, config = self._backend(unit, zone=zone)
        (stack / "iconctl_backend_override.tf").write_text(
            f'terraform {{\n  backend "{backend}" {{}}\n}}\n'
        )
        tf = Terraform(
            stack,
            data_dir=base / "tfdata",
            step=f"{unit.name} {step}",
            log_path=run_dir / f"{unit.name}-{log_suffix}.log",
            env=self._env(unit, cloudflare=zone),
            on_line=self._activity(unit, step, Terraform.activity),
        )
        tf.init(config)
        var_files = [self.ws.build / self._tfvars(unit, zone=zone)]
        extra = {k: v for k, v in runtime.items() if k in RUNTIME_VARS}
        if extra:
            runtime_file = base / "runtime.tfvars.json"
            write_atomic(runtime_file, json.dumps(extra, indent=2, sort_keys=True) + "\n")
            var_files.append(runtime_file)
        return tf, var_files

    def _tfvars(self, unit: Unit, *, zone: bool = False) -> str:
        if zone:
            return f"{unit.zone_dir}/terraform.tfvars.json"
        sub = "state-backend" if unit.name == "state-backend" else "terraform"
        folder = unit.dir if unit.name != "state-backend" else "global"
        return f"{folder}/{sub}/terraform.tfvars.json"

    def _backend(self, unit: Unit, *, zone: bool = False) -> tuple[str, list[str]]:
        state = self.spec.state
        if unit.name == "state-backend" or state.backend == "local":
            # The state bucket's own state, and local deployments, live beside the spec.
            path = self.ws.state / f"{unit.name}{'-zone' if zone else ''}.tfstate"
            path.parent.mkdir(parents=True, exist_ok=True)
            return "local", [f"path={path}"]
        folder = unit.zone_dir if zone else f"{unit.dir}/terraform"
        rendered = self.ws.build / str(folder) / "backend.hcl"
        return state.backend, [str(rendered)]

    def _env(self, unit: Unit | None = None, *, cloudflare: bool = False) -> dict[str, str]:
        """The tools' environment; the Cloudflare token only for the global stack and the
        zone steps (their NS records), resolved from its reference at the last moment."""
        env = dict(self.env if self.env is not None else os.environ)
        wants_token = cloudflare or (unit is not None and unit.name == "global")
        if wants_token and self.spec.geo is not None:
            from iconctl.secrets import resolve

            env["CLOUDFLARE_API_TOKEN"] = resolve(self.spec.geo.api_token, field="geo.api_token")
        return env

    def _known_outputs(self, unit: Unit) -> dict[str, Any]:
        runtime: dict[str, Any] = self._inputs_from_regions(unit)
        progress = self.ws.progress()
        for step in self._steps(unit):
            runtime.update(progress.get(f"{unit.name}/{step}", {}).get("outputs", {}))
        return runtime

    def _inputs_from_regions(self, unit: Unit) -> dict[str, Any]:
        """What the global unit takes from the regions' recorded outputs: the DNS records of
        region hostnames their own cloud does not publish (a GCP region's `region_record`,
        an A record to its load balancer), keyed by hostname."""
        if unit.name != "global":
            return {}
        progress = self.ws.progress()
        records: dict[str, Any] = {}
        for region in (u for u in self.units if u.is_region):
            outputs = progress.get(f"{region.name}/infra", {}).get("outputs", {})
            reported = outputs.get("terraform_outputs") or {}
            record, hostname = reported.get("region_record"), reported.get("hostname")
            if isinstance(record, dict) and isinstance(hostname, str) and hostname:
                records[hostname] = record
        return {"region_records": records}

    def _fingerprint(self, unit: Unit, step: str, runtime: dict[str, Any]) -> str:
        digest = hashlib.sha256(step.encode())
        build = self.ws.build
        sources = {
            "zone": lambda: [build / self._tfvars(unit, zone=True), self.assets / "terraform"],
            "image": lambda: [build / unit.dir / "packer", self.assets / "packer",
                              self.assets / "ansible"],
            "infra": lambda: [build / self._tfvars(unit), self.assets / "terraform"],
            "config": lambda: [build / unit.dir / "ansible", self.assets / "ansible"],
            "deploy": lambda: [build / unit.dir / "k8s", build / "kubernetes"],
        }[step]()  # fmt: skip
        for source in sources:
            files = [source] if source.is_file() else sorted(p for p in source.rglob("*"))
            for path in files:
                if path.is_file() and ".terraform" not in path.parts:
                    digest.update(str(path.relative_to(source.parent)).encode())
                    digest.update(path.read_bytes())
        relevant = {
            k: v for k, v in runtime.items() if k != "terraform_outputs" or step == "config"
        }
        digest.update(json.dumps(relevant, sort_keys=True, default=str).encode())
        if unit.name == "global" or step == "zone":
            digest.update(self.spec.geo.api_token.encode() if self.spec.geo else b"")
        return digest.hexdigest()


def _describe(summary: PlanSummary) -> str:
    if not summary.changes:
        return "no changes"
    return f"{summary.add} to add, {summary.change} to change, {summary.destroy} to destroy"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
