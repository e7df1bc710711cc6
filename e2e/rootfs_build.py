"""Build an image from one of the project's Dockerfiles without the engine's builder.

On a copying storage driver (vfs, the only one a Docker engine without privileges gets) the
engine copies the whole image for every Dockerfile instruction; a cold build of the stack's
images took 20 minutes here. This makes the same image the Dockerfile describes in one
`docker import`: the base image's root filesystem (a tarball, e2e/base-image.sh makes it
with debootstrap) is unpacked, the stage's COPY and RUN instructions are applied to it in a
chroot (RUN through `/bin/sh -c`, its own mount namespace with /proc and /dev, this host's
network), and the stage's metadata (ENV, USER, ENTRYPOINT, CMD, WORKDIR, STOPSIGNAL,
LABEL, EXPOSE) becomes `docker import --change` instructions. The Dockerfile stays the one
description of the image: an instruction this cannot honour is an error, never skipped.

    e2e/rootfs_build.py --rootfs TARBALL --base-image IMAGE \\
        -f FILE [--target STAGE] [--build-arg NAME=VALUE]... -t TAG [-t TAG]... CONTEXT

Needs root (chroot, mounts). A build whose inputs (base tarball, Dockerfile, target,
arguments, context files) are unchanged since the last one is skipped while the engine still
holds the image it made (one state file per tag in --state, default .cache/e2e/rootfs-images/,
so builds of different images may run at once).
Exit codes: 0 built or up to date, 2 bad arguments or an unsupported Dockerfile, 5 a step failed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Instructions that only set the image's configuration: passed to `docker import --change`.
METADATA = {"ENV", "USER", "ENTRYPOINT", "CMD", "WORKDIR", "STOPSIGNAL", "LABEL", "EXPOSE"}
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class BuildError(Exception):
    def __init__(self, message: str, exit_code: int = 5) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Stage:
    name: str
    base: str  # an earlier stage's name, or an image reference
    steps: list[tuple[str, str]] = field(default_factory=list)  # (INSTRUCTION, arguments)


def _logical_lines(text: str) -> list[str]:
    """Dockerfile lines with continuations joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    if pending.strip():
        lines.append(pending.strip())
    return lines


def _substitute(text: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return values.get(name, "")

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", one, text)


def parse(text: str, build_args: dict[str, str]) -> tuple[dict[str, str], list[Stage]]:
    """The global ARGs (with their values) and the stages of a Dockerfile."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in _logical_lines(text):
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        rest = rest.strip()
        if instruction == "FROM":
            words = rest.split()
            if len(words) not in (1, 3) or (len(words) == 3 and words[1].upper() != "AS"):
                raise BuildError(f"unsupported FROM: {rest}", 2)
            base = _substitute(words[0], {**global_args, **build_args})
            name = words[2] if len(words) == 3 else f"stage-{len(stages)}"
            stages.append(Stage(name=name, base=base))
        elif not stages:
            if instruction != "ARG":
                raise BuildError(f"{instruction} before FROM", 2)
            arg, _, default = rest.partition("=")
            global_args[arg] = build_args.get(arg, default)
        elif instruction == "ARG" or instruction in METADATA or instruction in ("COPY", "RUN"):
            stages[-1].steps.append((instruction, rest))
        else:
            raise BuildError(f"{instruction} is not supported by the rootfs build", 2)
    if not stages:
        raise BuildError("no FROM in the Dockerfile", 2)
    return global_args, stages


@dataclass
class Config:
    """The image configuration the stage's instructions add up to."""

    env: dict[str, str] = field(default_factory=dict)
    user: str = ""
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    workdir: str = ""
    stopsignal: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    expose: list[str] = field(default_factory=list)

    def changes(self) -> list[str]:
        """As `docker import --change` instructions (JSON forms, so nothing is re-split)."""
        out = [f"ENV {k}={json.dumps(v)}" for k, v in self.env.items()]
        if self.user:
            out.append(f"USER {self.user}")
        if self.workdir:
            out.append(f"WORKDIR {self.workdir}")
        if self.entrypoint is not None:
            out.append(f"ENTRYPOINT {json.dumps(self.entrypoint)}")
        if self.cmd is not None:
            out.append(f"CMD {json.dumps(self.cmd)}")
        out += [f"LABEL {k}={json.dumps(v)}" for k, v in self.labels.items()]
        out += [f"EXPOSE {port}" for port in self.expose]
        return out


def _exec_form(rest: str) -> list[str]:
    if rest.startswith("["):
        value = json.loads(rest)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BuildError(f"not a JSON list of strings: {rest}", 2)
        return value
    return ["/bin/sh", "-c", rest]


def _pairs(rest: str) -> dict[str, str]:
    words = shlex.split(rest)
    if len(words) >= 2 and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}  # ENV NAME value (legacy form)
    pairs = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            raise BuildError(f"expected NAME=VALUE: {rest}", 2)
        pairs[key] = value
    return pairs


