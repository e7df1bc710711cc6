# One GCP region of a fleet: serving nodes in a regional managed instance group behind a
# TLS proxy load balancer, a source-of-truth node outside the group taking snapshots, and
# the region's snapshot bucket that every new node restores from.

module "health_checkers" {
  source = "../../modules/health-checker-ranges"

  behind_global_lb = startswith(var.domain, "${var.region}.")
  override         = var.health_checker_cidrs
}

module "naming" {
  source = "../../modules/naming"

  name            = var.name
  region          = var.region
  domain          = var.domain
  snapshot_bucket = var.snapshot_bucket
  tags            = var.tags
}

module "zones" {
  source = "../../modules/gcp-zones"

  region = var.region
}

locals {
  sync            = var.snapshot_bucket != ""
  snapshot_store  = local.sync ? "gs://${var.snapshot_bucket}/${var.network}" : ""
  service_domain  = trimprefix(var.domain, "${var.region}.")
  local_ssd_count = try([for count in [1, 2, 4, 8, 16, 24] : count if count * 375 >= var.data_volume_gib * 1.074][0], 24)
}

module "network" {
  source = "../../modules/gcp-network"

  name    = module.naming.gcp_prefix
  project = var.gcp_project
  region  = var.region
}

module "source_node" {
  source = "../../modules/gcp-source-node"
  count  = local.sync ? 1 : 0

  name                  = "${module.naming.gcp_prefix}-src"
  service_account_id    = module.naming.source_service_account_id
  project               = var.gcp_project
  zone                  = module.zones.zones[0]
  network               = var.network
  node_image            = var.node_image
  machine_image         = var.image_id
  compose_env           = var.source_env
  machine_type          = var.instance_type
  vpc_network           = module.network.network
  subnetwork            = module.network.subnetwork
  local_ssd_count       = local.local_ssd_count
  rpc_port              = var.rpc_port
  p2p_port              = var.p2p_port
  agent_port            = var.agent_port
  snapshot_store        = local.snapshot_store
  sync_interval_minutes = var.sync_interval_minutes
  sync_keep             = var.sync_keep
  ssh_cidrs             = var.ssh_cidrs
  monitoring_cidrs      = var.monitoring_cidrs
  labels                = module.naming.labels

  # Scraped by the region's monitoring host (admitted by group or tag, not by range).
  metrics_on_private_address = var.monitoring_host
}

module "nodes" {
  source = "../../modules/gcp-mig"

  name               = module.naming.gcp_prefix
  service_account_id = module.naming.service_account_id
  project            = var.gcp_project
  region             = var.region
  zones              = module.zones.zones
  network            = var.network
  node_image         = var.node_image
  machine_image      = var.image_id
  compose_env        = var.node_env
  machine_type       = var.instance_type
  vpc_network        = module.network.network
  subnetwork         = module.network.subnetwork
  min_size           = var.min_size
  max_size           = var.max_size
  local_ssd_count    = local.local_ssd_count
  rpc_port           = var.rpc_port
  p2p_port           = var.p2p_port
  agent_port         = var.agent_port
  snapshot_store     = local.snapshot_store
  ssh_cidrs          = var.ssh_cidrs
  monitoring_cidrs   = var.monitoring_cidrs
  boot_grace_seconds = var.boot_grace_seconds
  labels             = module.naming.labels

  # Behind the global load balancer, its monitor asks /region/readyz through the agent
  # listener: the agents count the instances the RPC backend service (gcp-lb: <name>-rpc)
  # considers healthy. Named, not referenced: the backend service depends on this group.
  region_health_backend_service = length(module.health_checkers.cidrs) > 0 ? "${module.naming.gcp_prefix}-rpc" : ""
  min_ready_nodes               = var.min_ready_nodes

  # Scraped by the region's monitoring host (admitted by group or tag, not by range).
  metrics_on_private_address = var.monitoring_host
}

module "snapshots" {
  source = "../../modules/gcp-snapshot-bucket"
  count  = local.sync ? 1 : 0

  project       = var.gcp_project
  bucket        = var.snapshot_bucket
  location      = var.region
  force_destroy = !var.protect
  writers       = { source = module.source_node[0].service_account_email }
  readers       = { nodes = module.nodes.service_account_email }
  labels        = module.naming.labels
}

module "lb" {
  source = "../../modules/gcp-lb"

  name                 = module.naming.gcp_prefix
  project              = var.gcp_project
  instance_group       = module.nodes.instance_group
  health_check_id      = module.nodes.health_check_id
  domain               = var.domain
  regional_hostname    = var.domain
  dns_managed_zone     = var.dns_managed_zone
  agent_port           = var.agent_port
  health_checker_cidrs = module.health_checkers.cidrs
}

check "min_ready_nodes_fit" {
  assert {
    condition     = var.min_ready_nodes >= 1 && var.min_ready_nodes <= var.min_size
    error_message = "min_ready_nodes must be between 1 and min_size, or the region can never count as healthy."
  }
}

# The regional Prometheus' identity: compute.instances.list only, created when a monitoring
# range is given (the Prometheus instance itself is not part of this stack).
module "monitoring_discovery" {
  source = "../../modules/gcp-monitoring-discovery"
  count  = length(var.monitoring_cidrs) > 0 ? 1 : 0

  name    = module.naming.gcp_prefix
  project = var.gcp_project
}
