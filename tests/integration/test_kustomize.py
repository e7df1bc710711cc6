"""Every rendered overlay builds with `kubectl kustomize`, every object passes the Kubernetes
schemas (strict: unknown fields fail), and checkov's Kubernetes checks are clean. Each
region's objects are its node overlay's plus its monitoring overlay's (the Prometheus
Operator objects, applied by the monitoring step), whose rules promtool checks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from iconctl.render import render
from iconctl.spec import parse_spec
from tests.helpers import need_module, need_tool

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
K8S_SPEC = (FIXTURES / "specs" / "kubernetes.yaml").read_text()
KUBERNETES_VERSION = "1.30.0"
VARIANTS = {
    "fixture": K8S_SPEC,
    "no-sync-no-logging": K8S_SPEC.replace(
        "sync:\n  enabled: true", "sync:\n  enabled: false"
    ).split("\nlogging:")[0]
    + "\n",
}


def _build(tmp_path: Path, text: str) -> dict[str, list[dict]]:
    """Render like a user does and kustomize every k8s overlay of the rendered tree."""
    need_tool("kubectl")
    out = tmp_path / "build"
    render(parse_spec(text, filename="spec.yaml"), out)
    built = {}
    for overlay in sorted(out.glob("*/k8s")):
        objects: list[dict] = []
        for root in (overlay, overlay / "monitoring"):
            if root.is_dir():
                objects += _kustomize(root)
        built[overlay.parent.name] = objects
    assert built
    return built


def _kustomize(root: Path) -> list[dict]:
    proc = subprocess.run(
        ["kubectl", "kustomize", str(root)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def built(request, tmp_path_factory):
    return _build(tmp_path_factory.mktemp(request.param), VARIANTS[request.param])


def _has_sync(objects: list[dict]) -> bool:
    node = _by_kind(objects)["StatefulSet/icon-node"]
    return bool(node["spec"]["template"]["spec"].get("initContainers"))


def _by_kind(objects: list[dict]) -> dict[str, dict]:
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in objects}


def test_every_object_passes_the_kubernetes_schemas(built):
    validator = need_module("kubernetes_validate")
    # no upstream schemas for custom resources: local ones for the fields we use
    custom = {
        kind: json.loads((FIXTURES / "schemas" / f"{kind.lower()}-v1.json").read_text())
        for kind in ("ServiceMonitor", "PrometheusRule")
    }
    for region, objects in built.items():
        names = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
        expected = [
            "ConfigMap/icon-node-env", "HorizontalPodAutoscaler/icon-node", "Ingress/icon-node",
            f"Namespace/{'icon-mainnet' if region == 'europe-west1' else 'icon'}",
            "NetworkPolicy/icon-node", "PodDisruptionBudget/icon-node",
            "Role/icon-prometheus-discovery", "RoleBinding/icon-prometheus-discovery",
            "Service/icon-node",
            "Service/icon-node-peers", "ServiceAccount/icon-node", "ServiceMonitor/icon-node",
            "PrometheusRule/icon-node-regional", "StatefulSet/icon-node",
        ]  # fmt: skip
        if _has_sync(objects):  # the source of truth exists only when snapshots are taken
            expected += ["ServiceAccount/icon-source", "StatefulSet/icon-source"]
        assert names == sorted(expected), region
        for obj in objects:
            if obj["kind"] in custom:
                jsonschema.validate(obj, custom[obj["kind"]])
                continue
            validator.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_can_fail(built):
    validator = need_module("kubernetes_validate")
    objects = _by_kind(next(iter(built.values())))
    broken = json.loads(json.dumps(objects["StatefulSet/icon-node"]))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/"
    with pytest.raises(validator.ValidationError):
        validator.validate(broken, KUBERNETES_VERSION, strict=True)


def test_namespaced_objects_land_in_the_region_namespace(built):
    for region, objects in built.items():
        expected = "icon-mainnet" if region == "europe-west1" else "icon"
        for obj in objects:
            if obj["kind"] != "Namespace":
                assert obj["metadata"]["namespace"] == expected, (region, obj["kind"])
            assert obj["metadata"]["labels"]["iconctl.io/region"] == region


def test_the_custom_resource_schemas_can_fail(built):
    rule = json.loads(json.dumps(_by_kind(built["us-east-1"])["PrometheusRule/icon-node-regional"]))
    rule["spec"]["groups"][0]["rules"][0]["recrod"] = rule["spec"]["groups"][0]["rules"][0].pop(
        "record"
    )
    schema = json.loads((FIXTURES / "schemas" / "prometheusrule-v1.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(rule, schema)


def test_the_prometheus_rule_passes_promtool(built, tmp_path):
    """The operator hands spec.groups to Prometheus as a rule file: promtool checks it so."""
    need_tool("promtool")
    for region, objects in built.items():
        rule = _by_kind(objects)["PrometheusRule/icon-node-regional"]
        path = tmp_path / f"{region}.yml"
        path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
        proc = subprocess.run(["promtool", "check", "rules", str(path)],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "SUCCESS" in proc.stdout + proc.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [
        {"record": "a:b", "expr": "sum(("}]}]}))  # fmt: skip
    proc = subprocess.run(["promtool", "check", "rules", str(broken)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode != 0


def test_without_monitoring_the_nodes_need_no_operator_crd(tmp_path):
    text = VARIANTS["fixture"] + "\nmonitoring:\n  prometheus: false\n"
    built = _build(tmp_path, text)
    for objects in built.values():
        assert not any(o["apiVersion"].startswith("monitoring.coreos.com/") for o in objects)
        assert "StatefulSet/icon-node" in _by_kind(objects)


def test_pods_restore_then_serve_with_the_agent_as_readiness(built, request):
    objects = _by_kind(built["us-east-1"])
    pod = objects["StatefulSet/icon-node"]["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    assert containers["node"]["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 9900}
    assert containers["agent"]["args"][:3] == ["agent", "--node", "http://127.0.0.1:9000/api/v3"]
    assert pod["automountServiceAccountToken"] is False
    data_mounts = [
        m for c in pod["containers"] + pod.get("initContainers", []) for m in c["volumeMounts"]
        if m["name"] == "data"
    ]  # fmt: skip
    # a sub-directory: lost+found of a fresh volume must not make the restore target non-empty
    assert data_mounts and all(m["subPath"] == "goloop-data" for m in data_mounts)
    init = pod.get("initContainers", [])
    if request.node.callspec.params["built"] == "no-sync-no-logging":
        assert init == []  # no snapshot store: nothing to restore from
        return
    # With sync on, every pod restores from the region's store before goloop starts.
    assert [c["name"] for c in init][:1] == ["restore"], init
    assert init[0]["args"] == [
        "sync", "restore", "--store", "$(ICONCTL_STORE)", "--data-dir", "/goloop/data"
    ]  # fmt: skip
    assert init[0]["env"][0]["value"].startswith("s3://icon-k8s-snapshots-us-east-1/")


def test_admin_and_metrics_stay_private(built):
    for objects in built.values():
        kinds = _by_kind(objects)
        ingress = kinds["Ingress/icon-node"]["spec"]
        paths = [p for rule in ingress["rules"] for p in rule["http"]["paths"]]
        assert [(p["path"], p["pathType"]) for p in paths] == [("/api/v3", "Prefix")] * len(paths)
        service = kinds["Service/icon-node"]["spec"]
        assert service["type"] == "ClusterIP"
        for rule in kinds["NetworkPolicy/icon-node"]["spec"]["ingress"]:
            ports = {p["port"] for p in rule["ports"]}
            if ports & {9000, 9900}:
                assert rule.get("from"), f"ports {ports} open to every source"


def test_checkov_kubernetes_checks_are_clean(built, tmp_path):
    need_tool("checkov")
    manifest = tmp_path / "all-regions.yaml"  # one run for every region: checkov starts slowly
    manifest.write_text(yaml.safe_dump_all([o for objects in built.values() for o in objects]))
    proc = subprocess.run(
        ["checkov", "-f", str(manifest), "--framework", "kubernetes", "--skip-download",
         "--quiet", "--compact", "-o", "json"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    report = json.loads(proc.stdout)
    summary = report["summary"]
    failed = [c["check_id"] for c in report.get("results", {}).get("failed_checks", [])]
    assert proc.returncode == 0 and summary["failed"] == 0, failed
    assert summary["passed"] > 100 and summary["parsing_errors"] == 0
    assert summary["resource_count"] >= sum(len(objects) for objects in built.values())


def test_metrics_carry_the_labels_the_fleet_rules_use(built):
    for region, objects in built.items():
        kinds = _by_kind(objects)
        pod_labels = kinds["StatefulSet/icon-node"]["spec"]["template"]["metadata"]["labels"]
        # the regional Prometheus's pod discovery keeps pods by these two labels
        assert pod_labels["app.kubernetes.io/name"] == "icon-node"
        assert pod_labels["iconctl-role"] == "node"
        endpoints = kinds["ServiceMonitor/icon-node"]["spec"]["endpoints"]
        jobs = {}
        for endpoint in endpoints:
            fixed = {r["targetLabel"]: r.get("replacement") for r in endpoint["relabelings"]}
            jobs[endpoint["port"]] = fixed["job"]
            assert fixed["region"] == region and fixed["flavour"] == "k8s"
            assert "role" in fixed and "instance" in fixed
        assert jobs == {"agent": "icon-agent", "rpc": "goloop"}


def test_the_source_of_truth_snapshots_only_when_in_sync_and_never_serves(built):
    for objects in built.values():
        kinds = _by_kind(objects)
        if "StatefulSet/icon-source" not in kinds:
            assert not _has_sync(objects)
            continue
        source = kinds["StatefulSet/icon-source"]["spec"]
        pod = source["template"]["spec"]
        assert source["replicas"] == 1 and pod["serviceAccountName"] == "icon-source"
        assert source["template"]["metadata"]["labels"]["iconctl-role"] == "source"
        snapshot = next(c for c in pod["containers"] if c["name"] == "snapshot")
        env = {e["name"]: e["value"] for e in snapshot["env"]}
        assert env["ICONCTL_STORE"].startswith("s3://") or env["ICONCTL_STORE"].startswith("gs://")
        script = snapshot["args"][0]
        assert script.index("iconctl status --agent") < script.index("iconctl sync snapshot")
        # serving objects select serving pods only
        for name in ("Service/icon-node", "StatefulSet/icon-node"):
            spec = kinds[name]["spec"]
            selector = spec["selector"].get("matchLabels", spec["selector"])
            assert selector["iconctl-role"] == "node", name
        hpa = kinds["HorizontalPodAutoscaler/icon-node"]["spec"]["scaleTargetRef"]
        assert hpa["name"] == "icon-node"