def apply_metadata(config: Config, instruction: str, rest: str, values: dict[str, str]) -> None:
    """One metadata instruction, as the engine's builder applies it."""
    if instruction == "ENV":
        for key, value in _pairs(rest).items():
            config.env[key] = _substitute(value, {**values, **config.env})
    elif instruction == "USER":
        config.user = _substitute(rest, values)
    elif instruction == "ENTRYPOINT":
        # `ENTRYPOINT []` clears it: stored as none, as the engine's builder stores it
        config.entrypoint = _exec_form(rest) or None
        config.cmd = None  # the builder drops an inherited CMD when ENTRYPOINT is set
    elif instruction == "CMD":
        config.cmd = _exec_form(rest)
    elif instruction == "WORKDIR":
        config.workdir = _substitute(rest, values)
    elif instruction == "STOPSIGNAL":
        config.stopsignal = rest
    elif instruction == "LABEL":
        config.labels.update(_pairs(rest))
    elif instruction == "EXPOSE":
        config.expose += rest.split()


def base_config(docker: str, image: str) -> Config:
    """The base image's configuration, read from the engine as the builder's FROM reads it."""
    probe = subprocess.run(
        [docker, "image", "inspect", "--format", "{{json .Config}}", image],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        raise BuildError(f"base image {image}: {probe.stderr.strip()[-200:]}")
    raw = json.loads(probe.stdout)
    env = dict(item.partition("=")[::2] for item in raw.get("Env") or [])
    return Config(
        env=env,
        user=raw.get("User") or "",
        entrypoint=raw.get("Entrypoint") or None,
        cmd=raw.get("Cmd") or None,
        workdir=raw.get("WorkingDir") or "",
        stopsignal=raw.get("StopSignal") or "",
        labels=dict(raw.get("Labels") or {}),
        expose=sorted(raw.get("ExposedPorts") or {}),
    )


def resolve(stages: list[Stage], target: str | None) -> tuple[list[tuple[str, str]], str]:
    """Every step from the external base image to the target stage, and that base image."""
    by_name = {stage.name: stage for stage in stages}
    stage = by_name.get(target) if target else stages[-1]
    if stage is None:
        raise BuildError(f"no stage {target!r} in the Dockerfile", 2)
    chain = [stage]
    while chain[-1].base in by_name:
        chain.append(by_name[chain[-1].base])
    steps = [step for s in reversed(chain) for step in s.steps]
    return steps, chain[-1].base


# the build ---------------------------------------------------------------------------------------
def _run_in_chroot(root: Path, command: list[str], env: dict[str, str]) -> None:
    """RUN: in a mount namespace of its own, so /proc and /dev never outlive the step."""
    resolv = root / "etc" / "resolv.conf"
    saved = resolv.read_bytes() if resolv.is_file() and not resolv.is_symlink() else None
    if resolv.is_symlink():
        resolv.unlink()
    shutil.copyfile("/etc/resolv.conf", resolv)  # this host's network, as `--network host`
    setup = (
        'mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" && '
        'shift && exec chroot "$0" /usr/bin/env -i "$@"'
    )
    argv = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        setup,
        str(root),
        str(root),
        *[f"{k}={v}" for k, v in env.items()],
        *command,
    ]
    try:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, check=False)
    finally:
        if saved is not None:
            resolv.write_bytes(saved)
        else:
            resolv.unlink(missing_ok=True)
    if result.returncode != 0:
        raise BuildError(f"RUN exited {result.returncode}: {shlex.join(command)[:200]}")


