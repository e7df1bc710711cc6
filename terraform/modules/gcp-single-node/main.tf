# One Compute Engine node with a static address: a citizen node serving JSON-RPC through its
# reverse proxy with a Let's Encrypt certificate, or (role = "source") the region's
# source-of-truth node taking snapshots. The node runs as its own service account, which
# has no project-level role; bucket access is granted on the bucket.

locals {
  tls_domain = var.public_rpc && var.tls_email != null && length(var.dns_names) > 0 ? var.dns_names[0] : null
  data_disks = var.local_ssd_count > 0 ? "/dev/disk/by-id/google-local-nvme-ssd-*" : (var.data_disk_size_gb > 0 ? "/dev/disk/by-id/google-icon-data" : "")
  tag        = var.name
}

module "user_data" {
  source = "../user-data"

  role                       = var.role
  image_mode                 = var.image_mode
  compose_env                = var.compose_env
  network                    = var.network
  node_image                 = var.node_image
  rpc_port                   = var.rpc_port
  p2p_port                   = var.p2p_port
  agent_port                 = var.agent_port
  data_disks                 = local.data_disks
  snapshot_store             = var.snapshot_store
  sync_interval_minutes      = var.sync_interval_minutes
  sync_keep                  = var.sync_keep
  tls_domain                 = local.tls_domain
  tls_email                  = local.tls_domain == null ? null : var.tls_email
  metrics_on_private_address = var.metrics_on_private_address || length(var.monitoring_cidrs) > 0
}

resource "google_service_account" "this" {
  project      = var.project
  account_id   = var.service_account_id
  display_name = "ICON ${var.role} ${var.name}"
}

resource "google_compute_address" "this" {
  project      = var.project
  name         = local.tag
  region       = join("-", slice(split("-", var.zone), 0, 2))
  address_type = "EXTERNAL"
}

resource "google_compute_disk" "data" {
  #checkov:skip=CKV_GCP_37: encrypted with Google-managed keys; customer-supplied keys would have to be handed over at every restart, which unattended nodes cannot do
  count = var.local_ssd_count == 0 && var.data_disk_size_gb > 0 ? 1 : 0

  project = var.project
  name    = "${local.tag}-data"
  zone    = var.zone
  type    = "pd-balanced"
  size    = var.data_disk_size_gb
  labels  = var.labels
}

resource "google_compute_instance" "this" {
  #checkov:skip=CKV_GCP_40: ICON nodes need a public address: the p2p port must be reachable by other nodes
  #checkov:skip=CKV_GCP_38: the boot disk is encrypted with Google-managed keys; customer-supplied keys would have to be handed to every restart
  project                   = var.project
  name                      = local.tag
  zone                      = var.zone
  machine_type              = var.machine_type
  labels                    = merge(var.labels, { "iconctl-role" = var.role })
  tags                      = [local.tag]
  allow_stopping_for_update = true

  boot_disk {
    initialize_params {
      image = coalesce(var.machine_image, "debian-cloud/debian-12")
      size  = var.boot_disk_size_gb
      type  = "pd-balanced"
    }
  }

  dynamic "scratch_disk" {
    for_each = range(var.local_ssd_count)

    content {
      interface = "NVME"
    }
  }

  dynamic "attached_disk" {
    for_each = google_compute_disk.data

    content {
      source      = attached_disk.value.id
      device_name = "icon-data"
    }
  }

  network_interface {
    subnetwork = var.subnetwork

    access_config {
      nat_ip = google_compute_address.this.address
    }
  }

  metadata = {
    user-data              = module.user_data.cloud_config
    enable-oslogin         = "TRUE"
    block-project-ssh-keys = "true"
    serial-port-enable     = "false"
  }

  service_account {
    email  = google_service_account.this.email
    scopes = ["cloud-platform"]
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  scheduling {
    on_host_maintenance = "MIGRATE"
    automatic_restart   = true
  }

  lifecycle {
    ignore_changes = [boot_disk[0].initialize_params[0].image]
  }
}

module "firewall" {
  source = "../gcp-node-firewall"

  project          = var.project
  network          = var.vpc_network
  target_tag       = local.tag
  p2p_port         = var.p2p_port
  public_ports     = var.public_rpc ? [80, 443] : []
  agent_port       = var.agent_port
  agent_cidrs      = concat(var.monitoring_cidrs, var.health_checker_cidrs)
  monitoring_cidrs = var.monitoring_cidrs
  exporter_ports   = var.exporter_ports
  ssh_cidrs        = var.ssh_cidrs
}

resource "google_dns_record_set" "this" {
  for_each = var.dns_managed_zone != "" ? toset(var.dns_names) : toset([])

  project      = var.project
  managed_zone = var.dns_managed_zone
  name         = "${each.value}."
  type         = "A"
  ttl          = 60
  rrdatas      = [google_compute_address.this.address]
}

# The firewall rules before the shared module move into it (same names: nothing is replaced).
moved {
  from = google_compute_firewall.p2p
  to   = module.firewall.google_compute_firewall.p2p
}

moved {
  from = google_compute_firewall.web
  to   = module.firewall.google_compute_firewall.web
}

moved {
  from = google_compute_firewall.agent
  to   = module.firewall.google_compute_firewall.agent
}

moved {
  from = google_compute_firewall.metrics
  to   = module.firewall.google_compute_firewall.metrics
}

moved {
  from = google_compute_firewall.ssh
  to   = module.firewall.google_compute_firewall.ssh
}
