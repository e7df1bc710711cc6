"""Prometheus and Alertmanager configuration for the fleet.

Secrets never appear here: Alertmanager reads the Slack webhook and the Telegram token from
files (``*_file`` settings) that the deployment writes from environment variables.
"""

from __future__ import annotations

from typing import Any

from iconctl.render.common import to_yaml
from iconctl.spec import Spec

SECRETS_DIR = "/etc/alertmanager/secrets"


def files(spec: Spec) -> dict[str, str]:
    if not spec.monitoring.prometheus:
        return {}
    return {
        "global/prometheus/prometheus.yml": to_yaml(prometheus(spec)),
        "global/alertmanager/alertmanager.yml": to_yaml(alertmanager(spec)),
    }


def prometheus(spec: Spec) -> dict[str, Any]:
    scrape: list[dict[str, Any]] = []
    for job, port_note in (("icon-agent", "agent"), ("goloop", "node")):
        scrape.append(
            {
                "job_name": job,
                "file_sd_configs": [
                    {
                        "files": [
                            f"targets/{region.name}/{port_note}.json" for region in spec.regions
                        ]
                    }
                ],
            }
        )
    return {
        "global": {
            "scrape_interval": "15s",
            "evaluation_interval": "15s",
            "external_labels": {"deployment": spec.name, "network": spec.network},
        },
        "rule_files": ["rules/*.yml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:9093"]}]}]},
        "scrape_configs": scrape,
    }


def alertmanager(spec: Spec) -> dict[str, Any]:
    alerts = spec.monitoring.alerts
    receiver: dict[str, Any] = {"name": "operators"}
    if alerts.slack_webhook:
        receiver["slack_configs"] = [
            {"api_url_file": f"{SECRETS_DIR}/slack_webhook", "send_resolved": True}
        ]
    if alerts.telegram_bot_token and alerts.telegram_chat_id:
        receiver["telegram_configs"] = [
            {
                "bot_token_file": f"{SECRETS_DIR}/telegram_bot_token",
                "chat_id": int(alerts.telegram_chat_id),
                "send_resolved": True,
            }
        ]
    return {
        "route": {
            "receiver": "operators",
            "group_by": ["alertname", "region"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
        },
        "receivers": [receiver],
    }
