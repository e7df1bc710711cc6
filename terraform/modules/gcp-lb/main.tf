# A proxy network load balancer terminating TLS with a Google-managed certificate and
# forwarding to the nodes' reverse proxy; backends count while /readyz answers OK. With
# health checkers configured, a second listener exposes the agent's /readyz to them only.

resource "google_compute_global_address" "this" {
  project = var.project
  name    = var.name
}

resource "google_compute_managed_ssl_certificate" "this" {
  project = var.project
  name    = "${var.name}-cert"

  managed {
    domains = distinct([var.domain, var.regional_hostname])
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_compute_ssl_policy" "this" {
  project         = var.project
  name            = "${var.name}-tls"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_backend_service" "rpc" {
  project               = var.project
  name                  = "${var.name}-rpc"
  protocol              = "TCP"
  port_name             = "proxy"
  load_balancing_scheme = "EXTERNAL"
  timeout_sec           = 3600
  health_checks         = [var.health_check_id]

  backend {
    group           = var.instance_group
    balancing_mode  = "UTILIZATION"
    max_utilization = 0.8
  }

  log_config {
    enable = true
  }
}

resource "google_compute_target_ssl_proxy" "this" {
  project          = var.project
  name             = var.name
  backend_service  = google_compute_backend_service.rpc.id
  ssl_certificates = [google_compute_managed_ssl_certificate.this.id]
  ssl_policy       = google_compute_ssl_policy.this.id
}

resource "google_compute_global_forwarding_rule" "tls" {
  project               = var.project
  name                  = "${var.name}-tls"
  ip_address            = google_compute_global_address.this.address
  port_range            = "443"
  target                = google_compute_target_ssl_proxy.this.id
  load_balancing_scheme = "EXTERNAL"
}

resource "google_compute_security_policy" "agent" {
  #checkov:skip=CKV_GCP_73: this policy guards a TCP proxy (no HTTP inspection): only source-address rules apply, and the agent behind it is not Java
  count = length(var.health_checker_cidrs) > 0 ? 1 : 0

  project     = var.project
  name        = "${var.name}-agent"
  description = "Only the global load balancer's health checkers reach the agent"

  # A rule matches at most 10 source ranges: one allow rule per 10 ranges.
  dynamic "rule" {
    for_each = chunklist(var.health_checker_cidrs, 10)

    content {
      action   = "allow"
      priority = 1000 + rule.key

      match {
        versioned_expr = "SRC_IPS_V1"

        config {
          src_ip_ranges = rule.value
        }
      }
    }
  }

  rule {
    action   = "deny(403)"
    priority = 2147483647

    match {
      versioned_expr = "SRC_IPS_V1"

      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}

resource "google_compute_backend_service" "agent" {
  count = length(var.health_checker_cidrs) > 0 ? 1 : 0

  project               = var.project
  name                  = "${var.name}-agent"
  protocol              = "TCP"
  port_name             = "agent"
  load_balancing_scheme = "EXTERNAL"
  health_checks         = [var.health_check_id]
  security_policy       = google_compute_security_policy.agent[0].id

  backend {
    group           = var.instance_group
    balancing_mode  = "UTILIZATION"
    max_utilization = 0.8
  }

  log_config {
    enable = true
  }
}

resource "google_compute_target_tcp_proxy" "agent" {
  count = length(var.health_checker_cidrs) > 0 ? 1 : 0

  project         = var.project
  name            = "${var.name}-agent"
  backend_service = google_compute_backend_service.agent[0].id
}

resource "google_compute_global_forwarding_rule" "agent" {
  count = length(var.health_checker_cidrs) > 0 ? 1 : 0

  project               = var.project
  name                  = "${var.name}-agent"
  ip_address            = google_compute_global_address.this.address
  port_range            = tostring(var.agent_port)
  target                = google_compute_target_tcp_proxy.agent[0].id
  load_balancing_scheme = "EXTERNAL"
}

resource "google_dns_record_set" "this" {
  for_each = var.dns_managed_zone != "" ? toset(var.publish_domain ? [var.regional_hostname, var.domain] : [var.regional_hostname]) : toset([])

  project      = var.project
  managed_zone = var.dns_managed_zone
  name         = "${each.value}."
  type         = "A"
  ttl          = 60
  rrdatas      = [google_compute_global_address.this.address]
}
