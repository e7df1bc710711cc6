"""Checks that run before plan, apply or destroy start anything: the tools the run's units
need (and their versions), the clouds' credentials, and the secret references the run uses.

Each failure is one line with the contract's exit code (4 for a missing or too old tool, 3 for
missing credentials or an unresolvable secret), and no Terraform process has started yet.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iconctl import process
from iconctl.errors import InputError, ToolNotFound
from iconctl.spec import Spec

# The oldest version of each tool the infrastructure code works with: Terraform for S3
# lock files (use_lockfile) and the stacks' required_version, Packer for HCL2 templates,
# ansible-core for the roles' modules.
MINIMUM = {"terraform": (1, 10), "packer": (1, 6), "ansible-playbook": (2, 15), "kubectl": (1, 27)}
_VERSION_ARGS = {
    "terraform": ["version", "-json"],
    "packer": ["version"],
    "ansible-playbook": ["--version"],
    "kubectl": ["version", "--client", "-o", "json"],
}


@dataclass(frozen=True)
class Needs:
    """What one run needs, derived from its units and steps."""

    tools: frozenset[str]
    clouds: frozenset[str]
    secrets: tuple[tuple[str, str], ...]  # (spec field, reference)


def secret_fields(spec: Spec) -> list[tuple[str, str]]:
    """Every secret reference in the spec, with its dotted field path."""
    fields: list[tuple[str, str]] = []
    if spec.geo is not None:
        fields.append(("geo.api_token", spec.geo.api_token))
    alerts = spec.monitoring.alerts if spec.monitoring else None
    if alerts is not None:
        for name in ("slack_webhook", "telegram_bot_token"):
            value = getattr(alerts, name, None)
            if value:
                fields.append((f"monitoring.alerts.{name}", value))
    if spec.logging is not None:
        fields.append(("logging.elasticsearch_password", spec.logging.elasticsearch_password))
    return fields


def check_secrets(fields: Iterable[tuple[str, str]]) -> None:
    """Resolve each reference (the values are dropped at once); one line per failure."""
    from iconctl.secrets import resolve

    problems = []
    for field, ref in fields:
        try:
            resolve(ref, field=field)
        except InputError as exc:
            problems.append(exc.message)
    if problems:
        raise InputError("\n".join(problems))


def check_tools(tools: Iterable[str], env: Mapping[str, str]) -> None:
    """Each tool on PATH and at least its minimum version (exit 4 otherwise)."""
    for tool in sorted(tools):
        path = process.which(tool)
        minimum = MINIMUM.get(tool)
        if minimum is None:
            continue
        found = _version(tool, path, env)
        if found is not None and found < minimum:
            wanted = ".".join(map(str, minimum))
            raise ToolNotFound(
                tool=tool,
                hint=f"found {'.'.join(map(str, found))}, need >= {wanted}; "
                + process.INSTALL_HINTS.get(tool, f"install {tool}"),
            )


def _version(tool: str, path: str, env: Mapping[str, str]) -> tuple[int, ...] | None:
    result = process.run(
        [path, *_VERSION_ARGS[tool]],
        step=f"preflight: {tool} version",
        env=env,
        capture=True,
        check=False,
        timeout=60,
    )
    text = result.stdout
    with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
        if tool == "terraform":
            text = json.loads(text)["terraform_version"]
        elif tool == "kubectl":
            text = json.loads(text)["clientVersion"]["gitVersion"]
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if match is None:
        return None  # an unreadable version is not worth refusing the run for
    return tuple(int(part) for part in match.groups() if part is not None)


def check_credentials(clouds: Iterable[str], env: Mapping[str, str]) -> None:
    """One cheap authenticated call per cloud, against the endpoint the tools will use."""
    for cloud in sorted(clouds):
        if cloud == "aws":
            _aws_identity(env)
        elif cloud == "gcp":
            _gcp_credentials(env)


def aws_client(service: str, env: Mapping[str, str], *, endpoint_id: str, region: str = "") -> Any:
    """A boto3 client with the credentials and endpoint the tools will get (``endpoint_id``:
    the service's part of ``AWS_ENDPOINT_URL_<ID>``); without keys in env, boto3's own chain
    (profile, instance role) decides, as it does for Terraform's provider."""
    import boto3
    import botocore.config

    session = boto3.session.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
        aws_session_token=env.get("AWS_SESSION_TOKEN") or None,
        profile_name=env.get("AWS_PROFILE") or None,
        region_name=region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
    )
    return session.client(
        service,
        region_name=session.region_name or "us-east-1",
        endpoint_url=env.get(f"AWS_ENDPOINT_URL_{endpoint_id}") or env.get("AWS_ENDPOINT_URL")
        or None,
        config=botocore.config.Config(connect_timeout=5, read_timeout=10,
                                      retries={"max_attempts": 2}),
    )  # fmt: skip


def _aws_identity(env: Mapping[str, str]) -> None:
    import botocore.exceptions

    try:
        sts = aws_client("sts", env, endpoint_id="STS")
        sts.get_caller_identity()
    except botocore.exceptions.NoCredentialsError:
        raise InputError(
            "AWS credentials not found: set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or run on a host with an instance role)"
        ) from None
    except botocore.exceptions.ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        raise InputError(
            f"AWS refused the credentials (sts:GetCallerIdentity): {message}"
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise InputError(f"AWS credentials could not be checked: {exc}") from None


def _gcp_credentials(env: Mapping[str, str]) -> None:
    """Application default credentials: a key file named by the environment, or gcloud's."""
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CREDENTIALS"):
        value = env.get(name, "")
        if name == "GOOGLE_CREDENTIALS" and value.lstrip().startswith("{"):
            return  # the Google provider takes the key's JSON itself
        if value:
            if not Path(value).is_file():
                raise InputError(f"GCP credentials: {name}={value} is not a readable file")
            return
    home = Path(env.get("CLOUDSDK_CONFIG") or Path(env.get("HOME", "~")) / ".config" / "gcloud")
    if (home.expanduser() / "application_default_credentials.json").is_file():
        return
    raise InputError(
        "GCP credentials not found: run `gcloud auth application-default login` or set "
        "GOOGLE_APPLICATION_CREDENTIALS to a service account key file"
    )
