"""The Pipeline: preflight, then the units in dependency order, each planned, applied or
destroyed by its own class (units.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from iconctl import process
from iconctl.errors import IconctlError, InputError
from iconctl.files import write_atomic
from iconctl.pipeline.results import Report, StepResult
from iconctl.pipeline.units import (
    MonitoringHost,
    Retiring,
    StateBackend,
    Unit,
    unit_from_deployment,
)
from iconctl.pipeline.workspace import Context, Workspace
from iconctl.render import render
from iconctl.render.terraform import deployment
from iconctl.spec import Spec

# build/ folder of the rendered inputs of monitoring hosts being removed
RETIRING_DIR = "retiring"


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
    ) -> None:
        """configure=False leaves out the config steps (a rehearsal on a local AWS API, where
        no VM stands behind the instances Terraform creates)."""
        self.spec = spec
        self.ws = Workspace(spec_path)
        self.say = say
        self.ctx = Context(spec, self.ws, say=say, configure=configure, base_env=env)
        wanted = list(regions)
        known = [r.name for r in spec.regions]
        unknown = [r for r in wanted if r not in known]
        if unknown:
            raise InputError(
                f"--region {', '.join(unknown)}: not in the spec (regions: {', '.join(known)})"
            )
        units = [unit_from_deployment(entry, self.ctx) for entry in deployment(spec)["units"]]
        left_behind = self._left_behind({u.name for u in units})
        retiring, inputs = self._retiring(left_behind)
        # Monitoring hosts being removed go right after the state backend, before any region
        # changes (apply), and first of all (destroy).
        backend = [u for u in units if isinstance(u, StateBackend)]
        units = backend + retiring + [u for u in units if u not in backend]
        if wanted:  # a region filter limits the run to those regions (and their monitoring
            # hosts), nothing global
            units = [u for u in units if u.name in wanted or _monitors(u) in wanted]
        # what this run leaves alone is named (a host being removed by another region's run
        # included)
        running = {u.name for u in units}
        self.left_behind = [n for n in left_behind if n not in running]
        self.units: list[Unit] = units
        self.ctx.units = units
        render(spec, self.ws.build)
        for path, content in inputs.items():  # after the render, which replaces build/
            write_atomic(self.ws.build / path, content)

    # -- the three commands -------------------------------------------------------------

    def plan(self) -> Report:
        self._preflight("plan")
        report = self._new_report("plan")
        self._in_order(report, lambda unit, run_dir: unit.plan(run_dir))
        return report

    def apply(self, confirm: Callable[[list[str]], bool]) -> Report:
        self._preflight("apply")
        todo = [f"{u.name}: {u.todo()}" for u in self.units]
        if not confirm(todo):
            return Report("apply", None, cancelled=True)
        report = self._new_report("apply")
        self._in_order(report, lambda unit, run_dir: unit.apply(run_dir))
        return report

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
        self._in_order(report, lambda unit, run_dir: unit.destroy(run_dir), self.order("destroy"))
        return report

    def order(self, command: str) -> list[Unit]:
        """The units in the order ``command`` runs them: destroy reverses plan's and apply's,
        except that monitoring hosts being removed go first either way."""
        if command != "destroy":
            return self.units
        retiring = [u for u in self.units if isinstance(u, Retiring)]
        return retiring + [u for u in self.units if u not in retiring][::-1]

    def _new_report(self, command: str) -> Report:
        """A run folder for this invocation, named before anything runs."""
        run_dir = self.ws.new_run(command)
        self.say(f"run folder: {run_dir}")
        for name in self.left_behind:
            self.say(
                f"[yellow]warning:[/] {name} was applied (.iconctl/progress.json) but the spec "
                "no longer deploys it: its resources still exist and this run leaves them "
                'alone; docs/orchestration.md, "Units the spec no longer has", says how to '
                "remove them"
            )
        return Report(command, run_dir)

    def _left_behind(self, names: set[str]) -> list[str]:
        """Units whose steps progress.json records as done but the deployment no longer
        has (a removed region, monitoring turned off)."""
        recorded = {key.split("/", 1)[0] for key in self.ws.progress() if "/" in key}
        return sorted(recorded - names)

    def _retiring(self, left_behind: list[str]) -> tuple[list[Unit], dict[str, str]]:
        """The monitoring hosts applied before monitoring.prometheus was turned off, whose
        regions the spec still has: their units (to remove them) and their rendered inputs
        (build-relative path -> content), from the monitoring settings the spec still
        carries. A removed region's units stay left behind (docs/orchestration.md)."""
        from iconctl.render import terraform as tf_inputs

        units: list[Unit] = []
        inputs: dict[str, str] = {}
        if self.spec.protect:  # protect: true guards every teardown, this one too
            return units, inputs
        for region in tf_inputs.monitorable_regions(self.spec):
            if tf_inputs.monitoring_unit(region) not in left_behind:
                continue
            where = f"{RETIRING_DIR}/{region.name}/{tf_inputs.MONITORING_DIR}"
            entry = tf_inputs.monitoring_entry(self.spec, region, inputs_dir=where)
            host = unit_from_deployment(entry, self.ctx)
            assert isinstance(host, MonitoringHost)
            units.append(Retiring(host, "monitoring.prometheus is off"))
            for name, content in tf_inputs.monitoring_inputs(self.spec, region).items():
                inputs[f"{where}/terraform/{name}"] = content
        return units, inputs

    def _preflight(self, command: str) -> None:
        """Preflight, before anything runs: the tools the run's steps need, the clouds'
        credentials, and the secret references the run uses (docs/orchestration.md)."""
        from iconctl import preflight

        tools: set[str] = set()
        clouds: set[str] = set()
        secrets: dict[tuple[str, str], None] = {}
        for unit in self.units:
            tools |= unit.tools(command)
            clouds |= unit.clouds()
            secrets.update(dict.fromkeys(unit.secrets(command)))
        env = self.ctx.env()
        preflight.check_tools(tools, env)
        preflight.check_secrets(list(secrets))
        preflight.check_credentials(clouds, env)

    # -- ordering: state backend, regions in parallel, their monitoring hosts in parallel,
    # then global (reverse for destroy) ------------------------------------------------------

    def _in_order(
        self,
        report: Report,
        work: Callable[[Unit, Path], list[StepResult]],
        units: list[Unit] | None = None,
    ) -> None:
        assert report.run_dir is not None
        units = self.units if units is None else units
        stages: list[list[Unit]] = []
        for unit in units:
            if stages and unit.stage and stages[-1][0].stage == unit.stage:
                stages[-1].append(unit)
            else:
                stages.append([unit])
        for stage in stages:
            pool = ThreadPoolExecutor(max_workers=len(stage))
            try:
                futures = [pool.submit(self._guarded, unit, work, report.run_dir) for unit in stage]
                for future in futures:
                    report.steps.extend(future.result())
            except KeyboardInterrupt:
                # Workers' children run in their own sessions: stop them, then the threads.
                self.ctx.cancel.set()
                process.stop_all()
                pool.shutdown(wait=True, cancel_futures=True)
                report.steps.append(StepResult("-", "-", "interrupted"))
                raise
            pool.shutdown(wait=True)
            if not report.ok:
                break

    def _guarded(
        self, unit: Unit, work: Callable[[Unit, Path], list[StepResult]], run_dir: Path
    ) -> list[StepResult]:
        """Run a unit's work; a failure becomes the failed step's result (said in one short
        line here, its error printed once at the end of the run)."""
        started = time.monotonic()
        try:
            return work(unit, run_dir)
        except IconctlError as exc:
            step, since = self.ctx.current.get(unit.name, ("-", started))
            elapsed = time.monotonic() - since
            self.say(f"{unit.name}: [red]{step} failed[/] after {elapsed:.1f}s")
            return [
                StepResult(
                    unit.name, step, "failed", elapsed,
                    error=exc.message, exit_code=int(exc.exit_code),
                )
            ]  # fmt: skip


def _monitors(unit: Unit) -> str | None:
    """The region a monitoring unit watches (None for every other kind)."""
    region = getattr(unit, "region_name", None)
    return region if isinstance(region, str) else None
