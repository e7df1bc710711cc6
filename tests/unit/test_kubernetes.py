"""The Kubernetes renderer: one overlay per k8s region, values from the spec, no secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from iconctl.errors import SpecError
from iconctl.render import render_files
from iconctl.render.kubernetes import image_entry
from iconctl.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "specs"
K8S_SPEC = (FIXTURES / "kubernetes.yaml").read_text()


def _files(text: str = K8S_SPEC) -> dict[str, str]:
    return render_files(parse_spec(text, filename="spec.yaml"))


def _load(files: dict[str, str], path: str):
    return yaml.safe_load(files[path])


def test_only_k8s_regions_get_overlays_and_the_base_comes_along():
    files = _files()
    k8s = sorted({p.split("/")[0] for p in files if "/k8s/" in p})
    assert k8s == ["europe-west1", "us-east-1"]
    shipped = {
        f"kubernetes/{base}/{p.name}": p.read_text()
        for base in ("base", "monitoring")
        for p in (ROOT / "kubernetes" / base).glob("*.yaml")
    }
    assert {p: c for p, c in files.items() if p.startswith("kubernetes/")} == shipped
    for example in ("multi-region", "single-node"):
        rendered = render_files(load_spec(FIXTURES / f"{example}.yaml"))
        assert not any("/k8s/" in p or p.startswith("kubernetes/") for p in rendered)


def test_overlay_wires_base_namespace_images_and_patches():
    files = _files()
    kust = _load(files, "europe-west1/k8s/kustomization.yaml")
    assert kust["namespace"] == "icon-mainnet"
    assert kust["resources"] == ["namespace.yaml", "../../kubernetes/base"]
    assert {"name": "iconloop/icon2-node", "newName": "iconloop/icon2-node",
            "newTag": "v1.4.4"} in kust["images"]  # fmt: skip
    for patch in kust["patches"]:
        assert f"europe-west1/k8s/{patch['path']}" in files
    namespace = _load(files, "europe-west1/k8s/namespace.yaml")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_statefulset_patch_carries_store_sizes_storage_and_readiness_rules():
    files = _files()
    us = _load(files, "us-east-1/k8s/patches/statefulset.yaml")["spec"]
    pod = us["template"]["spec"]
    restore = pod["initContainers"][0]
    assert restore["env"] == [
        {"name": "ICONCTL_STORE", "value": "s3://icon-k8s-snapshots-us-east-1/mainnet"}
    ]
    claim = us["volumeClaimTemplates"][0]["spec"]
    assert claim["storageClassName"] == "local-nvme"
    assert claim["resources"]["requests"]["storage"] == "2500Gi"
    assert "requiredDuringSchedulingIgnoredDuringExecution" in pod["affinity"]["podAntiAffinity"]
    agent = next(c for c in pod["containers"] if c["name"] == "agent")
    assert agent["args"][agent["args"].index("--max-lag-blocks") + 1] == "30"
    assert agent["args"].count("--reference") == 2
    eu = _load(files, "europe-west1/k8s/patches/statefulset.yaml")["spec"]
    assert eu["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "premium-rwo"
    assert "affinity" not in eu["template"]["spec"]


def test_without_sync_the_restore_and_the_source_of_truth_are_deleted():
    text = K8S_SPEC.replace("sync:\n  enabled: true", "sync:\n  enabled: false")
    files = _files(text)
    patch = _load(files, "us-east-1/k8s/patches/statefulset.yaml")
    assert patch["spec"]["template"]["spec"]["initContainers"] == [
        {"name": "restore", "$patch": "delete"}
    ]
    for name, kind in (("source", "StatefulSet"), ("source-serviceaccount", "ServiceAccount")):
        deleted = _load(files, f"us-east-1/k8s/patches/{name}.yaml")
        assert (deleted["kind"], deleted["metadata"]["name"], deleted["$patch"]) == (
            kind,
            "icon-source",
            "delete",
        )


def test_the_source_of_truth_snapshots_to_the_region_store():
    files = _files()
    assert "us-east-1/k8s/patches/source-serviceaccount.yaml" not in files
    source = _load(files, "us-east-1/k8s/patches/source.yaml")["spec"]
    containers = {c["name"]: c for c in source["template"]["spec"]["containers"]}
    env = {e["name"]: e["value"] for e in containers["snapshot"]["env"]}
    assert env == {
        "ICONCTL_STORE": "s3://icon-k8s-snapshots-us-east-1/mainnet",
        "ICONCTL_ADMIN_URL": "http://127.0.0.1:9000",
        "ICONCTL_SNAPSHOT_INTERVAL_MINUTES": "60",
        "ICONCTL_SNAPSHOT_KEEP": "24",
    }
    assert source["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "local-nvme"


def test_hpa_ingress_and_networkpolicy_follow_the_spec():
    files = _files()
    hpa = _load(files, "us-east-1/k8s/patches/horizontalpodautoscaler.yaml")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 8)
    ingress = _load(files, "us-east-1/k8s/patches/ingress.yaml")
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
    assert hosts == ["api.example.org", "us-east-1.api.example.org"]
    assert {p["path"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]} == {"/api/v3"}
    eu_ingress = _load(files, "europe-west1/k8s/patches/ingress.yaml")
    assert "tls" not in eu_ingress["spec"] and "annotations" not in eu_ingress["metadata"]
    policy = _load(files, "us-east-1/k8s/patches/networkpolicy.yaml")["spec"]["ingress"]
    by_port = {
        port["port"]: [f["namespaceSelector"]["matchLabels"] for f in rule.get("from", [])]
        for rule in policy
        for port in rule["ports"]
        if port["port"] != 9000
    }
    assert by_port[9900] == [{"kubernetes.io/metadata.name": "monitoring"}]
    assert by_port[7100] == []  # p2p is open to peers
    rpc_sources = [r["from"] for r in policy if {"port": 9000, "protocol": "TCP"} in r["ports"]]
    assert all(sources for sources in rpc_sources), "the RPC/admin port must never be open to all"
    egress = _load(files, "us-east-1/k8s/patches/networkpolicy.yaml")["spec"]["egress"]
    identity = [rule for rule in egress if "to" in rule]
    assert [b["ipBlock"]["cidr"] for b in identity[0]["to"]] == [
        "169.254.169.254/32", "169.254.169.252/32", "169.254.170.23/32"
    ]  # fmt: skip
    assert all("to" in rule or {p["port"] for p in rule["ports"]} <= {53, 443, 7100}
               for rule in egress)  # fmt: skip


def test_logging_values_reference_the_password_secret_never_its_value(monkeypatch):
    monkeypatch.setenv("ELASTICSEARCH_PASSWORD", "s3cr3t-value-never-rendered")
    files = _files()
    values = _load(files, "us-east-1/k8s/values/fluent-bit.yaml")
    assert values["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "elasticsearch-credentials"
    assert "Host logs.example.org" in values["config"]["outputs"]
    assert "Port 9200" in values["config"]["outputs"]
    assert not any("s3cr3t" in content for content in files.values())
    prometheus = _load(files, "us-east-1/k8s/values/kube-prometheus-stack.yaml")
    assert prometheus["prometheus"]["prometheusSpec"]["externalLabels"]["region"] == "us-east-1"


@pytest.mark.parametrize(
    ("reference", "entry"),
    [
        ("iconloop/icon2-node:v1.4.2", {"newName": "iconloop/icon2-node", "newTag": "v1.4.2"}),
        ("registry:5000/icon/node", {"newName": "registry:5000/icon/node"}),
        ("registry:5000/icon/node:v1", {"newName": "registry:5000/icon/node", "newTag": "v1"}),
        (
            "iconloop/icon2-node:v1.4.2@sha256:" + "a" * 64,
            {"newName": "iconloop/icon2-node", "newTag": "v1.4.2", "digest": "sha256:" + "a" * 64},
        ),
    ],
)
def test_image_entry(reference, entry):
    assert image_entry("base", reference) == {"name": "base", **entry}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("    flavour: k8s\n    instance_type: n2", "    flavour: asg\n    instance_type: n2"),
            "regions[1].kubernetes: only applies to flavour k8s",
        ),
        (("storage: pvc", "storage: nfs"), "regions[1].kubernetes.storage"),
        (("namespace: icon-mainnet", "namespace: Icon_Mainnet"), "is not a DNS label"),
        (("    max_size: 8\n", "    max_size: 1\n"), "min_size (2) is larger than max_size (1)"),
    ],
)
def test_invalid_k8s_regions(change, message):
    old, new = change
    assert old in K8S_SPEC
    with pytest.raises(SpecError) as caught:
        parse_spec(K8S_SPEC.replace(old, new), filename="spec.yaml")
    assert message in str(caught.value)


def test_workload_identities_annotate_the_service_accounts() -> None:
    from iconctl.render.kubernetes import IDENTITY_ANNOTATIONS, patches
    from iconctl.spec import load_spec

    spec = load_spec(Path(__file__).resolve().parents[1] / "fixtures" / "specs" / "kubernetes.yaml")
    east, west = spec.regions
    east_patches, west_patches = patches(spec, east), patches(spec, west)
    node = east_patches["icon-node-identity"]["metadata"]
    assert node["name"] == "icon-node"
    assert node["annotations"] == {
        IDENTITY_ANNOTATIONS["aws"]: "arn:aws:iam::123456789012:role/icon-k8s-node-us-east-1"
    }
    assert "icon-source-identity" in east_patches
    gke = west_patches["icon-node-identity"]["metadata"]["annotations"]
    assert gke == {
        "iam.gke.io/gcp-service-account": "icon-k8s-node@my-icon-project.iam.gserviceaccount.com"
    }
    assert "icon-source-identity" not in west_patches  # no source identity given there


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("node_identity: arn:aws:iam::123456789012:role/icon-k8s-node-us-east-1",
         "node_identity: icon-k8s-node@my-icon-project.iam.gserviceaccount.com",
         "regions[0].kubernetes.node_identity: not an IAM role ARN"),
        ("node_identity: icon-k8s-node@my-icon-project.iam.gserviceaccount.com",
         "node_identity: arn:aws:iam::123456789012:role/x",
         "regions[1].kubernetes.node_identity: not a Google service account email"),
    ],
)  # fmt: skip
def test_identity_must_fit_the_regions_cloud(old: str, new: str, message: str) -> None:
    from iconctl.errors import SpecError
    from iconctl.spec import parse_spec

    text = (
        Path(__file__).resolve().parents[1] / "fixtures" / "specs" / "kubernetes.yaml"
    ).read_text()
    assert old in text
    with pytest.raises(SpecError) as caught:
        parse_spec(text.replace(old, new), filename="k.yaml")
    assert any(message in line for line in caught.value.lines()), caught.value.lines()


def test_pod_discovery_is_read_only_and_namespaced() -> None:
    from iconctl.render import monitoring

    base = yaml.safe_load_all(
        (Path(__file__).resolve().parents[2] / "kubernetes" / "base" / "discovery.yaml").read_text()
    )
    role = next(doc for doc in base if doc["kind"] == "Role")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
    ]
    spec = load_spec(FIXTURES / "kubernetes.yaml")
    west = spec.regions[1]
    files = _files()
    binding = yaml.safe_load(files["europe-west1/k8s/patches/discovery.yaml"])
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "prometheus", "namespace": "monitoring"}
    ]
    job = next(
        j
        for j in monitoring.regional_prometheus(spec, west)["scrape_configs"]
        if j["job_name"] == "icon-agent"
    )
    assert job["kubernetes_sd_configs"][0]["namespaces"] == {"names": ["icon-mainnet"]}


def test_monitoring_overlay_holds_the_operator_objects_apart_from_the_nodes():
    """The ServiceMonitor and the rules need the operator's CRDs: they are in their own
    overlay (applied by the monitoring step), never in the nodes' overlay."""
    files = _files()
    base = _load(files, "kubernetes/base/kustomization.yaml")
    assert "servicemonitor.yaml" not in base["resources"]
    kust = _load(files, "europe-west1/k8s/monitoring/kustomization.yaml")
    assert kust["namespace"] == "icon-mainnet"
    assert kust["resources"] == ["../../../kubernetes/monitoring", "prometheusrule.yaml"]
    assert kust["patches"] == [{"path": "servicemonitor.yaml"}]
    assert {"iconctl.io/region": "europe-west1"}.items() <= kust["labels"][0]["pairs"].items()
    monitor = _load(files, "europe-west1/k8s/monitoring/servicemonitor.yaml")
    fixed = {r["targetLabel"]: r.get("replacement")
             for r in monitor["spec"]["endpoints"][0]["relabelings"]}  # fmt: skip
    assert (fixed["region"], fixed["cloud"], fixed["flavour"]) == ("europe-west1", "gcp", "k8s")


