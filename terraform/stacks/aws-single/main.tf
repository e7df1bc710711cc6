# One node in one AWS region serving the hostname itself: TLS by certbot on the node, an
# Elastic IP and a Route 53 record. With sync enabled the node is also the region's
# source of truth and snapshots to the region's bucket.

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

locals {
  sync            = var.snapshot_bucket != ""
  snapshot_store  = local.sync ? "s3://${var.snapshot_bucket}/${var.network}" : ""
  route53_zone    = var.route53_zone != "" ? var.route53_zone : join(".", slice(split(".", var.domain), 1, length(split(".", var.domain))))
  route53_zone_id = var.route53_zone_id != null ? var.route53_zone_id : data.aws_route53_zone.this[0].zone_id
}

data "aws_ec2_instance_type" "this" {
  instance_type = var.instance_type
}

# The zone iconctl created and delegated for the region (route53_zone_id), or a public zone
# looked up by name: route53_zone, else the hostname's parent domain.
data "aws_route53_zone" "this" {
  count = var.route53_zone_id == null ? 1 : 0

  name         = local.route53_zone
  private_zone = false
}

module "network" {
  source = "../../modules/aws-network"

  name       = module.naming.prefix
  vpc_id     = var.vpc_id
  subnet_ids = var.subnet_ids
  zone_count = 1
  tags       = module.naming.tags
}

module "snapshots" {
  source = "../../modules/aws-snapshot-bucket"
  count  = local.sync ? 1 : 0

  bucket           = var.snapshot_bucket
  writer_role_arns = [module.node.role_arn]
  force_destroy    = !var.protect
  tags             = module.naming.tags
}

module "node" {
  source = "../../modules/aws-single-node"

  name                      = module.naming.prefix
  role                      = local.sync ? "source" : "node"
  network                   = var.network
  node_image                = var.node_image
  ami_id                    = var.image_id
  instance_type             = var.instance_type
  detailed_monitoring       = var.detailed_monitoring
  vpc_id                    = module.network.vpc_id
  subnet_id                 = module.network.public_subnet_ids[0]
  data_volume_size_gb       = coalesce(data.aws_ec2_instance_type.this.total_instance_storage, 0) >= var.data_volume_gib ? 0 : var.data_volume_gib
  rpc_port                  = var.rpc_port
  p2p_port                  = var.p2p_port
  agent_port                = var.agent_port
  snapshot_store            = local.snapshot_store
  snapshot_write_policy_arn = local.sync ? module.snapshots[0].write_policy_arn : null
  sync_interval_minutes     = var.sync_interval_minutes
  sync_keep                 = var.sync_keep
  tls_email                 = var.tls_email
  route53_zone_id           = local.route53_zone_id
  dns_names                 = [var.domain]
  ssh_cidrs                 = var.ssh_cidrs
  key_name                  = var.key_name
  monitoring_cidrs          = var.monitoring_cidrs
  health_checker_cidrs      = module.health_checkers.cidrs
  tags                      = module.naming.tags

  # Scraped by the region's monitoring host (admitted by group or tag, not by range).
  metrics_on_private_address = var.monitoring_host
}

# The regional Prometheus' identity: read-only EC2 discovery, created when a monitoring
# range is given (the Prometheus instance itself is not part of this stack).
module "monitoring_discovery" {
  source = "../../modules/aws-monitoring-discovery"
  count  = length(var.monitoring_cidrs) > 0 ? 1 : 0

  name   = module.naming.prefix
  region = var.region
  tags   = module.naming.tags
}
