"""Kubernetes inputs: a kustomize overlay per k8s region over the shipped base.

The base (kubernetes/base/ among the shipped assets, see iconctl/assets.py)
holds the objects and their logic and is copied verbatim into the output, so the rendered
tree builds on its own; an overlay only sets what the spec decides: namespace, images,
sizes, storage, hostnames, readiness rules, the snapshot store, and which namespaces may
reach the private ports. Values files for the Prometheus Operator (kube-prometheus-stack) and
the log shipper (fluent-bit) sit beside each overlay. No secret value appears: the
Elasticsearch password is read from a Secret at run time.

With ``monitoring.prometheus`` each overlay has a second one, ``<region>/k8s/monitoring/``,
over the shipped kubernetes/monitoring/: the ServiceMonitor and the regional recording rules
as a PrometheusRule. They need the operator's CRDs, so they are applied apart from the nodes
(the k8s-region unit's monitoring step, after the chart in ``PROMETHEUS_CHART``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from iconctl import log_indices
from iconctl.assets import asset_dir
from iconctl.endpoints import AGENT_PORT
from iconctl.render import monitoring
from iconctl.render.common import region_hostname, region_labels, store_url, to_yaml
from iconctl.spec import SERVICE_NAMES, Region, Spec

# The bases are copied to <out>/kubernetes/{base,monitoring}/, the overlays to
# <out>/<region>/k8s/ and <out>/<region>/k8s/monitoring/.
BASE_DIR = "kubernetes/base"
BASE = "../../" + BASE_DIR
MONITORING_BASE_DIR = "kubernetes/monitoring"
MONITORING_OVERLAY = "monitoring"  # below <region>/k8s/
PROMETHEUS_VALUES = "values/kube-prometheus-stack.yaml"  # below <region>/k8s/
# The Prometheus Operator's CRDs the monitoring overlay's objects need.
OPERATOR_CRDS = ("servicemonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com")
# What the PrometheusRule holds: the recording rules every regional Prometheus evaluates.
K8S_RULES = monitoring.REGIONAL_RULES
BASE_NODE_IMAGE = "iconloop/icon2-node"
BASE_ICONCTL_IMAGE = "ghcr.io/icon-community/iconctl"
LOCAL_STORAGE_CLASS = "local-nvme"
# Workload identity endpoints (GKE metadata server, also at .252 with Dataplane V2; EKS Pod
# Identity agent): restores and snapshots get their cloud credentials there.
IDENTITY_ENDPOINTS = ("169.254.169.254/32", "169.254.169.252/32", "169.254.170.23/32")
ELASTICSEARCH_SECRET = "elasticsearch-credentials"  # noqa: S105 - a Secret's name, key: password


@dataclass(frozen=True)
class Chart:
    """A Helm chart, pinned: the release iconctl installs it as, from which repository."""

    release: str
    name: str
    repo: str
    version: str


# The operator stack the values and the ServiceMonitor's `release` label target.
PROMETHEUS_CHART = Chart(
    release="kube-prometheus-stack",
    name="kube-prometheus-stack",
    repo="https://prometheus-community.github.io/helm-charts",
    version="72.9.1",
)


def files(spec: Spec) -> dict[str, str]:
    out: dict[str, str] = {}
    regions = [region for region in spec.regions if region.flavour == "k8s"]
    bases = [BASE_DIR, MONITORING_BASE_DIR] if spec.monitoring.prometheus else [BASE_DIR]
    for base in bases if regions else []:
        for path in sorted(asset_dir(base).glob("*.yaml")):
            out[f"{base}/{path.name}"] = path.read_text(encoding="utf-8")
    for region in regions:
        root = f"{region.name}/k8s"
        out[f"{root}/kustomization.yaml"] = to_yaml(kustomization(spec, region))
        out[f"{root}/namespace.yaml"] = to_yaml(namespace(spec, region))
        for name, patch in patches(spec, region).items():
            out[f"{root}/patches/{name}.yaml"] = to_yaml(patch)
        if spec.monitoring.prometheus:
            out[f"{root}/{PROMETHEUS_VALUES}"] = to_yaml(prometheus_values(spec, region))
            overlay = f"{root}/{MONITORING_OVERLAY}"
            out[f"{overlay}/kustomization.yaml"] = to_yaml(monitoring_kustomization(spec, region))
            out[f"{overlay}/servicemonitor.yaml"] = to_yaml(servicemonitor_patch(region))
            out[f"{overlay}/prometheusrule.yaml"] = to_yaml(prometheus_rule(spec))
        if spec.logging is not None:
            out[f"{root}/values/fluent-bit.yaml"] = to_yaml(fluent_bit_values(spec, region))
    return out


def image_entry(base_name: str, reference: str) -> dict[str, str]:
    """A kustomize `images` entry replacing ``base_name`` with ``reference`` (tag and/or digest)."""
    entry = {"name": base_name}
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        entry["newTag"] = tag
    entry["newName"] = name
    if digest:
        entry["digest"] = digest
    return entry


def _labels(spec: Spec, region: Region) -> dict[str, str]:
    return {f"iconctl.io/{key}": value for key, value in region_labels(spec, region).items()}


def kustomization(spec: Spec, region: Region) -> dict[str, Any]:
    patch_names = patches(spec, region)
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": region.k8s.namespace,
        "resources": ["namespace.yaml", BASE],
        "labels": [{"pairs": _labels(spec, region), "includeSelectors": False}],
        "images": [
            image_entry(BASE_NODE_IMAGE, spec.node.image),
            image_entry(BASE_ICONCTL_IMAGE, region.k8s.iconctl_image or spec.node.iconctl_image),
        ],
        "patches": [{"path": f"patches/{name}.yaml"} for name in patch_names],
    }


def namespace(spec: Spec, region: Region) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": region.k8s.namespace,
            "labels": {
                # every pod here must meet the restricted Pod Security Standard
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
            },
        },
    }


def patches(spec: Spec, region: Region) -> dict[str, dict[str, Any]]:
    out = {
        "configmap": configmap_patch(spec),
        "statefulset": statefulset_patch(spec, region),
        "source": source_patch(spec, region),
        "ingress": ingress_patch(spec, region),
        "horizontalpodautoscaler": hpa_patch(region),
        "networkpolicy": networkpolicy_patch(spec, region),
        "discovery": discovery_patch(region),
    }
    if store_url(spec, region) is None:  # no snapshots: no source of truth either
        out["source-serviceaccount"] = _delete("v1", "ServiceAccount", "icon-source")
    k8s = region.kubernetes
    for account, identity in (
        ("icon-node", k8s.node_identity if k8s else None),
        ("icon-source", k8s.source_identity if k8s else None),
    ):
        if identity and not (account == "icon-source" and store_url(spec, region) is None):
            out[f"{account}-identity"] = _identity(account, region.cloud, identity)
    return out


# Where EKS (IRSA) and GKE (Workload Identity) read a ServiceAccount's cloud identity.
IDENTITY_ANNOTATIONS = {
    "aws": "eks.amazonaws.com/role-arn",
    "gcp": "iam.gke.io/gcp-service-account",
}


def _identity(account: str, cloud: str, identity: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": account, "annotations": {IDENTITY_ANNOTATIONS[cloud]: identity}},
    }


def discovery_patch(region: Region) -> dict[str, Any]:
    """Bind the pod-discovery Role to Prometheus in the region's monitoring namespace."""
    k8s = region.kubernetes
    namespace = k8s.monitoring_namespace if k8s else "monitoring"
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "icon-prometheus-discovery"},
        "subjects": [{"kind": "ServiceAccount", "name": "prometheus", "namespace": namespace}],
    }


