"""The deployment's units: one class per kind, each knowing its steps and how to plan, apply
and destroy itself.

deployment.json names every unit's kind; ``KINDS`` maps the kind to its class. A new kind of
unit is one class here, registered with ``@kind("name")``, plus its entry in the renderer's
deployment (render/terraform.py ``deployment``).

- ``state-backend``: the bucket every other unit keeps its Terraform state in; its own state
  lives beside the spec, and destroy keeps it.
- ``vm-region``: a region of virtual machines: zone (the Route 53 zone delegated from
  Cloudflare, when it has one), image (Packer, autoscaled flavours without a pinned image),
  infra (Terraform) and config (Ansible on the hosts Terraform reports).
- ``k8s-region``: a region on an existing Kubernetes cluster: deploy (kubectl, the overlay)
  and, with ``monitoring.prometheus``, monitoring (helm installs the Prometheus Operator
  chart, kubectl applies the ServiceMonitor and PrometheusRule; without helm the step does
  what kubectl can and leaves the operator one printed command).
- ``monitoring``: a region's private monitoring host: infra (Terraform, in the region's
  network) and config (Ansible, the icon_monitoring role, through the cloud's session tooling).
- ``global``: the geo layer in front of the regions, fed the records the regions report.

``Retiring`` is no kind of deployment.json: it removes a monitoring host the spec no longer
deploys (the pipeline builds it from .iconctl/progress.json).
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from iconctl.errors import ExitCode, IconctlError, InputError, ToolFailed
from iconctl.files import write_atomic
from iconctl.pipeline.results import StepResult
from iconctl.pipeline.workspace import Context
from iconctl.render import ansible as ansible_inputs
from iconctl.render import kubernetes as k8s_inputs
from iconctl.runners import helm as helm_runner
from iconctl.runners import kubectl as kubectl_runner
from iconctl.runners.ansible import Ansible
from iconctl.runners.helm import Helm
from iconctl.runners.kubectl import Kubectl
from iconctl.runners.packer import Packer
from iconctl.runners.terraform import PlanSummary, Terraform
from iconctl.spec.model import Region

# packer/sources.json names the template's source that builds each cloud's image.
PACKER_SOURCES = Path("packer") / "sources.json"
SITE_PLAYBOOK = Path("ansible") / "playbooks" / "site.yml"
MONITORING_PLAYBOOK = Path("ansible") / "playbooks" / "monitoring.yml"
# Outputs of earlier steps and units that later Terraform runs take as variables: the image
# the image step built, the Route 53 zone the zone step created (region stacks), the region
# hostnames' records the regions report (global stack), and the region's network its
# monitoring host joins (monitoring stacks: the region stack's monitoring_network output).
RUNTIME_VARS = ("image_id", "route53_zone_id", "region_records", "region_network")
# The secrets the icon_monitoring role reads from the controller's environment: spec field ->
# variable (docs/monitoring.md). Only the global region's host sends alerts.
MONITORING_SECRETS = {
    "monitoring.alerts.slack_webhook": "ICON_MONITORING_SLACK_WEBHOOK_URL",
    "monitoring.alerts.telegram_bot_token": "ICON_MONITORING_TELEGRAM_BOT_TOKEN",
    "logging.elasticsearch_password": "ICON_MONITORING_ELASTICSEARCH_PASSWORD",
}
# The session tooling Ansible's SSH goes through to a host without a public address.
SESSION_TOOLS = {"aws": {"aws", "session-manager-plugin"}, "gcp": {"gcloud"}}


@dataclass(frozen=True)
class Step:
    """One resumable step of a unit."""

    name: str
    run: Callable[[Path, dict[str, Any]], dict[str, Any]]  # (run folder, runtime) -> outputs
    inputs: Callable[[], list[Path]]  # the files its fingerprint covers
    secret: bool = False  # the fingerprint also covers the Cloudflare token's reference
    pinned: Callable[[], str] | None = None  # and what the step takes from code, not files


class LeftToOperator(Exception):  # noqa: N818 - an outcome, not an error
    """A step did what the tools here allow; the rest is one command the operator runs.

    The step is reported ``manual`` with ``note`` and not recorded as done, so the next
    apply runs it again (by then the tool may be there, or the operator has run it)."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


