# A region's private monitoring host on GCP: one instance with no external address, reached
# by operators and Ansible through Identity-Aware Proxy TCP forwarding only (SSH from Google's
# IAP range on port 22), running as the read-only discovery service account. Outbound traffic
# leaves through a Cloud NAT on the region's network. The nodes admit the host's network tag
# on the ports it scrapes; 9090 is admitted from federation_cidrs only, for federation.

locals {
  tag              = "${var.name}-monitoring"
  data_device_name = "monitoring-data"
  # The region stack creates its own gcp-monitoring-discovery identity under var.name (with
  # monitoring_cidrs), and service account and custom role ids are project-wide: the host's
  # gets a name of its own. At most 40 characters, so the module's role id (the name's first
  # 40) keeps the difference.
  discovery_name = length(var.name) <= 36 ? "${var.name}-mon" : "${trimsuffix(substr(var.name, 0, 31), "-")}-${substr(sha256(var.name), 0, 4)}"
  iap_v4         = "35.235.240.0/20" # Google's published IAP TCP forwarding range
}

module "discovery" {
  source = "../gcp-monitoring-discovery"

  name    = local.discovery_name
  project = var.project
}

resource "google_compute_disk" "data" {
  #checkov:skip=CKV_GCP_37: encrypted with Google-managed keys; customer-supplied keys would have to be handed to every restart
  project = var.project
  name    = "${local.tag}-data"
  zone    = var.zone
  type    = "pd-balanced"
  size    = var.volume_gib
  labels  = var.labels
}

resource "google_compute_instance" "this" {
  #checkov:skip=CKV_GCP_38: the boot disk is encrypted with Google-managed keys; customer-supplied keys would have to be handed to every restart
  project                   = var.project
  name                      = local.tag
  zone                      = var.zone
  machine_type              = var.machine_type
  labels                    = merge(var.labels, { "iconctl-role" = "monitoring" })
  tags                      = [local.tag]
  allow_stopping_for_update = true

  boot_disk {
    initialize_params {
      image = coalesce(var.machine_image, "debian-cloud/debian-12")
      size  = 16
      type  = "pd-balanced"
    }
  }

  attached_disk {
    source      = google_compute_disk.data.id
    device_name = local.data_device_name
  }

  # No access_config: no external address.
  network_interface {
    subnetwork = var.subnetwork
  }

  metadata = {
    enable-oslogin         = "TRUE"
    block-project-ssh-keys = "true"
    serial-port-enable     = "false"
  }

  service_account {
    email  = module.discovery.service_account_email
    scopes = ["cloud-platform"]
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  lifecycle {
    ignore_changes = [boot_disk[0].initialize_params[0].image]
  }
}

resource "google_compute_firewall" "iap_ssh" {
  project       = var.project
  name          = "${local.tag}-iap-ssh"
  network       = var.network
  direction     = "INGRESS"
  source_ranges = [local.iap_v4]
  target_tags   = [local.tag]

  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}

resource "google_compute_firewall" "federation" {
  count = length(var.federation_cidrs) > 0 ? 1 : 0

  project       = var.project
  name          = "${local.tag}-federation"
  network       = var.network
  direction     = "INGRESS"
  source_ranges = var.federation_cidrs
  target_tags   = [local.tag]

  allow {
    protocol = "tcp"
    ports    = [tostring(var.prometheus_port)]
  }
}

resource "google_compute_firewall" "scrape" {
  count = length(var.node_tags) > 0 ? 1 : 0

  project     = var.project
  name        = "${local.tag}-scrape"
  network     = var.network
  direction   = "INGRESS"
  source_tags = [local.tag]
  target_tags = var.node_tags

  allow {
    protocol = "tcp"
    ports    = [for port in var.scrape_ports : tostring(port)]
  }
}

resource "google_compute_router" "this" {
  count = var.create_nat ? 1 : 0

  project = var.project
  name    = local.tag
  region  = var.region
  network = var.network
}

resource "google_compute_router_nat" "this" {
  count = var.create_nat ? 1 : 0

  project                            = var.project
  name                               = local.tag
  router                             = google_compute_router.this[0].name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}