def _delete(api_version: str, kind: str, name: str) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "$patch": "delete"}


def _object(api_version: str, kind: str, spec: dict[str, Any], name: str = "icon-node") -> dict:
    """A patch of (or an object beside) the base's ``kind``/``name`` with this ``spec``."""
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": spec}


def _claim(region: Region) -> dict[str, Any]:
    """The data volume of one pod: the region's size on the storage the spec chose."""
    k8s = region.k8s
    claim: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{region.data_volume_gib}Gi"}},
    }
    storage_class = k8s.storage_class or (LOCAL_STORAGE_CLASS if k8s.storage == "local" else None)
    if storage_class:
        claim["storageClassName"] = storage_class
    return {"metadata": {"name": "data"}, "spec": claim}


def source_patch(spec: Spec, region: Region) -> dict[str, Any]:
    store = store_url(spec, region)
    if store is None:
        return _delete("apps/v1", "StatefulSet", "icon-source")
    env = {
        "ICONCTL_STORE": store,
        "ICONCTL_ADMIN_URL": f"http://127.0.0.1:{spec.node.rpc_port}",
        "ICONCTL_SNAPSHOT_INTERVAL_MINUTES": str(spec.sync.interval_minutes),
        "ICONCTL_SNAPSHOT_KEEP": str(spec.sync.keep),
    }
    return _object(
        "apps/v1",
        "StatefulSet",
        name="icon-source",
        spec={
            "template": {
                "spec": {
                    "containers": [
                        {"name": "node", "ports": _node_ports(spec)},
                        {"name": "agent", "args": agent_args(spec)},
                        {
                            "name": "snapshot",
                            "env": [{"name": k, "value": v} for k, v in env.items()],
                        },
                    ]
                }
            },
            "volumeClaimTemplates": [_claim(region)],
        },
    )


