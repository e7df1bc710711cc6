"""Region-aggregate readiness: "this region is healthy while at least N of its nodes are ready".

The answer is served at ``/region/readyz``. Cloudflare's monitor reaches it through the
regional load balancer's agent listener, so whichever node answers must know how many of
its peers are ready. The count comes from the load balancer itself (AWS: the target group's
``DescribeTargetHealth``; GCP: the backend service's ``getHealth``): those health checks
already ask every node's ``/readyz``, so the count is exactly the set of nodes that receive
traffic, and the nodes need neither a peer list nor a network path to each other.

The agent polls the source in the background and prepares the answer after each poll, so
probes never reach the cloud API. When the source cannot be read for longer than
``max_stale`` seconds, the answer falls back to this node's own readiness: a healthy region
(whose nodes are ready) stays in, a dead one (whose nodes are not) goes out, which is what
Cloudflare saw before this endpoint existed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from iconctl.errors import InputError
from iconctl.health import Verdict
from iconctl.http.client import (
    bounded_boto3_client,
    read_bounded,
    session,
)


@dataclass(frozen=True)
class RegionCount:
    ready: int
    total: int


class RegionSource(Protocol):
    label: str

    async def count(self) -> RegionCount: ...

    async def close(self) -> None: ...


class RegionHealth:
    """The counting, caching and fallback rules, free of I/O."""

    def __init__(self, min_ready: int, max_stale: float) -> None:
        if min_ready < 1:
            raise InputError("--region-min-ready must be >= 1")
        if max_stale <= 0:
            raise InputError("--region-max-stale must be > 0")
        self.min_ready = min_ready
        self.max_stale = max_stale
        self.count: RegionCount | None = None
        self.counted_at: float | None = None  # monotonic time of the last good poll
        self.source_up = False
        self.error = "not polled yet"

    def record(self, count: RegionCount, now: float) -> None:
        self.count, self.counted_at = count, now
        self.source_up, self.error = True, ""

    def fail(self, error: str) -> None:
        self.source_up, self.error = False, error

    def fresh(self, now: float) -> bool:
        return self.counted_at is not None and now - self.counted_at <= self.max_stale

    def verdict(self, now: float, own: Verdict) -> Verdict:
        """From a fresh count: ready >= min_ready. Without one: this node's own readiness."""
        if self.fresh(now):
            assert self.count is not None
            ready, total = self.count.ready, self.count.total
            if ready >= self.min_ready:
                return Verdict(True)
            return Verdict(False, f"region: {ready} of {total} nodes ready < {self.min_ready}")
        why = self.error if not self.source_up else "last count too old"
        if self.counted_at is not None:
            why += f", last count {now - self.counted_at:.0f}s old"
        if own.ok:
            return Verdict(True, f"region source unavailable ({why}); this node is ready")
        return Verdict(False, f"region source unavailable ({why}); this node: {own.reason}")

    def age(self, now: float) -> float | None:
        return None if self.counted_at is None else max(0.0, now - self.counted_at)


def parse_source(text: str) -> RegionSource:
    """``aws:<target group ARN>`` or ``gcp:<project>/<backend service>/<region>/<group>``."""
    kind, _, rest = text.partition(":")
    if kind == "aws" and rest.startswith("arn:"):
        parts = rest.split(":")
        if len(parts) < 6 or parts[2] != "elasticloadbalancing" or "targetgroup/" not in parts[5]:
            raise InputError(f"--region-source: not a target group ARN: {rest!r}")
        return AwsTargetGroup(rest, region=parts[3])
    if kind == "gcp":
        parts = rest.split("/")
        if len(parts) == 4 and all(parts):
            return GcpBackendService(*parts)
        raise InputError(
            "--region-source: expected gcp:<project>/<backend service>/<region>/<instance group>"
        )
    raise InputError(
        f"--region-source: expected aws:<target group ARN> or gcp:<project>/<backend service>/"
        f"<region>/<instance group>, got {text!r}"
    )


class AwsTargetGroup:
    """Healthy targets of a target group (``elasticloadbalancing:DescribeTargetHealth``).

    Credentials come from boto3's usual chain (the instance profile via IMDSv2 on a node);
    the endpoint from ``AWS_ENDPOINT_URL`` when set."""

    def __init__(self, arn: str, region: str) -> None:
        self.arn = arn
        self.region = region
        self.label = f"aws:{arn}"
        self._client: Any = None

    def _describe(self, timeout: float) -> RegionCount:
        if self._client is None:
            self._client = bounded_boto3_client("elbv2", self.region, timeout)
        answer = self._client.describe_target_health(TargetGroupArn=self.arn)
        states = [
            (d.get("TargetHealth") or {}).get("State")
            for d in answer.get("TargetHealthDescriptions", [])
        ]
        return RegionCount(sum(1 for s in states if s == "healthy"), len(states))

    async def count(self, timeout: float = 5.0) -> RegionCount:
        return await asyncio.to_thread(self._describe, timeout)

    async def close(self) -> None:
        self._client = None


class GcpBackendService:
    """Healthy instances of an instance group behind a backend service (``getHealth``,
    which needs ``compute.backendServices.get``), with a token of the instance's service
    account from the metadata server."""

    def __init__(
        self,
        project: str,
        backend_service: str,
        region: str,
        group: str,
        *,
        api: str = "https://compute.googleapis.com",
        metadata: str = "http://metadata.google.internal",
    ) -> None:
        self.project = project
        self.backend_service = backend_service
        self.group_url = (
            f"https://www.googleapis.com/compute/v1/projects/{project}"
            f"/regions/{region}/instanceGroups/{group}"
        )
        self.api = api.rstrip("/")
        self.metadata = metadata.rstrip("/")
        self.label = f"gcp:{project}/{backend_service}/{region}/{group}"
        self._session: Any = None
        self._token: tuple[float, str] | None = None  # (expiry, token)

    async def _get_token(self, session: Any) -> str:
        loop_time = asyncio.get_running_loop().time()
        if self._token is not None and loop_time < self._token[0]:
            return self._token[1]
        url = f"{self.metadata}/computeMetadata/v1/instance/service-accounts/default/token"
        async with session.get(url, headers={"Metadata-Flavor": "Google"}) as resp:
            if resp.status != 200:
                raise RuntimeError(f"metadata server: HTTP {resp.status}")
            payload = json.loads(await read_bounded(resp))
        token = str(payload["access_token"])
        # Renew a minute before it expires.
        self._token = (loop_time + max(0, int(payload.get("expires_in", 0)) - 60), token)
        return token

    async def count(self, timeout: float = 5.0) -> RegionCount:
        if self._session is None:
            self._session = session(timeout)
        token = await self._get_token(self._session)
        url = (
            f"{self.api}/compute/v1/projects/{quote(self.project)}/global/backendServices/"
            f"{quote(self.backend_service)}/getHealth"
        )
        async with self._session.post(
            url, json={"group": self.group_url}, headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            if resp.status != 200:
                raise RuntimeError(f"getHealth: HTTP {resp.status}")
            body = await read_bounded(resp)
        statuses = json.loads(body).get("healthStatus") or []
        states = [s.get("healthState") for s in statuses if isinstance(s, dict)]
        return RegionCount(sum(1 for s in states if s == "HEALTHY"), len(states))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
