# One node in one GCP region serving the hostname itself, TLS by certbot on the node. With
# sync enabled the node is also the region's source of truth and snapshots to the region's
# bucket.

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

  region     = var.region
  zone_count = 1
}

locals {
  sync           = var.snapshot_bucket != ""
  snapshot_store = local.sync ? "gs://${var.snapshot_bucket}/${var.network}" : ""
  # Local NVMe SSDs come in 375 GB units and fixed counts; the smallest count that holds the chain.
  local_ssd_count = try([for count in [1, 2, 4, 8, 16, 24] : count if count * 375 >= var.data_volume_gib * 1.074][0], 24)
}

module "network" {
  source = "../../modules/gcp-network"

  name    = module.naming.gcp_prefix
  project = var.gcp_project
  region  = var.region
}

module "node" {
  source = "../../modules/gcp-single-node"

  name                  = module.naming.gcp_prefix
  service_account_id    = module.naming.service_account_id
  project               = var.gcp_project
  zone                  = module.zones.zones[0]
  role                  = local.sync ? "source" : "node"
  network               = var.network
  node_image            = var.node_image
  machine_image         = var.image_id
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
  tls_email             = var.tls_email
  dns_managed_zone      = var.dns_managed_zone
  dns_names             = [var.domain]
  ssh_cidrs             = var.ssh_cidrs
  monitoring_cidrs      = var.monitoring_cidrs
  health_checker_cidrs  = module.health_checkers.cidrs
  labels                = module.naming.labels

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
  writers       = { source = module.node.service_account_email }
  labels        = module.naming.labels
}

# The regional Prometheus' identity: compute.instances.list only, created when a monitoring
# range is given (the Prometheus instance itself is not part of this stack).
module "monitoring_discovery" {
  source = "../../modules/gcp-monitoring-discovery"
  count  = length(var.monitoring_cidrs) > 0 ? 1 : 0

  name    = module.naming.gcp_prefix
  project = var.gcp_project
}