def _node_ports(spec: Spec) -> list[dict[str, Any]]:
    return [
        {"name": "rpc", "containerPort": spec.node.rpc_port, "protocol": "TCP"},
        {"name": "p2p", "containerPort": spec.node.p2p_port, "protocol": "TCP"},
    ]


def configmap_patch(spec: Spec) -> dict[str, Any]:
    data = {
        "SERVICE": SERVICE_NAMES[spec.network],
        "ROLE": "0",
        "GOLOOP_RPC_ADDR": f":{spec.node.rpc_port}",
        "GOLOOP_P2P_LISTEN": f":{spec.node.p2p_port}",
        "wsMaxSession": str(spec.node.ws_max_sessions),
        "rpcBatchLimit": str(spec.node.rpc_batch_limit),
    }
    if spec.node.seeds:
        data["SEEDS"] = ",".join(spec.node.seeds)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "icon-node-env"},
            "data": data}  # fmt: skip


def agent_args(spec: Spec) -> list[str]:
    args = ["agent", "--node", f"http://127.0.0.1:{spec.node.rpc_port}/api/v3",
            "--listen", f"0.0.0.0:{AGENT_PORT}",
            "--max-lag-blocks", str(spec.health.max_lag_blocks),
            "--max-block-age", str(spec.health.max_block_age_seconds)]  # fmt: skip
    for reference in spec.references:
        args += ["--reference", reference]
    return args


def statefulset_patch(spec: Spec, region: Region) -> dict[str, Any]:
    k8s = region.k8s
    store = store_url(spec, region)
    init: dict[str, Any]
    if store is None:
        init = {"name": "restore", "$patch": "delete"}
    else:
        init = {"name": "restore", "env": [{"name": "ICONCTL_STORE", "value": store}]}
    pod: dict[str, Any] = {
        "initContainers": [init],
        "containers": [
            {"name": "node", "ports": _node_ports(spec)},
            {"name": "agent", "args": agent_args(spec)},
        ],
    }
    if k8s.storage == "local":
        # a local volume pins its pod to one host: never two nodes' volumes on one host
        pod["affinity"] = {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "icon-node"}},
                    }
                ]
            }
        }
    return _object(
        "apps/v1",
        "StatefulSet",
        spec={
            "replicas": region.nodes_min,
            "template": {"spec": pod},
            "volumeClaimTemplates": [_claim(region)],
        },
    )


def ingress_patch(spec: Spec, region: Region) -> dict[str, Any]:
    k8s = region.k8s
    host = region_hostname(spec, region)
    hosts = [host] if host == spec.domain else [spec.domain, host]
    path = {
        "path": "/api/v3",
        "pathType": "Prefix",
        "backend": {"service": {"name": "icon-node", "port": {"name": "rpc"}}},
    }
    ingress_spec: dict[str, Any] = {
        "ingressClassName": k8s.ingress_class,
        "rules": [{"host": h, "http": {"paths": [path]}} for h in hosts],
    }
    metadata: dict[str, Any] = {"name": "icon-node"}
    if k8s.cluster_issuer:
        metadata["annotations"] = {"cert-manager.io/cluster-issuer": k8s.cluster_issuer}
        ingress_spec["tls"] = [{"hosts": hosts, "secretName": "icon-node-tls"}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata,
            "spec": ingress_spec}  # fmt: skip