def _copy(root: Path, context: Path, rest: str, values: dict[str, str]) -> None:
    words = [_substitute(w, values) for w in rest.split()]
    if any(w.startswith("--") for w in words) or len(words) < 2:
        raise BuildError(f"unsupported COPY: {rest}", 2)
    *sources, dest = words
    target = root / dest.lstrip("/")
    for source in sources:
        path = (context / source).resolve()
        if context.resolve() not in (path, *path.parents):
            raise BuildError(f"COPY {source}: outside the build context", 2)
        if path.is_dir():
            shutil.copytree(path, target, symlinks=True, dirs_exist_ok=True)
        else:
            into = target / path.name if dest.endswith("/") or target.is_dir() else target
            into.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, into)


def build_rootfs(
    rootfs: Path,
    steps: list[tuple[str, str]],
    context: Path,
    values: dict[str, str],
    config: Config,
    work: Path,
) -> Path:
    """Unpack the base, apply the file-system steps and the metadata; return the root."""
    root = work / "root"
    root.mkdir(mode=0o755)
    subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-xf", str(rootfs)], check=True)
    args = dict(values)
    for instruction, rest in steps:
        if instruction == "ARG":
            name, _, default = rest.partition("=")
            args[name] = values.get(name, _substitute(default, args))
        elif instruction == "COPY":
            _copy(root, context, rest, args)
        elif instruction == "RUN":
            if config.user not in ("", "root", "0"):
                raise BuildError(f"RUN as USER {config.user} is not supported", 2)
            env = {"PATH": DEFAULT_PATH, "HOME": "/root", **config.env, **args}
            _run_in_chroot(root, _exec_form(rest), env)
        else:
            apply_metadata(config, instruction, rest, args)
    return root