class Unit(ABC):
    kind: ClassVar[str]
    # Regions run side by side, after the state backend and before the global layer.
    is_region: ClassVar[bool] = False
    # Consecutive units of one non-empty stage run side by side (regions; monitoring hosts).
    stage: ClassVar[str] = ""

    def __init__(self, entry: dict[str, Any], ctx: Context) -> None:
        self.name: str = entry["unit"]
        self.stack: str = entry["stack"]
        self.dir: str = entry["dir"]
        self.ctx = ctx

    @abstractmethod
    def steps(self) -> list[Step]: ...

    @abstractmethod
    def plan(self, run_dir: Path) -> list[StepResult]: ...

    @abstractmethod
    def destroy(self, run_dir: Path) -> list[StepResult]: ...

    # -- what preflight checks before anything runs --------------------------------------------

    def tools(self, command: str) -> set[str]:
        return set()

    def clouds(self) -> set[str]:
        """The clouds whose credentials the unit's runs use."""
        return set()

    def secrets(self, command: str = "apply") -> list[tuple[str, str]]:
        """(field, reference) of the secrets the unit's ``command`` resolves."""
        return []

    # -- apply: every step in order, skipping those done with unchanged inputs -----------------

    def apply(self, run_dir: Path) -> list[StepResult]:
        ctx = self.ctx
        results: list[StepResult] = []
        runtime: dict[str, Any] = self.runtime_inputs()
        for step in self.steps():
            if ctx.cancel.is_set():
                break
            inputs = self.fingerprint(step, runtime)
            key = f"{self.name}/{step.name}"
            done = ctx.ws.progress().get(key)
            if done and done.get("fingerprint") == inputs:
                ctx.say(f"{self.name}: {step.name} unchanged since {done['at']}, skipped")
                results.append(StepResult(self.name, step.name, "skipped"))
                runtime.update(done.get("outputs", {}))
                continue
            started = ctx.begin(self.name, step.name)
            try:
                outputs = step.run(run_dir, runtime)
            except LeftToOperator as left:
                elapsed = time.monotonic() - started
                ctx.say(f"{self.name}: [yellow]{step.name} left to the operator[/]: {left.note}")
                results.append(StepResult(self.name, step.name, "manual", elapsed, note=left.note))
                continue
            except IconctlError as exc:
                elapsed = time.monotonic() - started
                ctx.say(f"{self.name}: [red]{step.name} failed[/] after {elapsed:.1f}s")
                results.append(
                    StepResult(
                        self.name, step.name, "failed", elapsed,
                        error=exc.message, exit_code=int(exc.exit_code),
                    )
                )  # fmt: skip
                return results
            runtime.update(outputs)
            elapsed = time.monotonic() - started
            ctx.ws.record(key, {"fingerprint": inputs, "at": _now(), "outputs": outputs})
            ctx.say(f"{self.name}: [green]{step.name} done[/] in {elapsed:.1f}s")
            results.append(StepResult(self.name, step.name, "done", elapsed))
        return results

    def runtime_inputs(self) -> dict[str, Any]:
        """What the unit takes from other units' recorded outputs."""
        return {}

    def known_outputs(self) -> dict[str, Any]:
        """The runtime inputs plus what the unit's own steps recorded last time."""
        runtime = self.runtime_inputs()
        progress = self.ctx.ws.progress()
        for step in self.steps():
            runtime.update(progress.get(f"{self.name}/{step.name}", {}).get("outputs", {}))
        return runtime

    def forget(self) -> None:
        """Drop the unit's recorded steps (after destroy: the next apply runs them all), also
        those this run's context gives it no more (a config step recorded by a run that
        configured, forgotten by a rehearsal)."""
        self.ctx.ws.forget(self.name)

    def todo(self) -> str:
        """What apply will do with the unit, for the confirmation prompt."""
        return ", ".join(s.name for s in self.steps())

    def fingerprint(self, step: Step, runtime: dict[str, Any]) -> str:
        digest = hashlib.sha256(step.name.encode())
        for source in step.inputs():
            files = [source] if source.is_file() else sorted(p for p in source.rglob("*"))
            for path in files:
                if path.is_file() and ".terraform" not in path.parts:
                    digest.update(str(path.relative_to(source.parent)).encode())
                    digest.update(path.read_bytes())
        relevant = {
            k: v for k, v in runtime.items() if k != "terraform_outputs" or step.name == "config"
        }
        digest.update(json.dumps(relevant, sort_keys=True, default=str).encode())
        if step.pinned is not None:
            digest.update(step.pinned().encode())
        if step.secret:
            geo = self.ctx.spec.geo
            digest.update(geo.api_token.encode() if geo else b"")
        return digest.hexdigest()

    def _elapsed(self, started: float) -> float:
        return time.monotonic() - started


KINDS: dict[str, type[Unit]] = {}
_U = TypeVar("_U", bound=type[Unit])


def kind(name: str) -> Callable[[_U], _U]:
    """Register a unit class for deployment.json's ``kind``."""

    def register(cls: _U) -> _U:
        cls.kind = name
        KINDS[name] = cls
        return cls

    return register


def unit_from_deployment(entry: dict[str, Any], ctx: Context) -> Unit:
    try:
        cls = KINDS[entry["kind"]]
    except KeyError:
        raise InputError(
            f"deployment unit {entry.get('unit')}: unknown kind {entry.get('kind')!r} "
            f"(known: {', '.join(sorted(KINDS))})"
        ) from None
    return cls(entry, ctx)


# -- Terraform units ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    """One Terraform root a unit runs: its stack, rendered inputs, state and working copy."""

    name: str  # terraform/stacks/<name>
    rendered: str  # build folder holding terraform.tfvars.json (and backend.hcl)
    state: str  # the local state file's name, when state is local
    work: Path  # where its working copy and data dir go
    step: str  # the step it serves: infra or zone
    cloudflare: bool = False  # it manages Cloudflare records: the token is in its environment
    local_state: bool = False  # its state always lives beside the spec