def hpa_patch(region: Region) -> dict[str, Any]:
    return _object(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        spec={
            "minReplicas": region.nodes_min,
            "maxReplicas": region.nodes_max,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": region.k8s.target_cpu_percent,
                        },
                    },
                }
            ],
        },
    )


def networkpolicy_patch(spec: Spec, region: Region) -> dict[str, Any]:
    k8s = region.k8s
    rpc, p2p = spec.node.rpc_port, spec.node.p2p_port

    def from_namespace(name: str) -> dict[str, Any]:
        return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}

    def tcp(*ports: int) -> list[dict[str, Any]]:
        return [{"port": port, "protocol": "TCP"} for port in ports]

    return _object(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        spec={
            "ingress": [
                {"from": [from_namespace(k8s.ingress_namespace)], "ports": tcp(rpc)},
                {"from": [from_namespace(k8s.monitoring_namespace)], "ports": tcp(rpc, AGENT_PORT)},
                {"ports": tcp(p2p)},
            ],
            "egress": [
                {"ports": [{"port": 53, "protocol": "UDP"}, *tcp(53, 443, p2p)]},
                {
                    "to": [{"ipBlock": {"cidr": cidr}} for cidr in IDENTITY_ENDPOINTS],
                    "ports": tcp(80, 988),
                },
            ],
        },
    )


def servicemonitor_patch(region: Region) -> dict[str, Any]:
    """The base's endpoints plus the region labels the monitoring rules aggregate by."""

    def endpoint(port: str, job: str, interval: str) -> dict[str, Any]:
        return {
            "port": port,
            "path": "/metrics",
            "interval": interval,
            "relabelings": [
                {"targetLabel": "job", "replacement": job},
                {"sourceLabels": ["__meta_kubernetes_pod_name"], "targetLabel": "instance"},
                {"sourceLabels": ["__meta_kubernetes_pod_label_iconctl_role"],
                 "targetLabel": "role"},
                {"targetLabel": "region", "replacement": region.name},
                {"targetLabel": "cloud", "replacement": region.cloud},
                {"targetLabel": "flavour", "replacement": region.flavour},
            ],
        }  # fmt: skip

    return _object(
        "monitoring.coreos.com/v1",
        "ServiceMonitor",
        spec={
            "endpoints": [endpoint("agent", "icon-agent", "15s"), endpoint("rpc", "goloop", "30s")]
        },
    )


def monitoring_kustomization(spec: Spec, region: Region) -> dict[str, Any]:
    """The monitoring overlay: the shipped ServiceMonitor with the region's labels, and the
    rules, in the node namespace (where the values' selectors look for them)."""
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": region.k8s.namespace,
        "resources": ["../../../" + MONITORING_BASE_DIR, "prometheusrule.yaml"],
        "labels": [{"pairs": _labels(spec, region), "includeSelectors": False}],
        "patches": [{"path": "servicemonitor.yaml"}],
    }


def prometheus_rule(spec: Spec) -> dict[str, Any]:
    """The regional recording rules (those of a VM region's Prometheus) for the operator."""
    groups: list[Any] = []
    for name in K8S_RULES:
        groups += yaml.safe_load(monitoring.rules(spec, name))["groups"]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "icon-node-regional",
            "labels": {"release": PROMETHEUS_CHART.release},
        },
        "spec": {"groups": groups},
    }


def prometheus_values(spec: Spec, region: Region) -> dict[str, Any]:
    """kube-prometheus-stack values for the region's cluster Prometheus: it selects the
    ServiceMonitor and PrometheusRule of the node namespace (by the release label)."""
    release = {"matchLabels": {"release": PROMETHEUS_CHART.release}}
    node_namespace = {"matchLabels": {"kubernetes.io/metadata.name": region.k8s.namespace}}
    return {
        "prometheus": {
            "prometheusSpec": {
                "externalLabels": {
                    "deployment": spec.name,
                    "network": spec.network,
                    "region": region.name,
                },
                "retention": f"{spec.monitoring.retention_days}d",
                "serviceMonitorSelector": release,
                "serviceMonitorNamespaceSelector": node_namespace,
                "ruleSelector": release,
                "ruleNamespaceSelector": node_namespace,
            }
        },
        # the fleet's Alertmanager and Grafana are global; each region only collects
        "alertmanager": {"enabled": False},
        "grafana": {"enabled": False},
    }


