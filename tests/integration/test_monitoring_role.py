"""The icon_monitoring role's logic for real, where it needs no root-owned host: ansible-playbook
on localhost evaluates the role's own variables on a rendered files/ tree, amtool checks what
Alertmanager would load. (The whole role runs in the e2e container, e2e/run.py.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from iconctl.render import monitoring
from tests.helpers import ROOT, need_tool
from tests.unit.test_render_monitoring import spec_from

pytestmark = pytest.mark.timeout(300)

ROLE = ROOT / "ansible" / "roles" / "icon_monitoring"
TOKEN = "123456:AAtest-token_with.odd\\chars"


def _files(tmp: Path) -> Path:
    """The global host's tree of the multi-region example (Slack and Telegram alerts set)."""
    spec = spec_from()
    region = next(r for r in spec.regions if r.name == spec.monitoring_global_region())
    root = tmp / "files"
    for rel, text in monitoring.host_files(spec, region).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _alertmanager_config(tmp: Path, files: Path, source: str) -> str:
    """What the role installs as alertmanager.yml: its variable, evaluated by ansible-playbook."""
    return _evaluate(tmp, files, "_icon_monitoring_alertmanager_config", source, {})


def _evaluate(tmp: Path, files: Path, variable: str, source: str, extra: dict) -> str:
    """One of the role's variables as ansible-playbook evaluates it on ``files``."""
    tools = need_tool("ansible-playbook")
    dest = tmp / f"{variable}-{source}.out"
    playbook = [
        {
            "name": "Evaluate the role's Alertmanager configuration",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars_files": [str(ROLE / "defaults" / "main.yml"), str(ROLE / "vars" / "main.yml")],
            "tasks": [
                {
                    "name": "Write it",
                    "ansible.builtin.copy": {
                        "content": "{{ " + variable + " }}",
                        "dest": str(dest),
                        "mode": "0600",
                    },
                    "no_log": True,
                }
            ],
        }
    ]
    inputs = {  # extra vars: above the role's defaults, which the play loads as vars_files
        "icon_monitoring_files_dir": str(files),
        "icon_monitoring_global": True,
        "icon_monitoring_alertmanager_source": source,
        "ansible_python_interpreter": sys.executable,
        **extra,
    }
    path = tmp / f"play-{variable}-{source}.yml"
    path.write_text(yaml.safe_dump(playbook, sort_keys=False))
    env = {
        **os.environ,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
        "ANSIBLE_HOME": str(tmp / "ansible-home"),
        "ICON_MONITORING_TELEGRAM_BOT_TOKEN": TOKEN,
        "ICON_MONITORING_SLACK_WEBHOOK_URL": "https://hooks.slack.invalid/services/T0",
    }
    result = subprocess.run(
        [tools["ansible-playbook"], "-i", "localhost,", "-e", json.dumps(inputs), str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "odd" not in result.stdout + result.stderr  # no_log: the token is not printed
    return dest.read_text()


def test_debian_alertmanager_gets_the_telegram_token_inline_and_amtool_accepts_it(tmp_path):
    tools = need_tool("amtool")
    files = _files(tmp_path)
    rendered = (files / "alertmanager" / "alertmanager.yml").read_text()
    assert "bot_token_file: /etc/icon-monitoring/secrets/telegram_bot_token" in rendered

    text = _alertmanager_config(tmp_path, files, "debian")
    assert "bot_token_file" not in text
    assert "\x01" not in text
    telegram = yaml.safe_load(text)["receivers"]
    configs = [c for r in telegram for c in r.get("telegram_configs", [])]
    assert configs and all(c["bot_token"] == TOKEN for c in configs)
    # everything else exactly as rendered
    assert text.replace(f"bot_token: {json.dumps(TOKEN)}", "") == rendered.replace(
        "bot_token_file: /etc/icon-monitoring/secrets/telegram_bot_token", ""
    )
    installed = tmp_path / "alertmanager.yml"
    installed.write_text(text)
    result = subprocess.run(
        [tools["amtool"], "check-config", str(installed)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_upstream_alertmanager_reads_the_token_from_its_file(tmp_path):
    files = _files(tmp_path)
    text = _alertmanager_config(tmp_path, files, "upstream")
    assert text == (files / "alertmanager" / "alertmanager.yml").read_text()


def test_every_daemon_keeps_its_data_under_the_data_volume_and_both_tsdbs_a_size_cap(tmp_path):
    files = _files(tmp_path)
    names = "_icon_monitoring_daemons_all | to_json"
    daemons = json.loads(
        _evaluate(tmp_path, files, names, "debian", {"icon_monitoring_retention_size": "7GB"})
    )
    data = [
        arg.split("=", 1)[1]
        for d in daemons
        for arg in d["args"]
        if arg.split("=", 1)[0]
        in ("--storage.tsdb.path", "--storage.path", "cfg:default.paths.data")
    ]
    assert len(data) == 4 and all(p.startswith("/var/lib/icon-monitoring/") for p in data), data
    sizes = [a for d in daemons for a in d["args"] if a.startswith("--storage.tsdb.retention.size")]
    assert sizes == ["--storage.tsdb.retention.size=7GB"] * 2
    (grafana,) = [d for d in daemons if d["name"] == "icon-grafana"]
    password = "/etc/icon-monitoring/secrets/grafana_admin_password"
    assert grafana["env"] == {"GF_SECURITY_ADMIN_PASSWORD__FILE": password}
    assert all(d["env"] == {} for d in daemons if d is not grafana)


def test_files_render_no_longer_writes_are_removed_from_the_host(tmp_path):
    """The role's own find/remove tasks, on a host tree made of the render plus stale files."""
    tools = need_tool("ansible-playbook")
    files = _files(tmp_path)
    etc, dashboards = tmp_path / "etc", tmp_path / "dashboards"
    installs = {
        "prometheus/rules": etc / "prometheus" / "rules",
        "global/prometheus/rules": etc / "global-prometheus" / "rules",
        "global/prometheus/federation": etc / "global-prometheus" / "federation",
        "grafana/dashboards": dashboards,
    }
    for rendered, host in installs.items():
        shutil.copytree(files / rendered, host)
    stale = [
        etc / "prometheus" / "rules" / "old.yml",
        etc / "global-prometheus" / "rules" / "gone.yml",
        etc / "global-prometheus" / "federation" / "dropped-region.json",
        dashboards / "region-dropped.json",
    ]
    for path in stale:
        path.write_text("{}\n")
    kept = sorted(p for host in installs.values() for p in host.iterdir() if p not in stale)
    (etc / "prometheus" / "rules" / "notes.txt").write_text("not a rule file\n")

    configure = yaml.safe_load((ROLE / "tasks" / "configure.yml").read_text())
    wanted = {"Find the installed files render may drop", "Remove the files no longer rendered"}
    tasks = [t for t in configure if t.get("name") in wanted]
    assert len(tasks) == 2
    handlers = ["Reload icon-prometheus", "Reload icon-prometheus-global", "Reload icon-grafana"]
    playbook = [
        {
            "name": "The role's pruning tasks",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars_files": [str(ROLE / "defaults" / "main.yml"), str(ROLE / "vars" / "main.yml")],
            "tasks": tasks,
            "handlers": [
                {"name": h, "ansible.builtin.debug": {"msg": f"handled {h}"}} for h in handlers
            ],
        }
    ]
    path = tmp_path / "prune.yml"
    path.write_text(yaml.safe_dump(playbook, sort_keys=False))
    inputs = {
        "icon_monitoring_files_dir": str(files),
        "icon_monitoring_global": True,
        "_icon_monitoring_etc": str(etc),
        "_icon_monitoring_grafana_dashboards": str(dashboards),
        "ansible_python_interpreter": sys.executable,
    }
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOME": str(tmp_path / "ansible-home")}
    runs = [
        subprocess.run(
            [tools["ansible-playbook"], "-i", "localhost,", "-e", json.dumps(inputs), str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=240,
        )
        for _ in range(2)
    ]
    first, second = runs
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    assert not [p for p in stale if p.exists()]
    assert kept and all(p.exists() for p in kept)
    assert (etc / "prometheus" / "rules" / "notes.txt").exists()
    for handler in handlers:
        assert f"handled {handler}" in first.stdout, handler
    assert second.returncode == 0 and "changed=0" in second.stdout, second.stdout[-3000:]
    assert "handled" not in second.stdout