class TerraformUnit(Unit):
    """A unit whose infra step is one Terraform stack."""

    def infra(self) -> Stack:
        return Stack(
            self.stack, f"{self.dir}/terraform", self.name, self.ctx.ws.unit_dir(self.name), "infra"
        )

    def steps(self) -> list[Step]:
        return [self._stack_step(self.infra(), self._apply_infra)]

    def tools(self, command: str) -> set[str]:
        return {"terraform"}

    def clouds(self) -> set[str]:
        state = self.ctx.spec.state
        return set() if state.backend == "local" else {_state_cloud(state.backend)}

    def plan(self, run_dir: Path) -> list[StepResult]:
        if self.ctx.state_bucket_pending:
            return [self._deferred("planned once apply has created the state bucket")]
        result, _ = self._plan_stack(self.infra(), run_dir, self.known_outputs())
        return [result]

    def destroy(self, run_dir: Path) -> list[StepResult]:
        started = self.ctx.begin(self.name, "infra", "destroying ...")
        self._destroy_stack(run_dir, self.known_outputs())
        return self._destroyed(started)

    # -- shared by the kinds -------------------------------------------------------------------

    def _stack_step(
        self, stack: Stack, run: Callable[[Path, dict[str, Any]], dict[str, Any]]
    ) -> Step:
        build, assets = self.ctx.ws.build, self.ctx.assets
        return Step(
            stack.step,
            run,
            lambda: [build / stack.rendered / "terraform.tfvars.json", assets / "terraform"],
            secret=stack.cloudflare,
        )

    def _apply_infra(self, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        tf, var_files = self._open(self.infra(), run_dir, runtime, "infra")
        plan_file = run_dir / f"{self.name}.tfplan"
        summary = tf.plan(var_files, plan_file)
        self.ctx.say(f"{self.name}: {_describe(summary)}")
        tf.apply(plan_file)
        return {"terraform_outputs": tf.output()}

    def _plan_stack(
        self, stack: Stack, run_dir: Path, runtime: dict[str, Any], *, destroy: bool = False
    ) -> tuple[StepResult, Terraform]:
        started = self.ctx.begin(self.name, stack.step, "planning ...")
        label = "" if stack.step == "infra" else f"{stack.step}: "
        tf, var_files = self._open(stack, run_dir, runtime, stack.step)
        plan_name = self.name if stack.step == "infra" else f"{self.name}-{stack.step}"
        summary = tf.plan(var_files, run_dir / f"{plan_name}.tfplan", destroy=destroy)
        self.ctx.say(f"{self.name}: {label}{_describe(summary)}")
        result = StepResult(
            self.name, stack.step, "planned", self._elapsed(started), plan=asdict(summary)
        )
        return result, tf

    def _destroy_stack(self, run_dir: Path, runtime: dict[str, Any]) -> None:
        tf, var_files = self._open(self.infra(), run_dir, runtime, "destroy")
        tf.destroy(var_files)

    def _destroyed(self, started: float) -> list[StepResult]:
        self.forget()
        self.ctx.say(f"{self.name}: [green]destroyed[/]")
        return [StepResult(self.name, "infra", "destroyed", self._elapsed(started))]

    def _deferred(self, note: str, *, said: str | None = None) -> StepResult:
        """The infra step, planned later (``note`` says when)."""
        self.ctx.say(f"{self.name}: {said or note}")
        return StepResult(self.name, "infra", "deferred", note=note)

    def _open(
        self, stack: Stack, run_dir: Path, runtime: dict[str, Any], log: str
    ) -> tuple[Terraform, list[Path]]:
        """A fresh copy of terraform/ for the stack, its backend wired in, initialised, with
        the var files: the rendered one and the runtime variables."""
        ctx = self.ctx
        copy = stack.work / "terraform"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(
            ctx.assets / "terraform",
            copy,
            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"),
        )
        root = copy / "stacks" / stack.name
        if not root.is_dir():
            raise InputError(f"{self.name}: no Terraform stack {stack.name} in {ctx.assets}")
        backend, config = self._backend(stack)
        (root / "iconctl_backend_override.tf").write_text(
            f'terraform {{\n  backend "{backend}" {{}}\n}}\n'
        )
        tf = Terraform(
            root,
            data_dir=stack.work / "tfdata",
            step=f"{self.name} {stack.step}",
            log_path=run_dir / f"{self.name}-{log}.log",
            env=ctx.env(cloudflare=stack.cloudflare),
            on_line=ctx.activity(self.name, stack.step, Terraform.activity),
        )
        tf.init(config)
        var_files = [ctx.ws.build / stack.rendered / "terraform.tfvars.json"]
        extra = {k: v for k, v in runtime.items() if k in RUNTIME_VARS}
        if extra:
            runtime_file = stack.work / "runtime.tfvars.json"
            write_atomic(runtime_file, json.dumps(extra, indent=2, sort_keys=True) + "\n")
            var_files.append(runtime_file)
        return tf, var_files

    def _backend(self, stack: Stack) -> tuple[str, list[str]]:
        state = self.ctx.spec.state
        if stack.local_state or state.backend == "local":
            # The state bucket's own state, and local deployments, live beside the spec.
            path = self.ctx.ws.state / f"{stack.state}.tfstate"
            path.parent.mkdir(parents=True, exist_ok=True)
            return "local", [f"path={path}"]
        return state.backend, [str(self.ctx.ws.build / stack.rendered / "backend.hcl")]


@kind("state-backend")
class StateBackend(TerraformUnit):
    def infra(self) -> Stack:
        ws = self.ctx.ws
        return Stack(
            self.stack, self.dir, self.name, ws.unit_dir(self.name), "infra", local_state=True
        )

    def clouds(self) -> set[str]:
        return {_state_cloud(self.ctx.spec.state.backend)}

    def plan(self, run_dir: Path) -> list[StepResult]:
        result, tf = self._plan_stack(self.infra(), run_dir, self.known_outputs())
        if not tf.output().get("bucket"):
            # Every other unit keeps its state in that bucket: their plans wait for it.
            self.ctx.state_bucket_pending = True
        return [result]

    def destroy(self, run_dir: Path) -> list[StepResult]:
        # The state backend holds everyone's state: it is kept, never destroyed from here.
        return []


@kind("vm-region")
class VmRegion(TerraformUnit):
    is_region = True
    stage = "regions"

    def __init__(self, entry: dict[str, Any], ctx: Context) -> None:
        super().__init__(entry, ctx)
        self.cloud: str = entry["cloud"]
        self.flavour: str = entry["flavour"]
        self.region: Region = next(r for r in ctx.spec.regions if r.name == self.name)
        zone = entry.get("zone")
        self.zone = (
            Stack(zone["stack"], zone["dir"], f"{self.name}-zone",
                  ctx.ws.unit_dir(self.name) / "zone", "zone", cloudflare=True)
            if zone else None
        )  # fmt: skip

    def steps(self) -> list[Step]:
        build, assets = self.ctx.ws.build, self.ctx.assets
        steps: list[Step] = []
        if self.zone is not None:
            # The zone first: its delegation propagates while Packer builds the image.
            steps.append(self._stack_step(self.zone, self._apply_zone))
        if self.flavour == "asg" and self.region.image_id is None:
            # Autoscaled nodes boot a baked image: built here unless the spec pins one.
            steps.append(
                Step(
                    "image",
                    self._image,
                    lambda: [build / self.dir / "packer", assets / "packer", assets / "ansible"],
                )
            )
        steps.append(self._stack_step(self.infra(), self._apply_infra))
        if self.ctx.configure:
            steps.append(
                Step("config", self._config, lambda: [build / self.dir / "ansible",
                                                      assets / "ansible"])
            )  # fmt: skip
        return steps

    def tools(self, command: str) -> set[str]:
        tools = {"terraform"}
        if command == "apply":
            if any(step.name == "image" for step in self.steps()):
                tools.add("packer")
            # Autoscaled nodes configure themselves at boot; single nodes are configured here.
            if self.ctx.configure and self.flavour == "single":
                tools.add("ansible-playbook")
        return tools

    def clouds(self) -> set[str]:
        return super().clouds() | {self.cloud}

    def secrets(self, command: str = "apply") -> list[tuple[str, str]]:
        geo = self.ctx.spec.geo
        return [("geo.api_token", geo.api_token)] if geo and self.zone else []

    def plan(self, run_dir: Path) -> list[StepResult]:
        if self.ctx.state_bucket_pending:
            return [self._deferred("planned once apply has created the state bucket")]
        results: list[StepResult] = []
        runtime = self.known_outputs()
        if self.zone is not None:
            result, zone_tf = self._plan_stack(self.zone, run_dir, {})
            results.append(result)
            # The region's plan needs the zone's ID; its state has it once apply created it.
            zone_id = zone_tf.output().get("zone_id")
            if not zone_id:
                note = "planned once apply has created the zone"
                results.append(self._deferred(note, said=f"infra is {note}"))
                return results
            runtime["route53_zone_id"] = zone_id
        result, _ = self._plan_stack(self.infra(), run_dir, runtime)
        results.append(result)
        return results

    def destroy(self, run_dir: Path) -> list[StepResult]:
        if self.zone is None:
            return super().destroy(run_dir)
        started = self.ctx.begin(self.name, "infra", "destroying ...")
        runtime = self.known_outputs()
        # The region's stack goes first (its records live in the zone), then the zone and
        # its delegation; the zone's state says which zone the region used.
        zone_tf, zone_vars = self._open(self.zone, run_dir, {}, "zone-destroy")
        zone_id = zone_tf.output().get("zone_id")
        if zone_id:
            runtime["route53_zone_id"] = zone_id
        self._destroy_stack(run_dir, runtime)
        self.ctx.begin(self.name, "zone", "destroying ...")
        zone_tf.destroy(zone_vars)
        return self._destroyed(started)

    # -- the steps ---------------------------------------------------------------------------

    def _apply_infra(self, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        result = super()._apply_infra(run_dir, runtime)
        group = result["terraform_outputs"].get("autoscaling_group_name")
        if self.cloud == "aws" and self.flavour == "asg" and isinstance(group, str) and group:
            result["instance_refresh"] = self._instance_refresh(group)
        return result

    def _instance_refresh(self, group: str) -> dict[str, Any]:
        """Wait (bounded) for the group's latest instance refresh and report how it ended;
        one that failed or rolled back fails the step (docs/orchestration.md)."""
        from iconctl.instance_refresh import WAIT_SECONDS, autoscaling_client, latest_refresh

        def progress(report: Any) -> None:
            self.ctx.say(f"{self.name}: {report.line()}")

        client = autoscaling_client(self.name, self.ctx.env())
        report = latest_refresh(client, group, wait=WAIT_SECONDS, on_progress=progress)
        self.ctx.say(f"{self.name}: {report.line()}")
        if report.failed:
            raise IconctlError(
                f"{self.name} infra: {report.line()}", exit_code=ExitCode.TOOL_FAILED
            )
        return {"group": group, "status": report.status, "percent": report.percent}

    def _apply_zone(self, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        assert self.zone is not None
        tf, var_files = self._open(self.zone, run_dir, {}, "zone")
        plan_file = run_dir / f"{self.name}-zone.tfplan"
        summary = tf.plan(var_files, plan_file)
        self.ctx.say(f"{self.name}: zone: {_describe(summary)}")
        tf.apply(plan_file)
        zone_id = tf.output().get("zone_id")
        if not isinstance(zone_id, str) or not zone_id:
            raise IconctlError(
                f"{self.name} zone: stack {self.zone.name} reported no zone_id",
                exit_code=ExitCode.TOOL_FAILED,
            )
        return {"route53_zone_id": zone_id}

    def _image(self, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        ctx = self.ctx
        manifest = run_dir / f"{self.name}-packer-manifest.json"
        packer = Packer(
            ctx.assets / "packer",
            step=f"{self.name} image",
            log_path=run_dir / f"{self.name}-image.log",
            env=ctx.env(),
            on_line=ctx.activity(self.name, "image", Packer.activity),
        )
        var_file = ctx.ws.build / self.dir / "packer" / f"{self.cloud}.pkrvars.hcl"
        image = packer.build(
            [var_file],
            {"manifest_path": str(manifest)},
            manifest=manifest,
            only=self._packer_source(),
        )
        return {"image_id": image.split(":")[-1]}  # amazon-ebs records "region:ami-..."

    def _packer_source(self) -> str:
        path = self.ctx.assets / PACKER_SOURCES
        try:
            return str(json.loads(path.read_text())[self.cloud])
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(
                f"{path}: cannot tell which source builds {self.cloud} ({exc})"
            ) from None

    def _config(self, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        ctx = self.ctx
        outputs = runtime.get("terraform_outputs") or {}
        hosts = outputs.get("ansible_hosts") or {}
        if not isinstance(hosts, dict) or not any(hosts.values()):
            ctx.say(f"{self.name}: no hosts to configure (nodes configure themselves at boot)")
            return {}
        private = ctx.ws.unit_dir(self.name) / "ansible"
        shutil.rmtree(private, ignore_errors=True)
        shutil.copytree(ctx.ws.build / self.dir / "ansible", private)
        inventory = ansible_inputs.inventory_file(
            ctx.spec, self.region, hosts=hosts, extra_vars=outputs.get("ansible_vars") or {}
        )
        write_atomic(private / ansible_inputs.INVENTORY, inventory)
        ansible = Ansible(
            private,
            step=f"{self.name} config",
            log_path=run_dir / f"{self.name}-config.log",
            env={"ANSIBLE_ROLES_PATH": str(ctx.assets / "ansible" / "roles")},
            on_line=lambda line: ctx.say(f"{self.name}: {line}"),
            cancel=ctx.cancel,
        )
        ansible.run(ctx.assets / SITE_PLAYBOOK)
        return {}


@kind("k8s-region")
class K8sRegion(Unit):
    is_region = True
    stage = "regions"

    def __init__(self, entry: dict[str, Any], ctx: Context) -> None:
        super().__init__(entry, ctx)
        self.region: Region = next(r for r in ctx.spec.regions if r.name == self.name)
        self.overlay = ctx.ws.build / self.dir / "k8s"
        self.monitoring_overlay = self.overlay / k8s_inputs.MONITORING_OVERLAY
        self.values = self.overlay / k8s_inputs.PROMETHEUS_VALUES

    def steps(self) -> list[Step]:
        build = self.ctx.ws.build
        steps = [Step("deploy", self._deploy, lambda: [self.overlay, build / "kubernetes"])]
        if self.ctx.spec.monitoring.prometheus:
            steps.append(
                Step(
                    "monitoring",
                    self._monitoring,
                    lambda: [self.monitoring_overlay, self.values,
                             build / k8s_inputs.MONITORING_BASE_DIR],
                    # the chart pin, release, namespace and context are in the command
                    pinned=lambda: self.manual_command(build=Path("build")),
                )
            )  # fmt: skip
        return steps

    def tools(self, command: str) -> set[str]:
        # helm is optional: without it the monitoring step leaves the chart to the operator.
        return {"kubectl"}

    def plan(self, run_dir: Path) -> list[StepResult]:
        started = self.ctx.begin(self.name, "deploy", "planning ...")
        # The overlay is built offline; server-side apply sends every object each time.
        kubectl = self._kubectl(run_dir, "deploy")
        count = len(kubectl.build(self.overlay))
        self.ctx.say(f"{self.name}: {count} Kubernetes objects to apply")
        plan = PlanSummary(change=count, modules={"kubernetes": [0, count, 0]})
        results = [
            StepResult(self.name, "deploy", "planned", self._elapsed(started), plan=asdict(plan))
        ]
        if self.ctx.spec.monitoring.prometheus:
            started = self.ctx.begin(self.name, "monitoring", "planning ...")
            objects = len(kubectl.build(self.monitoring_overlay))
            chart = k8s_inputs.PROMETHEUS_CHART
            modules = {f"{chart.name} {chart.version}": [0, 1, 0],
                       "kubernetes monitoring": [0, objects, 0]}  # fmt: skip
            note = None if self._helm_found() else self._without_helm()
            self.ctx.say(
                f"{self.name}: monitoring: {chart.name} {chart.version} and {objects} objects"
                + (f" ({note})" if note else "")
            )
            plan = PlanSummary(change=1 + objects, modules=modules)
            results.append(
                StepResult(self.name, "monitoring", "planned", self._elapsed(started),
                           plan=asdict(plan), note=note)
            )  # fmt: skip
        return results

    def destroy(self, run_dir: Path) -> list[StepResult]:
        results: list[StepResult] = []
        kubectl = self._kubectl(run_dir, "destroy")
        if self.ctx.spec.monitoring.prometheus:
            started = self.ctx.begin(self.name, "monitoring", "deleting ...")
            if set(k8s_inputs.OPERATOR_CRDS) <= kubectl.crds():
                kubectl.delete(self.monitoring_overlay)
            note = None
            if self._helm_found():
                chart = k8s_inputs.PROMETHEUS_CHART
                self._helm(run_dir, "destroy").uninstall(chart.release, namespace=self._namespace())
            else:
                note = f"helm is not on PATH: remove the chart with: {self.uninstall_command()}"
                self.ctx.say(f"{self.name}: [yellow]monitoring[/]: {note}")
            status = "destroyed" if note is None else "manual"
            results.append(
                StepResult(self.name, "monitoring", status, self._elapsed(started), note=note)
            )
        started = self.ctx.begin(self.name, "deploy", "deleting ...")
        kubectl.delete(self.overlay)
        self.forget()
        self.ctx.say(f"{self.name}: [green]deleted[/]")
        results.append(StepResult(self.name, "deploy", "destroyed", self._elapsed(started)))
        return results

    def _deploy(self, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        self._kubectl(run_dir, "deploy").apply(self.overlay)
        return {}

    def _monitoring(self, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        """The operator chart with the rendered values, then the ServiceMonitor and rules.

        Without helm: the objects are applied if the cluster has the operator's CRDs (someone
        installed the chart), and the step is left to the operator with the one command that
        does it all (docs/kubernetes.md, "Monitoring on Kubernetes regions")."""
        chart = k8s_inputs.PROMETHEUS_CHART
        kubectl = self._kubectl(run_dir, "monitoring", "monitoring")
        if self._helm_found():
            self._helm(run_dir, "monitoring").upgrade_install(
                chart.release, chart.name, repo=chart.repo, version=chart.version,
                namespace=self._namespace(), values=self.values,
            )  # fmt: skip
            kubectl.apply(self.monitoring_overlay)
            return {"chart": f"{chart.name} {chart.version}"}
        try:
            crds = kubectl.crds()
        except ToolFailed as exc:  # say, no right to list CRDs: still not worth failing for
            said = (exc.tail.strip().splitlines() or ["no output"])[-1]
            raise LeftToOperator(
                f"helm is not on PATH and `kubectl get crd` failed ({said}), so nothing was "
                "applied; install the chart and the ServiceMonitor and PrometheusRule with: "
                f"{self.manual_command()}"
            ) from None
        missing = sorted(set(k8s_inputs.OPERATOR_CRDS) - crds)
        if missing:
            raise LeftToOperator(
                f"helm is not on PATH and the cluster lacks the Prometheus Operator's CRDs "
                f"({', '.join(missing)}), so nothing was applied; install the chart and the "
                f"ServiceMonitor and PrometheusRule with: {self.manual_command()}"
            )
        kubectl.apply(self.monitoring_overlay)
        raise LeftToOperator(
            "helm is not on PATH: the ServiceMonitor and PrometheusRule were applied (the "
            "operator's CRDs are installed), the chart was not installed or upgraded; do it "
            f"with: {self.manual_command()}"
        )

    def _without_helm(self) -> str:
        return (
            "helm is not on PATH: apply will leave the chart to the operator; install it and "
            f"the ServiceMonitor and PrometheusRule with: {self.manual_command()}"
        )

    def manual_command(self, build: Path | None = None) -> str:
        """The one line an operator runs where helm is: the chart with the rendered values,
        then the monitoring overlay. ``build`` replaces the rendered tree's location (docs)."""
        chart = k8s_inputs.PROMETHEUS_CHART
        overlay, values = self.monitoring_overlay, self.values
        if build is not None:
            overlay = build / overlay.relative_to(self.ctx.ws.build)
            values = build / values.relative_to(self.ctx.ws.build)
        context = self._context()
        helm = helm_runner.upgrade_install_args(
            chart.release, chart.name, repo=chart.repo, version=chart.version,
            namespace=self._namespace(), values=values, context=context,
        )  # fmt: skip
        kubectl = kubectl_runner.apply_args(overlay, context)
        return f"{shlex.join(['helm', *helm])} && {shlex.join(['kubectl', *kubectl])}"

    def uninstall_command(self) -> str:
        release = k8s_inputs.PROMETHEUS_CHART.release
        args = helm_runner.uninstall_args(
            release, namespace=self._namespace(), context=self._context()
        )
        return shlex.join(["helm", *args])

    def _namespace(self) -> str:
        return self.region.k8s.monitoring_namespace

    def _context(self) -> str | None:
        kubernetes = self.region.kubernetes
        return kubernetes.context if kubernetes else None

    @staticmethod
    def _helm_found() -> bool:
        return shutil.which(Helm.tool) is not None

    def _kubectl(self, run_dir: Path, log: str, step: str = "deploy") -> Kubectl:
        return Kubectl(
            context=self._context(),
            step=f"{self.name} {step}",
            log_path=run_dir / f"{self.name}-{log}.log",
            env=self.ctx.env(),
            on_line=None,
        )

    def _helm(self, run_dir: Path, log: str) -> Helm:
        return Helm(
            context=self._context(),
            step=f"{self.name} monitoring",
            log_path=run_dir / f"{self.name}-{log}.log",
            env=self.ctx.env(),
            on_line=None,
        )


@kind("monitoring")
class MonitoringHost(TerraformUnit):
    """A region's private monitoring host (docs/monitoring.md): its Terraform joins the
    region's network (the region stack's recorded ``monitoring_network`` output) and opens the
    nodes' firewall to it, so it runs after its region and is destroyed before it; its config
    step runs the icon_monitoring role through the cloud's session tooling (SSM, IAP)."""

    stage = "monitoring"

    def __init__(self, entry: dict[str, Any], ctx: Context) -> None:
        super().__init__(entry, ctx)
        self.region_name: str = entry["region"]
        self.cloud: str = entry["cloud"]
        self.is_global: bool = bool(entry.get("global"))
        self._resolved: dict[str, str] | None = None  # the secrets, once resolved

    def steps(self) -> list[Step]:
        build, assets = self.ctx.ws.build, self.ctx.assets
        steps = [self._stack_step(self.infra(), self._apply_infra)]
        if self.ctx.configure:
            steps.append(
                Step("config", self._config, lambda: [build / self.dir / "ansible",
                                                      build / self.dir / "files",
                                                      assets / "ansible"],
                     pinned=self._secrets_digest)
            )  # fmt: skip
        return steps

    def _secrets_digest(self) -> str:
        """A rotated alert-receiver or Elasticsearch secret re-runs the config step: the
        fingerprint covers a keyed digest of the resolved values (never the values)."""
        values = self._secret_env()
        if not values:
            return ""
        return self.ctx.ws.keyed_digest([f"{k}={v}" for k, v in sorted(values.items())])

    def tools(self, command: str) -> set[str]:
        tools = {"terraform"}
        if command == "apply" and self.ctx.configure:
            tools |= {"ansible-playbook"} | SESSION_TOOLS.get(self.cloud, set())
        return tools

    def clouds(self) -> set[str]:
        return super().clouds() | {self.cloud}

    def secrets(self, command: str = "apply") -> list[tuple[str, str]]:
        """Only the config step of the global region's host reads secrets (the alert
        receivers' and, with logging, Elasticsearch's)."""
        if command != "apply" or not self.ctx.configure or not self.is_global:
            return []
        from iconctl.preflight import secret_fields

        return [(f, ref) for f, ref in secret_fields(self.ctx.spec) if f in MONITORING_SECRETS]

    def runtime_inputs(self) -> dict[str, Any]:
        """The region's network, as the region's infra step recorded it."""
        progress = self.ctx.ws.progress()
        outputs = progress.get(f"{self.region_name}/infra", {}).get("outputs", {})
        network = (outputs.get("terraform_outputs") or {}).get("monitoring_network")
        return {"region_network": network} if isinstance(network, dict) else {}

    def plan(self, run_dir: Path) -> list[StepResult]:
        if self.ctx.state_bucket_pending:
            return [self._deferred("planned once apply has created the state bucket")]
        runtime = self.known_outputs()
        if "region_network" not in runtime:
            return [self._deferred(f"planned once apply has created {self.region_name}'s network")]
        result, _ = self._plan_stack(self.infra(), run_dir, runtime)
        return [result]

    def destroy(self, run_dir: Path) -> list[StepResult]:
        runtime = self.known_outputs()
        if "region_network" not in runtime:
            # Its stack needs the region's network; without a record of the region's, the
            # host was never applied from here.
            self.ctx.say(f"{self.name}: no recorded network of {self.region_name}, nothing to do")
            self.forget()
            return [StepResult(self.name, "infra", "skipped")]
        started = self.ctx.begin(self.name, "infra", "destroying ...")
        self._destroy_stack(run_dir, runtime)
        return self._destroyed(started)

    def _apply_infra(self, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        if "region_network" not in runtime:
            raise IconctlError(
                f"{self.name} infra: {self.region_name} recorded no monitoring_network output "
                "(apply the region first)",
                exit_code=ExitCode.TOOL_FAILED,
            )
        return super()._apply_infra(run_dir, runtime)

    def _config(self, run_dir: Path, runtime: dict[str, Any]) -> dict[str, Any]:
        ctx = self.ctx
        outputs = runtime.get("terraform_outputs") or {}
        hosts = outputs.get("ansible_hosts") or {}
        if not isinstance(hosts, dict) or not any(hosts.values()):
            raise IconctlError(
                f"{self.name} config: stack {self.stack} reported no monitoring host",
                exit_code=ExitCode.TOOL_FAILED,
            )
        work = ctx.ws.unit_dir(self.name)
        private, files = work / "ansible", work / "files"
        for target, source in ((private, "ansible"), (files, "files")):
            shutil.rmtree(target, ignore_errors=True)
            rendered = ctx.ws.build / self.dir / source
            if rendered.is_dir():
                shutil.copytree(rendered, target)
            else:
                target.mkdir(parents=True)
        region = next(r for r in ctx.spec.regions if r.name == self.region_name)
        inventory = ansible_inputs.inventory_file(
            ctx.spec, region, hosts=hosts, extra_vars=outputs.get("ansible_vars") or {},
            groups=ansible_inputs.MONITORING_GROUPS,
        )  # fmt: skip
        write_atomic(private / ansible_inputs.INVENTORY, inventory)
        extravars = ansible_inputs.monitoring_extravars(ctx.spec, region)
        extravars["icon_monitoring_files_dir"] = str(files.absolute())
        write_atomic(private / "env" / "extravars", ansible_inputs.to_yaml(extravars))
        ansible = Ansible(
            private,
            step=f"{self.name} config",
            log_path=run_dir / f"{self.name}-config.log",
            env={"ANSIBLE_ROLES_PATH": str(ctx.assets / "ansible" / "roles"), **self._secret_env()},
            on_line=lambda line: ctx.say(f"{self.name}: {line}"),
            cancel=ctx.cancel,
        )
        ansible.run(ctx.assets / MONITORING_PLAYBOOK)
        return {}

    def _secret_env(self) -> dict[str, str]:
        """The role's secrets, resolved from the spec's references into the environment of
        ansible-runner only (never a file on the controller); once per run (the fingerprint
        and the step both need them), kept in memory only."""
        from iconctl.secrets import resolve

        if self._resolved is None:
            self._resolved = {
                MONITORING_SECRETS[field]: resolve(ref, field=field)
                for field, ref in self.secrets("apply")
            }
        return self._resolved


class Retiring(Unit):
    """A monitoring host the spec no longer deploys (monitoring.prometheus turned off) while
    its region stays: ``plan`` plans its removal, ``apply`` and ``destroy`` destroy it, before
    the regions run (its stack reads the region's recorded network, and removes the rules it
    added to the nodes' firewall before the region's apply closes the metrics ports).
    ``inner`` is the host's own unit, built from the monitoring settings the spec still
    carries (docs/orchestration.md)."""

    kind = "retiring"
    stage = "retiring"

    def __init__(self, inner: MonitoringHost, why: str) -> None:
        self.inner = inner
        self.name, self.stack, self.dir, self.ctx = inner.name, inner.stack, inner.dir, inner.ctx
        self.region_name = inner.region_name
        self.why = why

    def steps(self) -> list[Step]:
        return []  # nothing of it is applied any more

    def tools(self, command: str) -> set[str]:
        return {"terraform"}

    def clouds(self) -> set[str]:
        return self.inner.clouds()

    def plan(self, run_dir: Path) -> list[StepResult]:
        if self.ctx.state_bucket_pending:
            return [self.inner._deferred("planned once apply has created the state bucket")]
        runtime = self.inner.known_outputs()
        if "region_network" not in runtime:
            self.ctx.say(f"{self.name}: no recorded network of {self.region_name}, nothing to do")
            return [StepResult(self.name, "infra", "skipped", note="nothing recorded to remove")]
        result, _ = self.inner._plan_stack(self.inner.infra(), run_dir, runtime, destroy=True)
        return [result]

    def todo(self) -> str:
        return f"destroy ({self.why})"

    def apply(self, run_dir: Path) -> list[StepResult]:
        return self.inner.destroy(run_dir)

    def destroy(self, run_dir: Path) -> list[StepResult]:
        return self.inner.destroy(run_dir)


@kind("global")
class GlobalLayer(TerraformUnit):
    def infra(self) -> Stack:
        ws = self.ctx.ws
        return Stack(
            self.stack, f"{self.dir}/terraform", self.name, ws.unit_dir(self.name), "infra",
            cloudflare=True,
        )  # fmt: skip

    def secrets(self, command: str = "apply") -> list[tuple[str, str]]:
        geo = self.ctx.spec.geo
        return [("geo.api_token", geo.api_token)] if geo else []

    def runtime_inputs(self) -> dict[str, Any]:
        """The DNS records of region hostnames their own cloud does not publish (a GCP
        region's `region_record`, an A record to its load balancer), keyed by hostname."""
        progress = self.ctx.ws.progress()
        records: dict[str, Any] = {}
        for region in (u for u in self.ctx.units if u.is_region):
            outputs = progress.get(f"{region.name}/infra", {}).get("outputs", {})
            reported = outputs.get("terraform_outputs") or {}
            record, hostname = reported.get("region_record"), reported.get("hostname")
            if isinstance(record, dict) and isinstance(hostname, str) and hostname:
                records[hostname] = record
        return {"region_records": records}


def _state_cloud(backend: str) -> str:
    return "aws" if backend == "s3" else "gcp"


def _describe(summary: PlanSummary) -> str:
    if not summary.changes:
        return "no changes"
    return f"{summary.add} to add, {summary.change} to change, {summary.destroy} to destroy"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
