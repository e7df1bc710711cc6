"""The spec (iconctl.yaml) as immutable pydantic models.

Every field carries a description: the JSON Schema (`iconctl schema`) and docs/spec.md are
generated from these models, so the reference cannot drift from what is enforced.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from iconctl import __version__
from iconctl.health import DEFAULT_MAX_BLOCK_AGE_SECONDS, DEFAULT_MAX_LAG_BLOCKS
from iconctl.spec.regions import check_instance_type, check_region

NETWORKS = ("mainnet", "lisbon", "berlin")


class FieldError(ValueError):
    """A cross-field rule broken at ``field`` (a path relative to the model raising it)."""

    def __init__(self, field: str | tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.field: tuple[str | int, ...] = (field,) if isinstance(field, str) else field


# Public JSON-RPC endpoints the agent measures lag against, per network.
DEFAULT_REFERENCES: dict[str, tuple[str, ...]] = {
    "mainnet": ("https://ctz.solidwallet.io/api/v3", "https://api.icon.community/api/v3"),
    "lisbon": ("https://lisbon.net.solidwallet.io/api/v3",),
    "berlin": ("https://berlin.net.solidwallet.io/api/v3",),
}

# icon2-docker's SERVICE value for each network.
SERVICE_NAMES = {"mainnet": "MainNet", "lisbon": "LisbonNet", "berlin": "BerlinNet"}

SECRET_SCHEMES = ("env", "ssm", "gcp-sm")
_SECRET_REF = re.compile(
    r"^(?:env:[A-Za-z_][A-Za-z0-9_]*"
    r"|ssm:/[A-Za-z0-9_./-]+"
    r"|gcp-sm:projects/[a-z0-9-]+/secrets/[A-Za-z0-9_-]+(?:/versions/[A-Za-z0-9]+)?)$"
)
_DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)
_IDENTITY = {
    "aws": re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$"),
    "gcp": re.compile(
        r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$"
    ),
}
_IDENTITY_FORM = {"aws": "an IAM role ARN", "gcp": "a Google service account email"}
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IMAGE = re.compile(
    r"^[a-z0-9][a-z0-9._/-]*(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)


def _secret_ref(value: str) -> str:
    if not _SECRET_REF.match(value):
        if ":" in value and value.split(":", 1)[0] in SECRET_SCHEMES:
            raise ValueError(
                "malformed secret reference (env:NAME, ssm:/path or gcp-sm:projects/P/secrets/S)"
            )
        raise ValueError(
            "literal secrets are not allowed; give a reference such as env:NAME, "
            "ssm:/path/name or gcp-sm:projects/P/secrets/S"
        )
    return value


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS label (lowercase letters, digits and '-', at most 63, "
            "not starting or ending with '-')"
        )
    return value


def _hostname(value: str) -> str:
    if not _HOSTNAME.match(value):
        raise ValueError(f"{value!r} is not a fully qualified lowercase hostname")
    return value


def _bucket(value: str) -> str:
    if not _BUCKET.match(value) or ".." in value:
        raise ValueError(
            f"{value!r} is not a valid bucket name (3-63 lowercase letters, digits, '.', '-')"
        )
    return value


def _image(value: str) -> str:
    if not _IMAGE.match(value):
        raise ValueError(f"{value!r} is not a container image reference such as repo/name:tag")
    return value


def _https_url(value: str) -> str:
    if not re.match(r"^https://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[^\s]*)?$", value):
        raise ValueError(f"{value!r} is not an https:// URL")
    return value


def _on_field(field: str, check, *args) -> None:  # noqa: ANN001
    """Run a ValueError-raising check and attribute its failure to ``field``."""
    try:
        check(*args)
    except ValueError as exc:
        raise FieldError(field, str(exc)) from None


SecretRef = Annotated[str, AfterValidator(_secret_ref)]
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
Hostname = Annotated[str, AfterValidator(_hostname)]
BucketName = Annotated[str, AfterValidator(_bucket)]
ImageRef = Annotated[str, AfterValidator(_image)]
HttpsUrl = Annotated[str, AfterValidator(_https_url)]
Port = Annotated[int, Field(ge=1, le=65535)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


# Where released iconctl images are published (docs/node-configuration.md, "Images"); the tag
# is the package's version, so a spec's default always names the image of this release.
ICONCTL_IMAGE = f"ghcr.io/icon-community/iconctl:{__version__}"


class Node(_Model):
    """The goloop node every region runs (icon2-node image)."""

    image: ImageRef = Field(
        "iconloop/icon2-node:v1.4.4",
        description="Container image of the node (icon2-node), pinned to a tag or digest.",
    )
    rpc_port: Port = Field(
        9000, description="JSON-RPC and admin port inside the VPC (never public)."
    )
    p2p_port: Port = Field(7100, description="Peer-to-peer port, open to the internet.")
    ws_max_sessions: int = Field(
        1000,
        ge=10,
        le=100000,
        description="goloop wsMaxSession: concurrent websocket sessions (goloop's default of 10 "
        "is too low for a public endpoint).",
    )
    rpc_batch_limit: int = Field(
        10,
        ge=1,
        le=1000,
        description="goloop rpcBatchLimit: largest JSON-RPC batch the node accepts.",
    )
    seeds: tuple[str, ...] = Field(
        (),
        description="Seed peers as host:port. Empty: the image's defaults for the network.",
    )
    iconctl_image: ImageRef = Field(
        ICONCTL_IMAGE,
        description="Container image with iconctl for the node's sidecars (health agent, "
        "restore, snapshot) on VMs, in the baked image and on Kubernetes. Default: the image "
        "released with this iconctl version.",
    )

    @model_validator(mode="after")
    def _distinct_ports(self) -> Node:
        if self.rpc_port == self.p2p_port:
            raise FieldError("p2p_port", "rpc_port and p2p_port must differ")
        return self


class State(_Model):
    """Where Terraform keeps its state."""

    backend: Literal["s3", "gcs", "local"] = Field(
        "local", description="s3 (with S3-native locking), gcs, or local files (single operator)."
    )
    bucket: BucketName | None = Field(None, description="State bucket (s3 and gcs).")
    region: str | None = Field(None, description="AWS region of the state bucket (s3).")
    prefix: str = Field("iconctl", description="Key prefix for state objects in the bucket.")

    @model_validator(mode="after")
    def _backend_fields(self) -> State:
        if self.backend in ("s3", "gcs") and not self.bucket:
            raise FieldError("bucket", f"required with backend {self.backend}")
        if self.backend == "s3":
            if not self.region:
                raise FieldError("region", "required with backend s3")
            _on_field("region", check_region, "aws", self.region)
        if self.backend == "local" and (self.bucket or self.region):
            field = "bucket" if self.bucket else "region"
            raise FieldError(field, "only applies to the s3 and gcs backends")
        return self


class Kubernetes(_Model):
    """How a k8s region runs on its cluster (the cluster itself exists already)."""

    namespace: DnsLabel = Field("icon", description="Namespace the node StatefulSet runs in.")
    storage: Literal["pvc", "local"] = Field(
        "pvc",
        description="pvc: a network volume per node from a dynamic provisioner; local: a local "
        "NVMe volume per node (a storage class of a local-volume provisioner, pods stay on "
        "their host).",
    )
    storage_class: DnsLabel | None = Field(
        None,
        description="Storage class of the data volumes. Default: the cluster's default class "
        "(pvc) or local-nvme (local).",
    )
    ingress_class: DnsLabel = Field(
        "nginx", description="Ingress class that serves /api/v3 (ingress-nginx annotations)."
    )
    ingress_namespace: DnsLabel = Field(
        "ingress-nginx",
        description="Namespace of the ingress controller: the only one allowed to reach the RPC "
        "port.",
    )
    monitoring_namespace: DnsLabel = Field(
        "monitoring",
        description="Namespace of Prometheus: the only one allowed to scrape the metrics ports.",
    )
    cluster_issuer: DnsLabel | None = Field(
        None,
        description="cert-manager ClusterIssuer for the ingress certificate. Absent: TLS ends "
        "in front of the cluster (e.g. at the geo load balancer).",
    )
    iconctl_image: ImageRef | None = Field(
        None,
        description="Image with iconctl for this cluster's restore init container and agent "
        "sidecar, e.g. from a registry mirror the cluster pulls from. Absent: "
        "node.iconctl_image.",
    )
    node_identity: str | None = Field(
        None,
        description="Cloud identity of the serving pods, which read the snapshot bucket: an IAM "
        "role ARN (EKS, IRSA) or a Google service account email (GKE Workload Identity). "
        "Absent: the pods get no cloud identity and restores need a public (http) store.",
    )
    source_identity: str | None = Field(
        None,
        description="Cloud identity of the source-of-truth pod, the only one that writes the "
        "bucket (same forms as node_identity).",
    )
    context: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9@:/._-]{1,253}$",
        description="kubectl context that reaches the region's cluster (default: the current "
        "context).",
    )
    target_cpu_percent: int = Field(
        60, ge=10, le=95, description="CPU utilisation the HorizontalPodAutoscaler aims for."
    )


_IMAGE_ID = {
    "aws": re.compile(r"^ami-[0-9a-f]{8,17}$"),
    "gcp": re.compile(
        r"^(projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/global/images/)?[a-z][-a-z0-9]{0,62}$"
    ),
}
_IMAGE_ID_FORM = {
    "aws": "an AMI id (ami- and 8 or 17 hex digits)",
    "gcp": "an image name or projects/PROJECT/global/images/NAME",
}


class Region(_Model):
    """One region of the fleet: a cloud region with one node, an autoscaling group, or a
    Kubernetes StatefulSet."""

    name: str = Field(
        description="Cloud region name, e.g. us-east-1 (aws) or asia-northeast1 (gcp)."
    )
    cloud: Literal["aws", "gcp"] = Field(description="The cloud this region runs on.")
    flavour: Literal["single", "asg", "k8s"] = Field(
        "single",
        description="single: one VM with TLS by certbot; asg: an autoscaling group (AWS) or "
        "managed instance group (GCP) behind a network load balancer; k8s: a StatefulSet with "
        "a HorizontalPodAutoscaler on an existing Kubernetes cluster.",
    )
    instance_type: str = Field(
        description="Machine type (for k8s: of the cluster's node pool). Prefer local NVMe "
        "(AWS i4i/m6id, GCP with local SSD)."
    )
    min_size: int | None = Field(
        None, ge=1, le=100, description="asg and k8s only: fewest nodes (default 2)."
    )
    max_size: int | None = Field(
        None, ge=1, le=100, description="asg and k8s only: most nodes (default 6)."
    )
    data_volume_gib: int = Field(
        2500,
        ge=100,
        le=16384,
        description="Size of the chain data volume when the instance has no local NVMe. Chain data "
        "is 1.5-2 TB on mainnet; restores need no extra room. For k8s: each node's volume.",
    )
    kubernetes: Kubernetes | None = Field(
        None, description="k8s only: namespace, storage, ingress (defaults apply when absent)."
    )
    route53_zone: Hostname | None = Field(
        None,
        description="aws single and asg only: an existing public Route 53 hosted zone that "
        "answers for the region's hostname, for the certificate's validation and the region's "
        "records. Default: the hostname's parent domain for a lone region; behind the global "
        "load balancer, iconctl creates a zone for <region>.<domain> and delegates it from "
        "geo.zone (NS records in Cloudflare).",
    )
    image_id: str | None = Field(
        None,
        description="single and asg only: boot the nodes from this machine image instead of "
        "building one (asg: no Packer step) or using the official Debian 12 image (single): "
        "an AMI id (ami-...) on aws, an image name or self link on gcp. For operators who bake "
        "their own images; the image must hold what iconctl's Packer build puts there.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Region:
        _on_field("name", check_region, self.cloud, self.name)
        _on_field("instance_type", check_instance_type, self.cloud, self.instance_type)
        if self.kubernetes is not None:
            for name in ("node_identity", "source_identity"):
                identity = getattr(self.kubernetes, name)
                if identity is not None and not _IDENTITY[self.cloud].match(identity):
                    raise FieldError(
                        ("kubernetes", name),
                        f"not {_IDENTITY_FORM[self.cloud]} (the region's cloud is {self.cloud})",
                    )
        if self.flavour == "single" and (self.min_size is not None or self.max_size is not None):
            field = "min_size" if self.min_size is not None else "max_size"
            raise FieldError(field, "only applies to flavours asg and k8s")
        if self.kubernetes is not None and self.flavour != "k8s":
            raise FieldError("kubernetes", "only applies to flavour k8s")
        if self.route53_zone is not None and (self.cloud != "aws" or self.flavour == "k8s"):
            raise FieldError("route53_zone", "only applies to aws regions of flavour single or asg")
        if self.image_id is not None:
            if self.flavour == "k8s":
                raise FieldError("image_id", "only applies to flavours single and asg")
            if not _IMAGE_ID[self.cloud].match(self.image_id):
                raise FieldError("image_id", f"not {_IMAGE_ID_FORM[self.cloud]}")
        if self.flavour != "single" and self.nodes_min > self.nodes_max:
            raise FieldError(
                "min_size",
                f"min_size ({self.nodes_min}) is larger than max_size ({self.nodes_max})",
            )
        return self

    @property
    def k8s(self) -> Kubernetes:
        """The Kubernetes settings in force (defaults when the section is absent)."""
        return self.kubernetes or Kubernetes()

    @property
    def nodes_min(self) -> int:
        return 1 if self.flavour == "single" else (self.min_size or 2)

    @property
    def nodes_max(self) -> int:
        if self.flavour == "single":
            return 1
        return self.max_size if self.max_size is not None else max(6, self.nodes_min)


class Gcp(_Model):
    """Google Cloud settings, required when a region runs on gcp."""

    project: str = Field(
        description="GCP project id.",
        pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
    )


class Tls(_Model):
    """TLS for the single-node flavour (Let's Encrypt through certbot on the node)."""

    email: str = Field(
        description="Contact address for Let's Encrypt.",
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    )


class Sync(_Model):
    """Fast sync: snapshots of the chain data into one bucket per region."""

    enabled: bool = Field(
        False, description="Run a source-of-truth node that snapshots every interval."
    )
    bucket_prefix: BucketName | None = Field(
        None, description="Snapshot buckets are named <bucket_prefix>-<region>."
    )
    interval_minutes: int = Field(60, ge=5, le=1440, description="Minutes between snapshots.")
    keep: int = Field(24, ge=1, le=1000, description="Snapshots kept by prune.")

    @model_validator(mode="after")
    def _bucket_when_enabled(self) -> Sync:
        if self.enabled and not self.bucket_prefix:
            raise FieldError("bucket_prefix", "required when sync is enabled")
        return self


# A new node's boot grace when the spec sets none (docs/agent.md, "Liveness and replacement"):
# the time to restore the region's data volume at the slowest restore rate BENCHMARKS.md
# measured (4 GiB in 8.56 s, durable: 478 MiB/s), times a margin, plus the start-up of the
# machine and the node. Without snapshots a node starts empty and answers at once.
RESTORE_MIB_PER_SECOND = 478
RESTORE_MARGIN = 2
START_MINUTES = 10


class Health(_Model):
    """Readiness rules the agent applies on every node, and how long a new node may take to
    come up before autoscaling replaces it.

    Boot grace when `boot_grace_minutes` is absent: with sync enabled,
    `10 + ceil(data_volume_gib × 1024 ÷ 478 MiB/s ÷ 60 × 2)` minutes per region (restoring
    the whole data volume at the slowest measured restore rate, twice over, plus ten minutes
    of boot and start-up: 189 minutes for the default 2500 GiB); without sync, 10 minutes.
    """

    max_lag_blocks: int = Field(
        DEFAULT_MAX_LAG_BLOCKS,
        ge=1,
        le=10000,
        description="Ready while within this many blocks of the best reference.",
    )
    max_block_age_seconds: int = Field(
        DEFAULT_MAX_BLOCK_AGE_SECONDS,
        ge=5,
        le=3600,
        description="Ready while the node's last block is younger than this.",
    )
    references: tuple[HttpsUrl, ...] | None = Field(
        None,
        description="Public JSON-RPC endpoints to measure lag against. Default: the network's "
        "public endpoints.",
    )
    boot_grace_minutes: int | None = Field(
        None,
        ge=5,
        le=1440,
        description="Minutes a new autoscaled node may take to restore and start before failing "
        "liveness (/healthz) gets it replaced; also the instance warm-up of scaling and "
        "instance refresh. Default: derived per region from its data volume (see above).",
    )


class Geo(_Model):
    """Global load balancing across regions."""

    provider: Literal["cloudflare"] = Field("cloudflare", description="Geo load balancer provider.")
    zone: Hostname = Field(description="DNS zone that holds the public hostname.")
    steering: Literal["geo", "dynamic", "off"] = Field(
        "geo",
        description="geo: by the client's continent, then failover; dynamic: by measured latency; "
        "off: failover order only.",
    )
    api_token: SecretRef = Field(description="Cloudflare API token (a reference, e.g. env:NAME).")
    min_ready_nodes: int = Field(
        1,
        ge=1,
        le=100,
        description="A region's pool is healthy while at least this many nodes are ready.",
    )


class Alerts(_Model):
    """Where alerts go."""

    slack_webhook: SecretRef | None = Field(
        None, description="Slack incoming-webhook URL (a reference)."
    )
    telegram_bot_token: SecretRef | None = Field(
        None, description="Telegram bot token (a reference)."
    )
    telegram_chat_id: str | None = Field(
        None, pattern=r"^-?\d{1,20}$", description="Telegram chat id that receives alerts."
    )

    @model_validator(mode="after")
    def _telegram_pair(self) -> Alerts:
        if (self.telegram_bot_token is None) != (self.telegram_chat_id is None):
            missing = "telegram_chat_id" if self.telegram_chat_id is None else "telegram_bot_token"
            raise FieldError(missing, "telegram_bot_token and telegram_chat_id go together")
        return self


def _private_url(value: str) -> str:
    if not re.match(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?/?$", value):
        raise ValueError(
            f"{value!r} is not a base URL such as http://10.20.0.5:9090 (no path, user or query)"
        )
    return value


PrometheusUrl = Annotated[str, AfterValidator(_private_url)]


class MonitoringMachines(_Model):
    """Machine types of the monitoring hosts."""

    aws: str = Field("t3.medium", description="On aws regions.")
    gcp: str = Field("e2-medium", description="On gcp regions.")

    @model_validator(mode="after")
    def _shapes(self) -> MonitoringMachines:
        _on_field("aws", check_instance_type, "aws", self.aws)
        _on_field("gcp", check_instance_type, "gcp", self.gcp)
        return self


class Monitoring(_Model):
    """Prometheus, Alertmanager and Grafana."""

    prometheus: bool = Field(
        True,
        description="Deploy a private monitoring host in every aws and gcp region (Prometheus, "
        "and on the global region also the global Prometheus, Alertmanager and Grafana), and "
        "the Prometheus Operator (kube-prometheus-stack) with the nodes' ServiceMonitor and "
        "recording rules in every k8s region. false deploys none.",
    )
    alerts: Alerts = Field(default_factory=Alerts, description="Alert receivers.")
    global_region: str | None = Field(
        None,
        description="The aws or gcp region whose monitoring host also runs the global view: the "
        "Prometheus that federates every region and evaluates the alerts, Alertmanager and "
        "Grafana. Default: the first aws or gcp region.",
    )
    federation: dict[str, PrometheusUrl] = Field(
        default_factory=dict,
        max_length=32,
        description="How the global Prometheus reaches another region's Prometheus: region name "
        "-> base URL over a private link you provide (VPC peering, a VPN), e.g. "
        "http://10.20.0.5:9090. iconctl creates no link between regions; a region without an "
        "entry is not federated (its own host still alerts nobody and keeps its data).",
    )
    machine_types: MonitoringMachines = Field(
        default_factory=lambda: MonitoringMachines(),
        description="Machine type of the monitoring hosts, per cloud.",
    )
    volume_gib: int = Field(
        50, ge=20, le=16384, description="Size of each monitoring host's encrypted data volume."
    )
    retention_days: int = Field(
        30, ge=1, le=3650, description="How long the Prometheus servers keep samples."
    )

    def machine(self, cloud: str) -> str:
        """The monitoring host's machine type on ``cloud``."""
        return str(getattr(self.machine_types, cloud))


class Logging(_Model):
    """Shipping of edge and node logs to Elasticsearch."""

    elasticsearch_url: HttpsUrl = Field(description="Elasticsearch endpoint (https).")
    elasticsearch_user: str = Field(
        "elastic", description="Elasticsearch user the shipper writes as."
    )
    elasticsearch_password: SecretRef = Field(description="Its password (a reference).")


class Spec(_Model):
    """An iconctl deployment: the whole fleet in one file."""

    version: Literal[1] = Field(description="Spec format version; must be 1.")
    name: DnsLabel = Field(description="Deployment name; prefixes every cloud resource.")
    network: Literal["mainnet", "lisbon", "berlin"] = Field(description="ICON network to serve.")
    domain: Hostname = Field(
        description="Public hostname the endpoints serve, e.g. api.example.org."
    )
    node: Node = Field(default_factory=Node, description="The node every region runs.")
    state: State = Field(default_factory=State, description="Terraform state.")
    regions: tuple[Region, ...] = Field(min_length=1, max_length=32, description="The regions.")
    gcp: Gcp | None = Field(None, description="Google Cloud settings (required with a gcp region).")
    tls: Tls | None = Field(None, description="TLS settings (required with a single-node region).")
    sync: Sync = Field(default_factory=Sync, description="Fast-sync snapshots.")
    health: Health = Field(default_factory=Health, description="Readiness rules.")
    geo: Geo | None = Field(
        None, description="Geo load balancing (needed with more than one region)."
    )
    monitoring: Monitoring = Field(default_factory=Monitoring, description="Monitoring and alerts.")
    logging: Logging | None = Field(None, description="Log shipping (off when absent).")
    protect: bool = Field(
        False,
        description="Guard against teardown: while true, `iconctl destroy` refuses to run.",
    )

    @model_validator(mode="after")
    def _cross_field(self) -> Spec:
        seen: set[str] = set()
        for index, region in enumerate(self.regions):
            if region.name in seen:
                raise FieldError(("regions", index, "name"), f"region {region.name} is repeated")
            seen.add(region.name)
        for index, region in enumerate(self.regions):
            if region.cloud == "gcp" and self.gcp is None:
                raise FieldError(("regions", index, "cloud"), "a gcp region needs gcp.project")
            if region.flavour == "single" and self.tls is None:
                raise FieldError(
                    ("regions", index, "flavour"),
                    "a single-node region needs tls.email for certbot",
                )
        if len(self.regions) > 1 and self.geo is None:
            raise FieldError("regions", "more than one region needs the geo section")
        if self.geo is not None:
            for index, region in enumerate(self.regions):
                if region.flavour != "single" and self.geo.min_ready_nodes > region.nodes_min:
                    raise FieldError(
                        ("geo", "min_ready_nodes"),
                        f"{self.geo.min_ready_nodes} is more than regions[{index}] "
                        f"({region.name}) keeps running (min_size {region.nodes_min})",
                    )
        if self.geo is not None and not (
            self.domain == self.geo.zone or self.domain.endswith("." + self.geo.zone)
        ):
            raise FieldError("domain", f"{self.domain} is not inside geo.zone {self.geo.zone}")
        if self.sync.enabled and self.sync.bucket_prefix:
            too_long = [r.name for r in self.regions if len(self.snapshot_bucket(r) or "") > 63]
            if too_long:
                raise FieldError(
                    ("sync", "bucket_prefix"),
                    f"too long: <prefix>-<region> exceeds 63 characters for {', '.join(too_long)}",
                )
        if self.state.backend == "gcs" and self.gcp is None:
            raise FieldError(("state", "backend"), "the gcs backend needs gcp.project")
        self._check_monitoring()
        return self

    def _check_monitoring(self) -> None:
        monitoring = self.monitoring
        names = [r.name for r in self.regions]
        if monitoring.global_region is not None:
            region = next((r for r in self.regions if r.name == monitoring.global_region), None)
            if region is None:
                raise FieldError(
                    ("monitoring", "global_region"),
                    f"{monitoring.global_region} is not a region of this spec ({', '.join(names)})",
                )
            if region.flavour == "k8s":
                raise FieldError(
                    ("monitoring", "global_region"),
                    f"{region.name} is a k8s region: the global view runs on an aws or gcp "
                    "region's monitoring host",
                )
        for name in monitoring.federation:
            if name not in names:
                raise FieldError(
                    ("monitoring", "federation", name),
                    f"{name} is not a region of this spec ({', '.join(names)})",
                )
            if name == self.monitoring_global_region():
                raise FieldError(
                    ("monitoring", "federation", name),
                    f"{name} is the global region: its Prometheus is federated on the host",
                )

    def monitoring_global_region(self) -> str | None:
        """The region whose monitoring host runs the global view, or None when monitoring is
        off or no region runs on VMs."""
        if not self.monitoring.prometheus:
            return None
        if self.monitoring.global_region is not None:
            return self.monitoring.global_region
        return next((r.name for r in self.regions if r.flavour != "k8s"), None)

    @property
    def references(self) -> tuple[str, ...]:
        """The lag references in force: the spec's, or the network's public endpoints."""
        return self.health.references or DEFAULT_REFERENCES[self.network]

    def boot_grace_minutes(self, region: Region) -> int:
        """The region's boot grace: the spec's, or derived from the restore it needs."""
        if self.health.boot_grace_minutes is not None:
            return self.health.boot_grace_minutes
        if not self.sync.enabled:
            return START_MINUTES
        restore_seconds = region.data_volume_gib * 1024 / RESTORE_MIB_PER_SECOND
        return START_MINUTES + math.ceil(restore_seconds / 60 * RESTORE_MARGIN)

    def snapshot_bucket(self, region: Region) -> str | None:
        """The region's snapshot bucket, or None when sync is off."""
        if not self.sync.enabled or not self.sync.bucket_prefix:
            return None
        return f"{self.sync.bucket_prefix}-{region.name}"
