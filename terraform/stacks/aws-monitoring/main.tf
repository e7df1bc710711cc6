# A region's private monitoring host (docs/monitoring.md): Prometheus for the region and, on
# the global region, the global Prometheus, Alertmanager and Grafana, all installed by the
# icon_monitoring role. It lives in the region stack's VPC, which iconctl passes in
# (region_network, from the region's recorded outputs), and adds rules to the nodes'
# security groups: destroy it before its region.

module "naming" {
  source = "../../modules/naming"

  name   = var.name
  region = var.region
  domain = var.domain
  tags   = var.tags
}

module "host" {
  source = "../../modules/aws-monitoring-host"

  name                    = module.naming.prefix
  region                  = var.region
  vpc_id                  = var.region_network.vpc_id
  vpc_cidr_block          = var.region_network.vpc_cidr_block
  public_subnet_id        = var.region_network.subnet_ids[0]
  node_security_group_ids = var.region_network.node_security_group_ids
  subnet_id               = var.subnet_id
  private_subnet_cidr     = var.private_subnet_cidr
  federation_cidrs        = var.federation_cidrs
  instance_type           = var.instance_type
  volume_gib              = var.volume_gib
  detailed_monitoring     = var.detailed_monitoring
  key_name                = var.key_name
  tags                    = module.naming.tags
}
