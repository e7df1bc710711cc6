# The regional managed instance group of serving nodes: an instance template from the baked
# image with local NVMe SSDs, rolling updates gated on the agent's /readyz, autohealing on its
# /healthz (liveness: a node restoring or catching up is not ready, but must not be
# recreated), and CPU-based autoscaling. The nodes' service account has no project-level role.

locals {
  image_mode = var.machine_image == null ? "container" : "baked"
  tag        = var.name

  # Where Google's proxy load balancers and health checkers connect from.
  google_lb_ranges = ["35.191.0.0/16", "130.211.0.0/22"]
}

module "user_data" {
  source = "../user-data"

  role                       = "node"
  image_mode                 = local.image_mode
  compose_env                = var.compose_env
  network                    = var.network
  node_image                 = var.node_image
  rpc_port                   = var.rpc_port
  p2p_port                   = var.p2p_port
  agent_port                 = var.agent_port
  proxy_port                 = var.backend_port
  data_disks                 = "/dev/disk/by-id/google-local-nvme-ssd-*"
  snapshot_store             = var.snapshot_store
  metrics_on_private_address = var.metrics_on_private_address || length(var.monitoring_cidrs) > 0
  # The managed group's instance group has the manager's name, so the source is known
  # before the group exists (the backend service itself depends on the group).
  region_health_source = var.region_health_backend_service == "" ? "" : "gcp:${var.project}/${var.region_health_backend_service}/${var.region}/${var.name}-nodes"
  region_min_ready     = var.min_ready_nodes
  boot_grace_seconds   = var.boot_grace_seconds
}

# /region/readyz: the agents read the backend service's health of this group
# (backendServices.getHealth needs compute.backendServices.get, and nothing else).
resource "google_project_iam_custom_role" "region_health" {
  count = var.region_health_backend_service == "" ? 0 : 1

  project     = var.project
  role_id     = "${substr(replace(var.name, "-", "_"), 0, 44)}_region_health"
  title       = "Region health ${var.name}"
  description = "Read the load balancer's health of the region's nodes, nothing else"
  permissions = ["compute.backendServices.get"]
}

resource "google_project_iam_member" "region_health" {
  count = var.region_health_backend_service == "" ? 0 : 1

  project = var.project
  role    = google_project_iam_custom_role.region_health[0].id
  member  = "serviceAccount:${google_service_account.this.email}"
}

resource "google_service_account" "this" {
  project      = var.project
  account_id   = var.service_account_id
  display_name = "ICON nodes ${var.name}"
}

resource "google_compute_health_check" "this" {
  project             = var.project
  name                = "${var.name}-readyz"
  check_interval_sec  = 10
  timeout_sec         = 5
  healthy_threshold   = 2
  unhealthy_threshold = 3

  http_health_check {
    port         = var.agent_port
    request_path = "/readyz"
    response     = "OK"
  }

  log_config {
    enable = false
  }
}

# Autohealing asks liveness, never readiness: the agent's /healthz answers OK while the node
# answers JSON-RPC (or, on a new node, during its boot grace: restoring and starting), so a
# node that is behind is taken out of the load balancer but not recreated.
resource "google_compute_health_check" "liveness" {
  project             = var.project
  name                = "${var.name}-healthz"
  check_interval_sec  = 10
  timeout_sec         = 5
  healthy_threshold   = 2
  unhealthy_threshold = 6

  http_health_check {
    port         = var.agent_port
    request_path = "/healthz"
    response     = "OK"
  }

  log_config {
    enable = false
  }
}

resource "google_compute_instance_template" "this" {
  #checkov:skip=CKV_GCP_40: ICON nodes need a public address: the p2p port must be reachable by other nodes
  project      = var.project
  name_prefix  = "${var.name}-"
  description  = "ICON node ${var.node_image}"
  machine_type = var.machine_type
  region       = var.region
  labels       = merge(var.labels, { "iconctl-role" = "node" })
  tags         = [local.tag]

  disk {
    source_image = coalesce(var.machine_image, "debian-cloud/debian-12")
    disk_type    = "pd-balanced"
    disk_size_gb = var.boot_disk_size_gb
    boot         = true
    auto_delete  = true
  }

  dynamic "disk" {
    for_each = range(var.local_ssd_count)

    content {
      type         = "SCRATCH"
      disk_type    = "local-ssd"
      disk_size_gb = 375
      interface    = "NVME"
    }
  }

  network_interface {
    subnetwork = var.subnetwork

    access_config {}
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
    automatic_restart   = true
    on_host_maintenance = "MIGRATE"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_compute_region_instance_group_manager" "this" {
  project                   = var.project
  name                      = "${var.name}-nodes"
  region                    = var.region
  base_instance_name        = local.tag
  distribution_policy_zones = var.zones

  version {
    instance_template = google_compute_instance_template.this.id
  }

  named_port {
    name = "proxy"
    port = var.backend_port
  }

  named_port {
    name = "agent"
    port = var.agent_port
  }

  # The API caps the initial delay at an hour; a longer boot grace is kept by the agent,
  # whose /healthz answers OK until the node first answers or the grace is over.
  auto_healing_policies {
    health_check      = google_compute_health_check.liveness.id
    initial_delay_sec = min(var.boot_grace_seconds, 3600)
  }

  # A new template replaces nodes one zone-width at a time, creating the new node first; an
  # old node goes only once its replacement passes /readyz.
  update_policy {
    type                           = "PROACTIVE"
    minimal_action                 = "REPLACE"
    most_disruptive_allowed_action = "REPLACE"
    instance_redistribution_type   = "PROACTIVE"
    replacement_method             = "SUBSTITUTE"
    max_surge_fixed                = length(var.zones)
    max_unavailable_fixed          = 0
  }

  lifecycle {
    precondition {
      condition     = var.max_size >= var.min_size
      error_message = "max_size must be at least min_size."
    }
  }
}

resource "google_compute_region_autoscaler" "this" {
  project = var.project
  name    = "${var.name}-nodes"
  region  = var.region
  target  = google_compute_region_instance_group_manager.this.id

  autoscaling_policy {
    min_replicas    = var.min_size
    max_replicas    = var.max_size
    cooldown_period = 300

    cpu_utilization {
      target = var.cpu_target
    }

    scale_in_control {
      time_window_sec = 1200

      max_scaled_in_replicas {
        fixed = 1
      }
    }
  }
}

module "firewall" {
  source = "../gcp-node-firewall"

  project          = var.project
  network          = var.vpc_network
  target_tag       = local.tag
  p2p_port         = var.p2p_port
  lb_source_ranges = local.google_lb_ranges
  lb_ports         = [var.backend_port, var.agent_port]
  # the agent has no rule of its own here: monitoring reaches it through the metrics rule
  monitoring_cidrs         = var.monitoring_cidrs
  exporter_ports           = concat([var.agent_port], var.exporter_ports)
  metrics_rule_description = "Agent, node and exporter metrics for Prometheus"
  ssh_cidrs                = var.ssh_cidrs
}

# The firewall rules before the shared module move into it (same names: nothing is replaced).
moved {
  from = google_compute_firewall.p2p
  to   = module.firewall.google_compute_firewall.p2p
}

moved {
  from = google_compute_firewall.from_lb
  to   = module.firewall.google_compute_firewall.from_lb[0]
}

moved {
  from = google_compute_firewall.monitoring
  to   = module.firewall.google_compute_firewall.metrics
}

moved {
  from = google_compute_firewall.ssh
  to   = module.firewall.google_compute_firewall.ssh
}
