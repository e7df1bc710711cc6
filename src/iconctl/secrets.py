"""Resolving secret references (env:, ssm:, gcp-sm:) at run time, into tool environments only.

Values are handed to child processes through their environment and never written to a file
or a log; iconctl keeps no copy beyond the call.
"""

from __future__ import annotations

import os

from iconctl import process
from iconctl.errors import InputError


def resolve(ref: str, *, field: str) -> str:
    scheme, _, name = ref.partition(":")
    if scheme == "env":
        value = os.environ.get(name)
        if not value:
            raise InputError(f"{field}: environment variable {name} is not set (from {ref})")
        return value
    if scheme == "ssm":
        return _from_ssm(name, field=field)
    if scheme == "gcp-sm":
        path = name if "/versions/" in name else f"{name}/versions/latest"
        parts = path.split("/")  # projects/P/secrets/S/versions/V
        result = process.run(
            ["gcloud", "secrets", "versions", "access", parts[5], f"--secret={parts[3]}",
             f"--project={parts[1]}"],
            step=f"read {field} from GCP Secret Manager",
            capture=True,
        )  # fmt: skip
        return result.stdout.rstrip("\n")
    raise InputError(f"{field}: unsupported secret reference {scheme}:")


def _from_ssm(name: str, *, field: str) -> str:
    try:
        import boto3
    except ImportError:
        raise InputError(f"{field}: ssm: references need boto3 (pip install boto3)") from None
    try:
        response = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)
    except Exception as exc:  # botocore raises many kinds; the message is what matters
        raise InputError(f"{field}: cannot read SSM parameter {name}: {exc}") from None
    return str(response["Parameter"]["Value"])
