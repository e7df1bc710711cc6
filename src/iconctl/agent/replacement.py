"""Replacement on liveness: the agent asks its Auto Scaling group to replace its own instance.

The group's health type is EC2, so neither the load balancer's /readyz nor anything else
makes the group replace a node that is merely behind (restoring, catching up). Only this
node's agent can tell that the node itself is gone: once /healthz has failed without a break
for ``after`` seconds (the boot grace already counted as live, see ``Agent.evaluate``), it
calls ``autoscaling:SetInstanceHealth`` with ``Unhealthy`` for its own instance, once. Which
instance and region it is comes from the instance metadata service (IMDSv2); what the
metadata service and the API answer is read bounded in size and time and checked before use.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from iconctl.http.client import bounded_boto3_client, read_bounded

IMDS_ENDPOINT = "http://169.254.169.254"
RETRY_SECONDS = 30.0  # after a failed attempt to mark the instance
_MAX_METADATA_BYTES = 1024
_SESSION_SECONDS = "300"  # lifetime of the IMDSv2 token
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8,17}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


class ReplacementWatch:
    """When to ask for replacement: liveness failed continuously for ``after`` seconds, not
    asked yet (or the last attempt failed over RETRY_SECONDS ago). Free of I/O."""

    def __init__(self, after: float) -> None:
        self.after = after
        self.failing_since: float | None = None
        self.requested = False
        self.attempts = 0
        self.errors = 0
        self.error = ""
        self._next_try = 0.0

    def due(self, live: bool | None, now: float) -> bool:
        if live is not False:  # live, or no verdict yet
            self.failing_since = None
            return False
        if self.failing_since is None:
            self.failing_since = now
        return (
            not self.requested
            and now - self.failing_since >= self.after
            and (now >= self._next_try)
        )

    def attempted(self, now: float, error: str = "") -> None:
        self.attempts += 1
        if error:
            self.errors += 1
            self.error = error
            self._next_try = now + RETRY_SECONDS
        else:
            self.requested, self.error = True, ""


@dataclass(frozen=True)
class Identity:
    instance_id: str
    region: str


class InstanceMetadata:
    """The instance's id and region through IMDSv2 (a session token first, then the reads)."""

    def __init__(self, endpoint: str = IMDS_ENDPOINT) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._identity: Identity | None = None

    async def identity(self, session: Any) -> Identity:
        if self._identity is None:
            async with session.put(
                f"{self.endpoint}/latest/api/token",
                headers={"X-aws-ec2-metadata-token-ttl-seconds": _SESSION_SECONDS},
                allow_redirects=False,
            ) as resp:
                token = await self._text(resp, "token")
            headers = {"X-aws-ec2-metadata-token": token}
            instance_id = await self._get(session, "instance-id", headers)
            region = await self._get(session, "placement/region", headers)
            if not _INSTANCE_ID.match(instance_id):
                raise RuntimeError(f"instance metadata: not an instance id: {instance_id[:40]!r}")
            if not _REGION.match(region):
                raise RuntimeError(f"instance metadata: not a region: {region[:40]!r}")
            self._identity = Identity(instance_id, region)
        return self._identity

    async def _get(self, session: Any, path: str, headers: dict[str, str]) -> str:
        async with session.get(
            f"{self.endpoint}/latest/meta-data/{path}", headers=headers, allow_redirects=False
        ) as resp:
            return await self._text(resp, path)

    @staticmethod
    async def _text(resp: Any, what: str) -> str:
        if resp.status != 200:
            raise RuntimeError(f"instance metadata {what}: HTTP {resp.status}")
        body = await read_bounded(resp, _MAX_METADATA_BYTES)
        try:
            text = body.decode("ascii").strip()
        except UnicodeDecodeError:
            raise RuntimeError(f"instance metadata {what}: not ASCII") from None
        if not text or any(c.isspace() for c in text):
            raise RuntimeError(f"instance metadata {what}: malformed answer")
        return text


class AwsSelfReplacement:
    """Marks this instance Unhealthy in its Auto Scaling group."""

    label = "aws"

    def __init__(self, metadata: InstanceMetadata, timeout: float = 5.0) -> None:
        self.metadata = metadata
        self.timeout = timeout
        self._client: Any = None
        self._region = ""

    async def request(self, session: Any) -> Identity:
        identity = await self.metadata.identity(session)
        await asyncio.to_thread(self._set_unhealthy, identity)
        return identity

    def _set_unhealthy(self, identity: Identity) -> None:
        if self._client is None or self._region != identity.region:
            self._client = bounded_boto3_client("autoscaling", identity.region, self.timeout)
            self._region = identity.region
        # The group's own grace still applies: a node is never marked during its launch.
        self._client.set_instance_health(
            InstanceId=identity.instance_id,
            HealthStatus="Unhealthy",
            ShouldRespectGracePeriod=True,
        )
