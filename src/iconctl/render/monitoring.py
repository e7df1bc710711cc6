"""Monitoring configuration rendered from the spec: Prometheus, Alertmanager, Grafana.

Two tiers (docs/monitoring.md): a Prometheus per region discovers that region's nodes
through the cloud's API and records the region:* / instance:* series; one global Prometheus
federates the high-level series of every region, evaluates every alert and sends them to the
one Alertmanager, which routes to Slack and Telegram. Grafana sits on the global Prometheus
(overview) and on each regional one (region dashboards).

``files(spec)`` is pure and deterministic: it returns relative path -> content and never
reads the environment. Secrets appear only as file paths plus the spec's reference
(``global/alertmanager/secret-files.json``); whoever deploys fills the files from the
references (for example compose secrets with ``environment: NAME``).

``host_files(spec, region)`` is what one region's private monitoring host installs (the
``icon_monitoring`` role, under ``<region>/monitoring/files/``): the regional Prometheus, and on
the global region's host also the global Prometheus, Alertmanager, Grafana and ElastAlert.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from iconctl import log_indices
from iconctl.assets import asset_dir
from iconctl.endpoints import AGENT_PORT, METRICS_PATH
from iconctl.errors import IconctlError, InputError
from iconctl.health import DEFAULT_MAX_LAG_BLOCKS
from iconctl.render.common import HEADER

NODE_EXPORTER_PORT = 9100
EDGE_EXPORTER_PORT = 9598
DEFAULT_RPC_PORT = 9000
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093

# The Terraform modules tag (AWS) and label (GCP) every machine with these; GCP label keys
# keep the dash, and Prometheus exposes them as __meta_gce_label_iconctl_role etc.
NAME_TAG = "iconctl-name"  # the deployment's name (spec.name)
ROLE_TAG = "iconctl-role"  # node (serves traffic) or source (takes the snapshots)
ROLES = ("node", "source")
K8S_NODE_SELECTOR = "app.kubernetes.io/name=icon-node"

SECRETS_DIR = "/run/secrets"
# On a monitoring host the role writes the secret files here (root-owned, read by the daemon's
# group); /run is emptied at boot, which would leave Alertmanager without them.
HOST_SECRETS_DIR = "/etc/icon-monitoring/secrets"
# File names under SECRETS_DIR (names of files, not secret values).
SLACK_FILE = "slack_webhook_url"
TELEGRAM_FILE = "telegram_bot_token"
# The controller's environment variables the icon_monitoring role reads each secret from
# (names, not values): the pipeline resolves the spec's references into them.
SECRET_ENV = {
    SLACK_FILE: "ICON_MONITORING_SLACK_WEBHOOK_URL",
    TELEGRAM_FILE: "ICON_MONITORING_TELEGRAM_BOT_TOKEN",
}
ELASTICSEARCH_PASSWORD_SOURCE_ENV = "ICON_MONITORING_ELASTICSEARCH_PASSWORD"  # noqa: S105 - a name

# Zones per GCP region where they are not a, b, c (gce_sd_configs takes one zone at a time).
GCP_ZONES: dict[str, tuple[str, ...]] = {
    "us-central1": ("a", "b", "c", "f"),
    "us-east1": ("b", "c", "d"),
    "europe-west1": ("b", "c", "d"),
}

# What the global Prometheus pulls from each region: our recordings, the agent's and sync's
# gauges, goloop's height, scrape health and the data filesystems (for the disk alerts).
FEDERATE_MATCH = (
    '{__name__=~"region:.+|region_method:.+|instance:.+"}',
    '{__name__=~"icon_node_.+|icon_reference_block_height|icon_reference_up|icon_reference_ignored|icon_agent_draining"}',
    '{__name__=~"icon_sync_.+"}',
    '{__name__=~"goloop_consensus_height|goloop_consensus_round"}',
    '{__name__=~"node_filesystem_(avail|size)_bytes",'
    'fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|devtmpfs"}',
    '{__name__="up"}',
)

REGIONAL_RULES = ("recording.yml",)
GLOBAL_RULES = ("alerts.yml", "fleet.yml")


@dataclass(frozen=True)
class Timing:
    """How often Prometheus scrapes and evaluates and how Alertmanager groups.

    The defaults are what a deployment runs (docs/monitoring.md). Tests that deliver an
    alert for real shorten every interval so that an alert fires and resolves in seconds;
    ``alert_for`` then replaces every rule's ``for:`` duration.
    """

    regional_scrape: str = "15s"
    global_scrape: str = "30s"
    evaluation: str = "30s"  # the Prometheus' evaluation_interval and the rule groups' interval
    federate_timeout: str = "20s"  # must stay below global_scrape
    discovery_refresh: str = "30s"  # file discovery re-reads its files this often
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"
    alert_for: str | None = None  # None: each rule keeps its own ``for:``


PRODUCTION = Timing()


@dataclass(frozen=True)
class HostPorts:
    """Where the daemons of a monitoring host listen (docs/monitoring.md, "The monitoring
    host"). The rendered files name these ports, and ``host.json`` hands them to the role, so
    the two never disagree; e2e shifts them off ports another process holds."""

    prometheus: int = PROMETHEUS_PORT  # the regional Prometheus, on every address (federation)
    global_prometheus: int = 9091  # 127.0.0.1, global region only
    alertmanager: int = ALERTMANAGER_PORT  # 127.0.0.1, global region only
    grafana: int = 3000  # 127.0.0.1, global region only


HOST_PORTS = HostPorts()


def files(spec: Any, timing: Timing = PRODUCTION) -> dict[str, str]:
    """Every monitoring file for ``spec``, keyed by path relative to the output directory.

    Global files go under ``global/``, each region's Prometheus under ``<region>/``.
    """
    out = _logs(spec) if getattr(spec, "logging", None) is not None else {}
    monitoring = getattr(spec, "monitoring", None)
    if monitoring is None or not getattr(monitoring, "prometheus", False):
        return out
    regions = list(getattr(spec, "regions", None) or [])
    source = asset_dir("monitoring")

    out["global/prometheus/prometheus.yml"] = _dump(global_prometheus(spec, timing), spec)
    for name in GLOBAL_RULES:
        out[f"global/prometheus/rules/{name}"] = rules(spec, name, timing)
    for region in regions:
        federated = federation_targets(spec, region)
        if federated:
            out[f"global/prometheus/federation/{region.name}.json"] = _json(federated)
        base = f"{region.name}/prometheus"
        out[f"{base}/prometheus.yml"] = _dump(
            regional_prometheus(spec, region, timing=timing), spec
        )
        for name in REGIONAL_RULES:
            out[f"{base}/rules/{name}"] = rules(spec, name, timing)

    out["global/alertmanager/alertmanager.yml"] = _dump(alertmanager(spec, timing), spec)
    out["global/alertmanager/secret-files.json"] = _json(secret_files(spec))
    for template in sorted((source / "alertmanager" / "templates").glob("*.tmpl")):
        out[f"global/alertmanager/templates/{template.name}"] = _read(template)

    out.update({f"global/grafana/{k}": v for k, v in _grafana(spec, regions).items()})
    if getattr(spec, "logging", None) is not None:
        out.update({f"global/elastalert/{k}": v for k, v in _elastalert(spec).items()})
    for region in regions:
        if region.flavour == "k8s":  # the operator-based stack in the cluster, no host
            continue
        tree = host_files(spec, region, timing=timing)
        out.update({f"{region.name}/monitoring/files/{k}": v for k, v in tree.items()})
    return dict(sorted(out.items()))


def host_files(
    spec: Any,
    region: Any,
    *,
    discovery: str = "cloud",
    timing: Timing = PRODUCTION,
    ports: HostPorts = HOST_PORTS,
) -> dict[str, str]:
    """What the monitoring host of ``region`` installs, keyed by path under its ``files/``.

    Every host: ``host.json`` (ports, retention), ``prometheus/`` (the regional Prometheus).
    The global region's host also: ``global/prometheus/`` (federation and alerts),
    ``alertmanager/``, ``grafana/`` and, with ``logging``, ``elastalert/``. Secrets appear as
    file paths under HOST_SECRETS_DIR plus the controller variable each is filled from.
    """
    is_global = region.name == spec.monitoring_global_region()
    out = {
        "host.json": _json(
            {
                "global": is_global,
                "ports": {
                    "prometheus": ports.prometheus,
                    "global_prometheus": ports.global_prometheus,
                    "alertmanager": ports.alertmanager,
                    "grafana": ports.grafana,
                },
                "region": region.name,
                "retention_days": int(spec.monitoring.retention_days),
            }
        ),
        "prometheus/prometheus.yml": _dump(
            regional_prometheus(spec, region, discovery=discovery, timing=timing, ports=ports),
            spec,
        ),
    }
    for name in REGIONAL_RULES:
        out[f"prometheus/rules/{name}"] = rules(spec, name, timing)
    if not is_global:
        return dict(sorted(out.items()))

    out["global/prometheus/prometheus.yml"] = _dump(global_prometheus(spec, timing, ports), spec)
    for name in GLOBAL_RULES:
        out[f"global/prometheus/rules/{name}"] = rules(spec, name, timing)
    for other in spec.regions:
        federated = federation_targets(spec, other, ports)
        if federated:
            out[f"global/prometheus/federation/{other.name}.json"] = _json(federated)
    out["alertmanager/alertmanager.yml"] = _dump(
        alertmanager(spec, timing, secrets_dir=HOST_SECRETS_DIR), spec
    )
    out["alertmanager/secret-files.json"] = _json(secret_files(spec, HOST_SECRETS_DIR))
    source = asset_dir("monitoring")
    for template in sorted((source / "alertmanager" / "templates").glob("*.tmpl")):
        out[f"alertmanager/templates/{template.name}"] = _read(template)
    out.update({f"grafana/{k}": v for k, v in _grafana(spec, spec.regions, ports).items()})
    if getattr(spec, "logging", None) is not None:
        out.update({f"elastalert/{k}": v for k, v in _elastalert(spec, ports).items()})
    return dict(sorted(out.items()))


# Thresholds in the shipped rules that follow the spec: (file, exact text with the shipped
# default, spec value). The shipped defaults equal the spec's defaults, so the promtool
# tests cover the rules as most deployments run them.
def _tunables(spec: Any) -> list[tuple[str, str, str]]:
    shipped = DEFAULT_MAX_LAG_BLOCKS
    lag = int(getattr(getattr(spec, "health", None), "max_lag_blocks", shipped) or shipped)
    ready = int(getattr(getattr(spec, "geo", None), "min_ready_nodes", 1) or 1)
    return [
        (
            "alerts.yml",
            f"expr: icon_node_lag_blocks > {shipped}\n",
            f"expr: icon_node_lag_blocks > {lag}\n",
        ),
        (
            "alerts.yml",
            f"reference by more than {shipped} blocks.",
            f"reference by more than {lag} blocks.",
        ),
        (
            "fleet.yml",
            "expr: region:icon_nodes_ready:sum >= bool 1\n",
            f"expr: region:icon_nodes_ready:sum >= bool {ready}\n",
        ),
    ]


def rules(spec: Any, name: str, timing: Timing = PRODUCTION) -> str:
    """One shipped rule file (``recording.yml``, ``alerts.yml``, ``fleet.yml``) as rendered
    for ``spec``: thresholds from the spec, intervals from ``timing``."""
    text = _read(asset_dir("monitoring") / "prometheus" / "rules" / name)
    for file, shipped, wanted in _tunables(spec):
        if file != name:
            continue
        if text.count(shipped) != 1:
            raise IconctlError(f"monitoring/prometheus/rules/{name} no longer holds {shipped!r}")
        text = text.replace(shipped, wanted)
    # Group intervals follow the evaluation interval; the shipped files say 30s (PRODUCTION).
    text = re.sub(r"(?m)^(    interval: )\S+$", rf"\g<1>{timing.evaluation}", text)
    if timing.alert_for is not None:
        text = re.sub(r"(?m)^(        for: )\S+$", rf"\g<1>{timing.alert_for}", text)
    return text


# --- Prometheus --------------------------------------------------------------------------


def global_prometheus(
    spec: Any, timing: Timing = PRODUCTION, ports: HostPorts = HOST_PORTS
) -> dict[str, Any]:
    """The global Prometheus of the global region's host (127.0.0.1 only)."""
    return {
        "global": {
            "scrape_interval": timing.global_scrape,
            "evaluation_interval": timing.evaluation,
            "external_labels": {"deployment": spec.name, "prometheus": "global"},
        },
        "rule_files": ["rules/*.yml"],
        "alerting": {
            "alertmanagers": [
                {"static_configs": [{"targets": [f"127.0.0.1:{ports.alertmanager}"]}]}
            ]
        },
        "scrape_configs": [
            {
                "job_name": "federate",
                "honor_labels": True,
                "metrics_path": "/federate",
                "params": {"match[]": list(FEDERATE_MATCH)},
                "scrape_interval": timing.global_scrape,
                "scrape_timeout": timing.federate_timeout,
                # One file per federated region (federation_targets); Prometheus reloads
                # them on change.
                "file_sd_configs": [{"files": ["federation/*.json"]}],
            },
            {
                "job_name": "prometheus",
                "static_configs": [{"targets": [f"127.0.0.1:{ports.global_prometheus}"]}],
            },
        ],
    }


def prometheus_url(spec: Any, region: Any, ports: HostPorts = HOST_PORTS) -> str | None:
    """How the global region's host reaches ``region``'s Prometheus: its own at 127.0.0.1,
    another at the base URL of ``monitoring.federation``, None for a region without one
    (iconctl invents no address and creates no link between regions)."""
    if region.name == spec.monitoring_global_region():
        return f"http://127.0.0.1:{ports.prometheus}"
    url = spec.monitoring.federation.get(region.name)
    return str(url).rstrip("/") if url else None


def federation_targets(
    spec: Any, region: Any, ports: HostPorts = HOST_PORTS
) -> list[dict[str, Any]]:
    """The file_sd entry the global Prometheus federates ``region`` from; [] when the region
    has no address (not federated)."""
    url = prometheus_url(spec, region, ports)
    if url is None:
        return []
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    labels = {"region": region.name, "cloud": region.cloud, "flavour": region.flavour}
    if parts.scheme != "http":
        labels["__scheme__"] = parts.scheme
    return [{"targets": [f"{parts.hostname}:{port}"], "labels": labels}]


def scrape_targets(spec: Any) -> list[tuple[str, int, str]]:
    """(job, port, metrics path) for everything a node runs."""
    # goloop's /metrics shares a port with its admin API; the agent relays it instead.
    return [
        ("icon-agent", AGENT_PORT, METRICS_PATH),
        ("goloop", AGENT_PORT, "/node/metrics"),
        ("node", NODE_EXPORTER_PORT, "/metrics"),
        ("icon-edge", EDGE_EXPORTER_PORT, "/metrics"),
    ]


def regional_prometheus(
    spec: Any,
    region: Any,
    *,
    discovery: str = "cloud",
    timing: Timing = PRODUCTION,
    ports: HostPorts = HOST_PORTS,
) -> dict[str, Any]:
    """A region's Prometheus. ``discovery="file"`` swaps the cloud discovery for file-based
    discovery (``targets/<job>.json``) with the same labels: for machines without a cloud
    API (the local demo, tests). Each file entry carries the target's address and an
    ``__meta_iconctl_instance`` label that becomes ``instance``.
    """
    jobs = []
    for job, port, path in scrape_targets(spec):
        if discovery == "file":
            sd = _file_discovery(region, job, timing)
        elif discovery == "cloud":
            sd = _discovery(spec, region, port)
        else:
            raise InputError(f"unknown discovery {discovery!r} (cloud or file)")
        jobs.append({"job_name": job, "metrics_path": path, **sd})
    jobs.append(
        {
            "job_name": "prometheus",
            "static_configs": [{"targets": [f"127.0.0.1:{ports.prometheus}"]}],
        }
    )
    return {
        "global": {
            "scrape_interval": timing.regional_scrape,
            "evaluation_interval": timing.evaluation,
            "external_labels": {
                "deployment": spec.name,
                "region": region.name,
                "cloud": region.cloud,
            },
        },
        "rule_files": ["rules/*.yml"],
        "scrape_configs": jobs,
    }


def _fixed_labels(region: Any) -> list[dict[str, Any]]:
    return [
        {"target_label": "region", "replacement": region.name},
        {"target_label": "cloud", "replacement": region.cloud},
        {"target_label": "flavour", "replacement": region.flavour},
    ]


def _role(source_label: str) -> list[dict[str, Any]]:
    """Keep only iconctl's machines, and label each with its role (node or source)."""
    roles = "|".join(ROLES)
    return [
        {"source_labels": [source_label], "regex": roles, "action": "keep"},
        {"source_labels": [source_label], "target_label": "role"},
    ]


def file_targets(role: str, addresses: dict[str, str]) -> list[dict[str, Any]]:
    """The content of one ``targets/<job>.json`` for file discovery: instance -> HOST:PORT.

    The labels are the ones ``_file_discovery`` relabels into role and instance, as the cloud
    discovery does from tags.
    """
    if role not in ROLES:
        raise InputError(f"unknown role {role!r} ({' or '.join(ROLES)})")
    return [
        {
            "targets": [address],
            "labels": {"__meta_iconctl_instance": instance, "__meta_iconctl_role": role},
        }
        for instance, address in sorted(addresses.items())
    ]


def _target(address_label: str, instance_label: str, port: int) -> list[dict[str, Any]]:
    """Scrape ``<address>:<port>`` of each discovered machine, named by ``instance_label``."""
    return [
        {
            "source_labels": [address_label],
            "regex": "(.+)",
            "target_label": "__address__",
            "replacement": f"${{1}}:{port}",
        },
        {"source_labels": [instance_label], "target_label": "instance"},
    ]


def _file_discovery(region: Any, job: str, timing: Timing) -> dict[str, Any]:
    return {
        "file_sd_configs": [
            {"files": [f"targets/{job}.json"], "refresh_interval": timing.discovery_refresh}
        ],
        "relabel_configs": [
            *_role("__meta_iconctl_role"),
            {
                "source_labels": ["__meta_iconctl_instance"],
                "regex": "(.+)",
                "target_label": "instance",
            },
            *_fixed_labels(region),
        ],
    }


def _k8s_namespace(region: Any) -> str:
    k8s = getattr(region, "kubernetes", None)
    return str(getattr(k8s, "namespace", None) or "icon")


def _discovery(spec: Any, region: Any, port: int) -> dict[str, Any]:
    """The discovery block and relabelling for one port on the nodes of one region.

    Addresses are always the private ones; the target labels region, cloud, flavour, role
    and instance (the instance id or pod name, the same for every job on one machine, so
    series of different exporters join on it).
    """
    flavour = region.flavour
    fixed = _fixed_labels(region)
    if flavour == "k8s":
        return {
            # Only the node namespace: the Role in kubernetes/base/discovery.yaml grants
            # get/list/watch on pods there and nowhere else.
            "kubernetes_sd_configs": [
                {
                    "role": "pod",
                    "selectors": [{"role": "pod", "label": K8S_NODE_SELECTOR}],
                    "namespaces": {"names": [_k8s_namespace(region)]},
                }
            ],
            "relabel_configs": [
                {
                    "source_labels": ["__meta_kubernetes_pod_phase"],
                    "regex": "Running",
                    "action": "keep",
                },
                *_role("__meta_kubernetes_pod_label_iconctl_role"),
                *_target("__meta_kubernetes_pod_ip", "__meta_kubernetes_pod_name", port),
                {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
                *fixed,
            ],
        }
    if region.cloud == "aws":
        return {
            "ec2_sd_configs": [
                {
                    "region": region.name,
                    "port": port,
                    "refresh_interval": "60s",
                    "filters": [
                        {"name": f"tag:{NAME_TAG}", "values": [spec.name]},
                        {"name": f"tag:{ROLE_TAG}", "values": list(ROLES)},
                        {"name": "instance-state-name", "values": ["running"]},
                    ],
                }
            ],
            "relabel_configs": [
                *_role("__meta_ec2_tag_iconctl_role"),
                *_target("__meta_ec2_private_ip", "__meta_ec2_instance_id", port),
                {"source_labels": ["__meta_ec2_availability_zone"], "target_label": "zone"},
                *fixed,
            ],
        }
    if region.cloud == "gcp":
        project = getattr(getattr(spec, "gcp", None), "project", None)
        if not project:
            raise InputError(f"regions: region {region.name} is on gcp but gcp.project is not set")
        # The API filters by deployment; the role is checked by relabelling below.
        label_filter = f'(labels.{NAME_TAG} = "{spec.name}") AND (status = "RUNNING")'
        return {
            "gce_sd_configs": [
                {
                    "project": project,
                    "zone": f"{region.name}-{zone}",
                    "port": port,
                    "refresh_interval": "60s",
                    "filter": label_filter,
                }
                for zone in GCP_ZONES.get(region.name, ("a", "b", "c"))
            ],
            "relabel_configs": [
                *_role("__meta_gce_label_iconctl_role"),
                *_target("__meta_gce_private_ip", "__meta_gce_instance_name", port),
                {
                    "source_labels": ["__meta_gce_zone"],
                    "regex": ".*/zones/([^/]+)",
                    "target_label": "zone",
                },
                *fixed,
            ],
        }
    raise InputError(f"regions: region {region.name}: unsupported cloud {region.cloud!r}")


# --- Alertmanager ------------------------------------------------------------------------


def _alerts(spec: Any) -> Any:
    return getattr(getattr(spec, "monitoring", None), "alerts", None)


def secret_files(spec: Any, secrets_dir: str = SECRETS_DIR) -> list[dict[str, str]]:
    """Which file holds which secret, the spec reference that provides its content, and the
    controller variable the icon_monitoring role reads it from (``from_env``)."""
    alerts = _alerts(spec)
    entries = []
    if alerts is not None and getattr(alerts, "slack_webhook", None):
        entries.append(
            {
                "path": f"{secrets_dir}/{SLACK_FILE}",
                "ref": alerts.slack_webhook,
                "field": "monitoring.alerts.slack_webhook",
                "from_env": SECRET_ENV[SLACK_FILE],
            }
        )
    if alerts is not None and getattr(alerts, "telegram_bot_token", None):
        entries.append(
            {
                "path": f"{secrets_dir}/{TELEGRAM_FILE}",
                "ref": alerts.telegram_bot_token,
                "field": "monitoring.alerts.telegram_bot_token",
                "from_env": SECRET_ENV[TELEGRAM_FILE],
            }
        )
    return entries


def alertmanager(
    spec: Any, timing: Timing = PRODUCTION, *, secrets_dir: str = SECRETS_DIR
) -> dict[str, Any]:
    """Warnings to Slack; critical alerts to Slack and Telegram (whichever are configured)."""
    alerts = _alerts(spec)
    slack = []
    telegram = []
    if alerts is not None and getattr(alerts, "slack_webhook", None):
        slack = [
            {
                "send_resolved": True,
                "api_url_file": f"{secrets_dir}/{SLACK_FILE}",
                "title": '{{ template "iconctl.slack.title" . }}',
                "text": '{{ template "iconctl.slack.text" . }}',
                "color": '{{ template "iconctl.slack.color" . }}',
            }
        ]
    if alerts is not None and getattr(alerts, "telegram_bot_token", None):
        chat = int(alerts.telegram_chat_id)  # the spec allows digits with an optional '-'
        telegram = [
            {
                "send_resolved": True,
                # Alertmanager >= 0.26 reads the token from this file.
                "bot_token_file": f"{secrets_dir}/{TELEGRAM_FILE}",
                "chat_id": chat,
                "parse_mode": "HTML",
                "message": '{{ template "iconctl.telegram.message" . }}',
            }
        ]

    receivers: list[dict[str, Any]] = []
    routes: list[dict[str, Any]] = []
    if slack:
        receivers.append({"name": "slack", "slack_configs": slack})
    if telegram:
        critical: dict[str, Any] = {"name": "critical", "telegram_configs": telegram}
        if slack:
            critical = {"name": "critical", "slack_configs": slack, "telegram_configs": telegram}
        receivers.append(critical)
        routes.append({"receiver": "critical", "matchers": ['severity="critical"']})
    default = "slack" if slack else "none"
    if not slack:
        receivers.insert(0, {"name": "none"})

    return {
        "global": {"resolve_timeout": "5m"},
        "templates": ["templates/*.tmpl"],
        "route": {
            "receiver": default,
            "group_by": ["alertname", "region"],
            "group_wait": timing.group_wait,
            "group_interval": timing.group_interval,
            "repeat_interval": timing.repeat_interval,
            "routes": routes,
        },
        "inhibit_rules": [
            {  # a region without a ready node explains every node alert in it
                "source_matchers": ['alertname="IconRegionNoReadyNode"'],
                "target_matchers": [
                    'alertname=~"IconRegionDegraded|IconNodeNotReady|IconNodeDown'
                    '|IconEdgeErrorRatioHigh|IconNodeEdgeErrorRatioHigh"'
                ],
                "equal": ["region"],
            },
            {  # a node that is down is also not ready and not moving
                "source_matchers": ['alertname="IconNodeDown"'],
                "target_matchers": [
                    'alertname=~"IconNodeNotReady|IconNodeHeightStalled|IconNodeLagging'
                    '|IconNodeFewPeers"'
                ],
                "equal": ["region", "instance"],
            },
        ],
        "receivers": receivers,
    }


# --- Grafana -----------------------------------------------------------------------------


GRAFANA_DASHBOARDS_DIR = "/var/lib/grafana/dashboards/iconctl"


def _grafana(spec: Any, regions: Iterable[Any], ports: HostPorts = HOST_PORTS) -> dict[str, str]:
    """Grafana's provisioning and dashboards, keyed by path under the Grafana directory.

    The overview reads the global Prometheus; a region's dashboard reads that region's
    Prometheus as the global host reaches it (prometheus_url). A region without an address
    gets neither a data source nor a dashboard.
    """
    from iconctl.dashboards import overview_dashboard, region_dashboard

    datasources = [
        {
            "name": "Prometheus global",
            "uid": "prometheus-global",
            "type": "prometheus",
            "access": "proxy",
            "url": f"http://127.0.0.1:{ports.global_prometheus}",
            "isDefault": True,
        }
    ]
    reachable = [(r, prometheus_url(spec, r, ports)) for r in regions]
    reachable = [(r, url) for r, url in reachable if url is not None]
    for region, url in reachable:
        datasources.append(
            {
                "name": f"Prometheus {region.name}",
                "uid": f"prometheus-{region.name}",
                "type": "prometheus",
                "access": "proxy",
                "url": url,
            }
        )
    out = {
        "provisioning/datasources/prometheus.yml": _dump(
            {"apiVersion": 1, "datasources": datasources}, spec
        ),
        "provisioning/dashboards/iconctl.yml": _dump(
            {
                "apiVersion": 1,
                "providers": [
                    {
                        "name": "iconctl",
                        "folder": spec.name,
                        "type": "file",
                        "disableDeletion": True,
                        "allowUiUpdates": False,
                        "options": {"path": GRAFANA_DASHBOARDS_DIR},
                    }
                ],
            },
            spec,
        ),
        "dashboards/overview.json": _json(overview_dashboard()),
    }
    for region, _url in reachable:
        out[f"dashboards/region-{region.name}.json"] = _json(
            region_dashboard(region=region.name, datasource=f"prometheus-{region.name}")
        )
    return out


# --- logs: Elasticsearch cross-cluster search and a Kibana view over every region -------

ELASTALERT_PASSWORD_ENV = "ES_PASSWORD"  # noqa: S105 - the variable ElastAlert reads, no value


def kibana_data_views(spec: Any) -> list[dict[str, Any]]:
    """Bodies for Kibana's ``POST /api/data_views/data_view``: local plus every remote."""
    views = []
    for index in log_indices.INDICES:
        views.append(
            {
                "data_view": {
                    "id": f"{spec.name}-{index.key}-all-regions",
                    "name": f"{spec.name}: {index.title}, all regions",
                    "title": index.all_regions,
                    "timeFieldName": "@timestamp",
                },
                "override": True,
            }
        )
    return views


def elastalert_config(spec: Any) -> dict[str, Any]:
    """ElastAlert's global configuration, on the Elasticsearch the spec names.

    ElastAlert runs on the global monitoring host, beside the master Elasticsearch cluster's
    client and the fleet's Alertmanager; the password comes from ``ES_PASSWORD`` in its
    environment (``global/elastalert/secret-env.json`` names the spec reference).
    """
    config = yaml.safe_load(_read(asset_dir("logging") / "elastalert" / "config.yaml"))
    url = urllib.parse.urlsplit(spec.logging.elasticsearch_url)
    config["es_host"] = url.hostname
    config["es_port"] = url.port or 443
    config["use_ssl"] = url.scheme == "https"
    config["verify_certs"] = True
    config["es_username"] = spec.logging.elasticsearch_user
    prefix = url.path.strip("/")
    if prefix:
        config["es_url_prefix"] = prefix
    else:
        config.pop("es_url_prefix", None)
    return dict(config)


def elastalert_rule(name: str, text: str, ports: HostPorts = HOST_PORTS) -> dict[str, Any]:
    """A shipped rule as the global ElastAlert runs it: over every region's index (the master
    cluster searches the regions as remote clusters), alerting the Alertmanager beside it."""
    rule = yaml.safe_load(text)
    if not isinstance(rule, dict) or "index" not in rule:
        raise IconctlError(f"logging/elastalert/rules/{name} has no index")
    try:
        index = log_indices.by_pattern(rule["index"])
    except InputError as exc:
        raise IconctlError(f"logging/elastalert/rules/{name}: {exc}") from None
    rule["index"] = index.all_regions
    rule["alertmanager_hosts"] = [f"http://127.0.0.1:{ports.alertmanager}"]
    return dict(rule)


def _logs(spec: Any) -> dict[str, str]:
    return {"global/kibana/data-views.json": _json(kibana_data_views(spec))}


def _elastalert(spec: Any, ports: HostPorts = HOST_PORTS) -> dict[str, str]:
    """ElastAlert's files, keyed by path under its directory: only with Alertmanager, the
    one way its rules alert."""
    out = {
        "config.yaml": _dump(elastalert_config(spec), spec),
        "secret-env.json": _json(
            [
                {
                    "env": ELASTALERT_PASSWORD_ENV,
                    "ref": spec.logging.elasticsearch_password,
                    "field": "logging.elasticsearch_password",
                    "from_env": ELASTICSEARCH_PASSWORD_SOURCE_ENV,
                }
            ]
        ),
    }
    for path in sorted((asset_dir("logging") / "elastalert" / "rules").glob("*.yaml")):
        rule = elastalert_rule(path.name, _read(path), ports)
        out[f"rules/{path.name}"] = _dump(rule, spec)
    return out


# --- output ------------------------------------------------------------------------------


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no anchors/aliases even where two receivers share one config list."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(data: Any, spec: Any) -> str:
    header = f"# {HEADER}\n"
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)
    return header + body


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
