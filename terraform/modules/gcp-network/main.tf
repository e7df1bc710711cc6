# A custom-mode VPC network with one regional subnetwork (GCP subnetworks span all zones of
# a region), or an existing network passed through.

locals {
  create = var.network == null
}

resource "google_compute_network" "this" {
  count = local.create ? 1 : 0

  project                 = var.project
  name                    = var.name
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "this" {
  count = local.create ? 1 : 0

  project                  = var.project
  name                     = var.name
  region                   = var.region
  network                  = google_compute_network.this[0].id
  ip_cidr_range            = var.cidr_block
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.1
    metadata             = "EXCLUDE_ALL_METADATA"
  }
}

# Explicit default deny for inbound traffic (with logging); the node modules open only the
# ports they serve, with higher priority.
resource "google_compute_firewall" "deny_ingress" {
  count = local.create ? 1 : 0

  project       = var.project
  name          = "${var.name}-deny-ingress"
  network       = google_compute_network.this[0].id
  direction     = "INGRESS"
  priority      = 65534
  source_ranges = ["0.0.0.0/0"]

  deny {
    protocol = "all"
  }

  log_config {
    metadata = "EXCLUDE_ALL_METADATA"
  }
}

check "existing_network_needs_a_subnetwork" {
  assert {
    condition     = local.create || var.subnetwork != null
    error_message = "subnetwork is required when network is given."
  }
}