# goloop's line: L|YYYYMMDD-HH:MM:SS.micro|node|channel|module|file:line message (the same
# grammar as logging/vector.yaml's node_parsed, in fluent-bit's Onigmo syntax).
GOLOOP_LINE = (
    r"^(?<level>[TDIWEFP])\|(?<time>\d{8}-\d{2}:\d{2}:\d{2}\.\d+)\|(?<node>[^|]*)\|"
    r"(?<channel>[^|]*)\|(?<module>[^|]*)\|(?<caller>\S+)\s+(?<message>.*)$"
)


def _section(name: str, *settings: tuple[str, str]) -> str:
    return "\n".join([f"[{name}]", *(f"    {key} {value}" for key, value in settings)])


def fluent_bit_values(spec: Spec, region: Region) -> dict[str, Any]:
    """fluent-bit chart values: node container logs to Elasticsearch, password from a Secret.

    The documents look like the ones Vector ships from compose and VM nodes: goloop's line
    parsed into level (spelt out), channel, module, caller and message, the region added, in
    the daily node index (iconctl.log_indices) that the ElastAlert rules and Kibana read.
    """
    assert spec.logging is not None
    host_port = spec.logging.elasticsearch_url.removeprefix("https://").split("/", 1)[0]
    host, _, port = host_port.partition(":")
    match = ("Match", "kube.*")
    tail = _section(
        "INPUT",
        ("Name", "tail"),
        ("Path", f"/var/log/containers/icon-node-*_{region.k8s.namespace}_*.log"),
        ("multiline.parser", "docker, cri"),
        ("Tag", "kube.*"),
        ("Mem_Buf_Limit", "50MB"),
    )
    filters = [
        _section(
            "FILTER",
            ("Name", "parser"),
            match,
            ("Key_Name", "log"),
            ("Parser", "goloop"),
            ("Reserve_Data", "On"),
        ),
        *(
            _section(
                "FILTER",
                ("Name", "modify"),
                match,
                ("Condition", f"Key_value_equals level {letter}"),
                ("Set", f"level {word}"),
            )
            for letter, word in log_indices.GOLOOP_LEVELS.items()
        ),
        _section(  # a line that is not goloop's (an entrypoint's echo): kept whole
            "FILTER",
            ("Name", "modify"),
            match,
            ("Condition", "Key_does_not_exist level"),
            ("Rename", "log message"),
            ("Add", "level unknown"),
        ),
        _section(
            "FILTER",
            ("Name", "modify"),
            match,
            ("Add", f"region {region.name}"),
            ("Add", "source goloop"),
        ),
    ]
    output = _section(
        "OUTPUT",
        ("Name", "es"),
        match,
        ("Host", host),
        ("Port", port or "443"),
        ("tls", "On"),
        ("tls.verify", "On"),
        ("HTTP_User", spec.logging.elasticsearch_user),
        ("HTTP_Passwd", "${ELASTICSEARCH_PASSWORD}"),
        ("Logstash_Format", "On"),
        ("Logstash_Prefix", log_indices.NODE.prefix),
        ("Logstash_DateFormat", log_indices.DATE_FORMAT),
        ("Suppress_Type_Name", "On"),
    )
    parser = _section(
        "PARSER",
        ("Name", "goloop"),
        ("Format", "regex"),
        ("Regex", GOLOOP_LINE),
        ("Time_Key", "time"),
        ("Time_Format", "%Y%m%d-%H:%M:%S.%L"),
    )
    return {
        "env": [
            {
                "name": "ELASTICSEARCH_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": ELASTICSEARCH_SECRET, "key": "password"}},
            }
        ],
        "config": {
            "inputs": tail + "\n",
            "filters": "\n\n".join(filters) + "\n",
            "outputs": output + "\n",
            "customParsers": parser + "\n",
        },
    }
