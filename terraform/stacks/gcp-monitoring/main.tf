# A region's private monitoring host on GCP (docs/monitoring.md), in the region stack's
# network, which iconctl passes in (region_network, from the region's recorded outputs). It
# adds a rule admitting the host to the nodes' tags: destroy it before its region.

module "naming" {
  source = "../../modules/naming"

  name   = var.name
  region = var.region
  domain = var.domain
  tags   = var.tags
}

module "zones" {
  source = "../../modules/gcp-zones"

  region     = var.region
  zone_count = 1
}

module "host" {
  source = "../../modules/gcp-monitoring-host"

  name             = module.naming.gcp_prefix
  project          = var.gcp_project
  region           = var.region
  zone             = module.zones.zones[0]
  network          = var.region_network.network
  subnetwork       = var.region_network.subnetwork
  node_tags        = var.region_network.node_tags
  federation_cidrs = var.federation_cidrs
  machine_type     = var.instance_type
  volume_gib       = var.volume_gib
  create_nat       = var.create_nat
  labels           = module.naming.labels
}
