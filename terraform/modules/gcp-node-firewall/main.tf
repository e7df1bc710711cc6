# The firewall of an ICON node on GCP, single or in a managed group, by network tag: p2p open
# to everyone, the public ports a single node serves itself, the proxy and agent ports from
# Google's load balancers, the agent from listed ranges, goloop's /metrics and the exporters
# from the regional Prometheus only, SSH from operators only. The RPC port itself is never
# opened to anyone else. Every rule is named "<target_tag>-<what>".

resource "google_compute_firewall" "p2p" {
  project       = var.project
  name          = "${var.target_tag}-p2p"
  network       = var.network
  direction     = "INGRESS"
  description   = "ICON peer-to-peer"
  target_tags   = [var.target_tag]
  source_ranges = ["0.0.0.0/0"]

  allow {
    protocol = "tcp"
    ports    = [tostring(var.p2p_port)]
  }
}

resource "google_compute_firewall" "web" {
  #checkov:skip=CKV_GCP_106: port 80 answers the Let's Encrypt HTTP-01 challenge and redirects everything else to HTTPS
  count = length(var.public_ports) > 0 ? 1 : 0

  project       = var.project
  name          = "${var.target_tag}-web"
  network       = var.network
  direction     = "INGRESS"
  description   = "Public JSON-RPC through the reverse proxy (80 for the ACME challenge and redirect)"
  target_tags   = [var.target_tag]
  source_ranges = ["0.0.0.0/0"]

  allow {
    protocol = "tcp"
    ports    = [for port in var.public_ports : tostring(port)]
  }
}

resource "google_compute_firewall" "from_lb" {
  count = length(var.lb_ports) > 0 ? 1 : 0

  project       = var.project
  name          = "${var.target_tag}-lb"
  network       = var.network
  direction     = "INGRESS"
  description   = "Proxy traffic and /readyz health checks from Google's load balancers"
  target_tags   = [var.target_tag]
  source_ranges = var.lb_source_ranges

  allow {
    protocol = "tcp"
    ports    = [for port in var.lb_ports : tostring(port)]
  }
}

resource "google_compute_firewall" "agent" {
  count = length(var.agent_cidrs) > 0 ? 1 : 0

  project       = var.project
  name          = "${var.target_tag}-agent"
  network       = var.network
  direction     = "INGRESS"
  description   = "Agent health and metrics from monitoring and health checkers"
  target_tags   = [var.target_tag]
  source_ranges = distinct(var.agent_cidrs)

  allow {
    protocol = "tcp"
    ports    = [tostring(var.agent_port)]
  }
}

resource "google_compute_firewall" "metrics" {
  # goloop's /metrics on the RPC port and the exporters, from the regional Prometheus only.
  count = length(var.monitoring_cidrs) > 0 ? 1 : 0

  project       = var.project
  name          = "${var.target_tag}-metrics"
  network       = var.network
  direction     = "INGRESS"
  description   = var.metrics_rule_description
  target_tags   = [var.target_tag]
  source_ranges = var.monitoring_cidrs

  allow {
    protocol = "tcp"
    ports    = [for port in distinct(var.exporter_ports) : tostring(port)]
  }
}

resource "google_compute_firewall" "ssh" {
  count = length(var.ssh_cidrs) > 0 ? 1 : 0

  project       = var.project
  name          = "${var.target_tag}-ssh"
  network       = var.network
  direction     = "INGRESS"
  description   = "SSH from operators"
  target_tags   = [var.target_tag]
  source_ranges = var.ssh_cidrs

  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}
