"""Render the edge's nginx.conf from edge/nginx.conf.j2 with the icon_edge role's defaults.

The role renders the same template with Ansible; the tests, the benchmark and the
compose-flavoured copies under edge/ use this plain-Jinja2 rendering of it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
import yaml

ROOT = Path(__file__).resolve().parents[2]
EDGE_DIR = ROOT / "edge"
DEFAULTS = ROOT / "ansible" / "roles" / "icon_edge" / "defaults" / "main.yml"

# The compose edge service (official nginx image, which ships njs): files mounted under
# /etc/nginx, the node reached by its service name.
COMPOSE = {
    "_icon_edge_render": {
        "upstream": "node:9000",
        "ws_gateway": "gateway:9081",
        "http_port": 8080,
        "https_port": 8443,
        "listen_address": "",
        "user": "nginx",
        "js_module": "modules/ngx_http_js_module.so",
        "pid": "/var/run/nginx.pid",
        "conf_dir": "/etc/nginx",
        "njs_dir": "/etc/nginx/njs",
        "access_log": "/var/log/icon-edge/access.log",
        "error_log": "/var/log/icon-edge/error.log",
        "temp_dir": "",
        "tls": "",
    }
}
COMPOSE_TLS = {"_icon_edge_render": {**COMPOSE["_icon_edge_render"], "tls": "on"}}
# The generated files under edge/ and the values they are rendered with.
GENERATED = {"nginx.conf": COMPOSE, "nginx-tls.conf": COMPOSE_TLS}


def defaults() -> dict:
    return yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))


def render(**overrides) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(EDGE_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
    )
    return env.get_template("nginx.conf.j2").render(**{**defaults(), **overrides})


def loopback_config(workdir: Path, *, port: int, upstream: str, **overrides) -> Path:
    """A config for an unprivileged nginx on 127.0.0.1:port with every path under workdir."""
    for sub in ("logs", "tmp"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(EDGE_DIR / "icon_proxy_params.conf", workdir / "icon_proxy_params.conf")
    values = {
        "icon_edge_upstream": upstream,
        "icon_edge_listen_address": "127.0.0.1:",
        "icon_edge_http_port": port,
        "icon_edge_user": "",
        "icon_edge_worker_processes": 1,
        "icon_edge_conf_dir": str(workdir),
        "icon_edge_njs_dir": str(EDGE_DIR),
        "icon_edge_pid": str(workdir / "nginx.pid"),
        "icon_edge_access_log": str(workdir / "logs" / "access.log"),
        "icon_edge_error_log": str(workdir / "logs" / "error.log"),
        "icon_edge_temp_dir": str(workdir / "tmp"),
        **overrides,
    }
    conf = workdir / "nginx.conf"
    conf.write_text(render(**values), encoding="utf-8")
    return conf