def _fingerprint(paths: list[Path], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for top in paths:
        files = sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [top]
        for path in files:
            digest.update(str(path.relative_to(top.parent)).encode() + b"\0")
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def _image_id(docker: str, tag: str) -> str:
    probe = subprocess.run(
        [docker, "image", "inspect", "--format", "{{.Id}}", tag],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.stdout.strip() if probe.returncode == 0 else ""


def _import(docker: str, root: Path, config: Config, tag: str) -> None:
    """One `docker import`; STOPSIGNAL, which import cannot set, by a one-line build on it."""
    imported_as = f"{tag}-rootfs" if config.stopsignal else tag
    tar = subprocess.Popen(
        ["tar", "--numeric-owner", "-C", str(root), "-cf", "-", "."], stdout=subprocess.PIPE
    )
    change_args = [arg for change in config.changes() for arg in ("--change", change)]
    imported = subprocess.run(
        [docker, "import", *change_args, "-", imported_as],
        stdin=tar.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tar.stdout is not None
    tar.stdout.close()
    if tar.wait() != 0 or imported.returncode != 0:
        raise BuildError(f"docker import {tag}: {imported.stderr.strip()[-300:]}")
    if config.stopsignal:
        # a metadata-only instruction: one commit, no RUN, no build context
        built = subprocess.run(
            [docker, "build", "--quiet", "-t", tag, "-"],
            input=f"FROM {imported_as}\nSTOPSIGNAL {config.stopsignal}\n",
            capture_output=True,
            text=True,
            check=False,
        )
        if built.returncode != 0:
            raise BuildError(f"docker build {tag} (STOPSIGNAL): {built.stderr.strip()[-300:]}")


def _state_file(state_dir: Path, tag: str) -> Path:
    return state_dir / (re.sub(r"[^A-Za-z0-9_.-]+", "_", tag) + ".json")


def _read_state(state_dir: Path, tag: str) -> dict[str, str]:
    path = _state_file(state_dir, tag)
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(state_dir: Path, tag: str, state: dict[str, str]) -> None:
    path = _state_file(state_dir, tag)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    tmp.replace(path)


def build(
    *,
    docker: str,
    rootfs: Path,
    base_image: str,
    dockerfile: Path,
    targets: list[tuple[str | None, str]],
    build_args: dict[str, str],
    context: Path,
    state_dir: Path,
) -> None:
    """Build every (target, tag); targets whose file-system steps agree share one root."""
    text = dockerfile.read_text()
    global_args, stages = parse(text, build_args)
    values = {**global_args, **build_args}
    state_dir.mkdir(parents=True, exist_ok=True)
    rootfs_key = _fingerprint([rootfs], "")
    base = base_config(docker, base_image)
    with tempfile.TemporaryDirectory(prefix="rootfs-build-", dir=state_dir) as work:
        roots: dict[str, tuple[Path, Config]] = {}
        for target, tag in targets:
            steps, _base = resolve(stages, target)
            # what the image is made of: the base, the steps, and the files the steps copy
            copied = [
                context / _substitute(word, values)
                for instruction, rest in steps
                if instruction == "COPY"
                for word in rest.split()[:-1]
            ]
            inputs = [rootfs_key, base.changes(), steps, sorted(values.items())]
            key = _fingerprint(copied, json.dumps(inputs))
            known = _read_state(state_dir, tag)
            if known.get("key") == key and known.get("id") == _image_id(docker, tag):
                print(f"{tag} up to date", file=sys.stderr)
                continue
            fs_steps = [s for s in steps if s[0] in ("ARG", "COPY", "RUN")]
            fs_key = hashlib.sha256(json.dumps(fs_steps).encode()).hexdigest()
            if fs_key in roots:
                root = roots[fs_key][0]
                config = base_config(docker, base_image)
                for instruction, rest in steps:
                    if instruction in METADATA:
                        apply_metadata(config, instruction, rest, values)
            else:
                config = base_config(docker, base_image)
                stage_dir = Path(work) / str(len(roots))
                stage_dir.mkdir()
                t0 = time.monotonic()
                root = build_rootfs(rootfs, steps, context, values, config, stage_dir)
                roots[fs_key] = (root, config)
                print(f"{tag}: root built in {time.monotonic() - t0:.0f} s", file=sys.stderr)
            t0 = time.monotonic()
            _import(docker, root, config, tag)
            print(f"{tag}: imported in {time.monotonic() - t0:.0f} s", file=sys.stderr)
            _write_state(state_dir, tag, {"key": key, "id": _image_id(docker, tag)})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rootfs", type=Path, required=True, help="base root filesystem tarball")
    parser.add_argument(
        "--base-image",
        required=True,
        help="the image imported from --rootfs: its configuration is the FROM's",
    )
    parser.add_argument("-f", "--file", type=Path, required=True, help="the Dockerfile")
    parser.add_argument(
        "-t",
        "--tag",
        action="append",
        required=True,
        help="TAG (the last stage) or STAGE=TAG; repeatable",
    )
    parser.add_argument("--build-arg", action="append", default=[], help="NAME=VALUE")
    parser.add_argument("--state", type=Path, default=ROOT / ".cache" / "e2e" / "rootfs-images")
    parser.add_argument("context", type=Path)
    options = parser.parse_args(argv)
    try:
        build_args = {}
        for item in options.build_arg:
            name, sep, value = item.partition("=")
            if not sep:
                raise BuildError(f"--build-arg {item}: expected NAME=VALUE", 2)
            build_args[name] = value
        targets: list[tuple[str | None, str]] = []
        for item in options.tag:
            stage, sep, tag = item.partition("=")
            targets.append((stage, tag) if sep else (None, item))
        build(
            docker=os.environ.get("DOCKER", "docker"),
            rootfs=options.rootfs,
            base_image=options.base_image,
            dockerfile=options.file,
            targets=targets,
            build_args=build_args,
            context=options.context,
            state_dir=options.state,
        )
    except BuildError as exc:
        print(f"rootfs-build: {options.file.name}: {exc}", file=sys.stderr)
        return exc.exit_code
    except (OSError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"rootfs-build: {options.file.name}: {exc}", file=sys.stderr)
        return 5
    for _stage, tag in targets:
        print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