def test_prometheus_rule_carries_the_regional_recordings_for_the_release():
    files = _files()
    rule = _load(files, "us-east-1/k8s/monitoring/prometheusrule.yaml")
    assert rule["kind"] == "PrometheusRule"
    assert rule["metadata"]["labels"] == {"release": "kube-prometheus-stack"}
    shipped = yaml.safe_load((ROOT / "monitoring" / "prometheus" / "rules" / "recording.yml")
                             .read_text())  # fmt: skip
    assert [g["name"] for g in rule["spec"]["groups"]] == [g["name"] for g in shipped["groups"]]
    recorded = {r["record"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert "region:icon_nodes_ready:sum" in recorded
    values = _load(files, "us-east-1/k8s/values/kube-prometheus-stack.yaml")["prometheus"]
    spec = values["prometheusSpec"]
    assert spec["ruleSelector"] == {"matchLabels": rule["metadata"]["labels"]}
    assert (
        spec["ruleNamespaceSelector"]
        == spec["serviceMonitorNamespaceSelector"]
        == {"matchLabels": {"kubernetes.io/metadata.name": "icon"}}
    )
    assert spec["retention"] == "30d"  # monitoring.retention_days' default


def test_retention_follows_the_spec():
    files = _files(K8S_SPEC + "\nmonitoring:\n  retention_days: 90\n")
    values = _load(files, "us-east-1/k8s/values/kube-prometheus-stack.yaml")
    assert values["prometheus"]["prometheusSpec"]["retention"] == "90d"


def test_prometheus_false_renders_no_operator_objects_or_values():
    files = _files(K8S_SPEC + "\nmonitoring:\n  prometheus: false\n")
    assert "us-east-1/k8s/kustomization.yaml" in files
    assert not any("/k8s/monitoring/" in p or "kube-prometheus-stack" in p for p in files)
    assert not any(p.startswith("kubernetes/monitoring/") for p in files)
