# One AWS region of a fleet: serving nodes in an autoscaling group behind a TLS network load
# balancer, a source-of-truth node outside the group taking snapshots, and the region's
# snapshot bucket that every new node restores from.

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
  # Below the region prefix is the public hostname the global load balancer answers for.
  service_domain = trimprefix(var.domain, "${var.region}.")
  data_volume_gb = coalesce(data.aws_ec2_instance_type.this.total_instance_storage, 0) >= var.data_volume_gib ? 0 : var.data_volume_gib
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
  tags       = module.naming.tags
}

module "snapshots" {
  source = "../../modules/aws-snapshot-bucket"
  count  = local.sync ? 1 : 0

  bucket           = var.snapshot_bucket
  writer_role_arns = [module.source_node[0].role_arn]
  force_destroy    = !var.protect
  tags             = module.naming.tags
}

module "source_node" {
  source = "../../modules/aws-source-node"
  count  = local.sync ? 1 : 0

  name                      = "${module.naming.prefix}-source"
  network                   = var.network
  node_image                = var.node_image
  ami_id                    = var.image_id
  compose_env               = var.source_env
  instance_type             = var.instance_type
  detailed_monitoring       = var.detailed_monitoring
  vpc_id                    = module.network.vpc_id
  subnet_id                 = module.network.public_subnet_ids[0]
  data_volume_size_gb       = local.data_volume_gb
  rpc_port                  = var.rpc_port
  p2p_port                  = var.p2p_port
  agent_port                = var.agent_port
  snapshot_store            = local.snapshot_store
  snapshot_write_policy_arn = module.snapshots[0].write_policy_arn
  sync_interval_minutes     = var.sync_interval_minutes
  sync_keep                 = var.sync_keep
  ssh_cidrs                 = var.ssh_cidrs
  monitoring_cidrs          = var.monitoring_cidrs
  tags                      = module.naming.tags

  # Scraped by the region's monitoring host (admitted by group or tag, not by range).
  metrics_on_private_address = var.monitoring_host
}

module "lb" {
  source = "../../modules/aws-nlb"

  name                 = module.naming.lb_name
  target_group_prefix  = module.naming.target_group_prefix
  vpc_id               = module.network.vpc_id
  subnet_ids           = module.network.public_subnet_ids
  domain               = var.domain
  regional_hostname    = var.domain
  publish_domain       = false
  route53_zone_id      = local.route53_zone_id
  agent_port           = var.agent_port
  health_checker_cidrs = module.health_checkers.cidrs
  min_healthy_targets  = var.min_ready_nodes
  deletion_protection  = var.protect
  tags                 = module.naming.tags
}

module "nodes" {
  source = "../../modules/aws-asg"

  name                     = module.naming.prefix
  network                  = var.network
  node_image               = var.node_image
  ami_id                   = var.image_id
  compose_env              = var.node_env
  instance_type            = var.instance_type
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.public_subnet_ids
  min_size                 = var.min_size
  max_size                 = var.max_size
  target_group_arns        = module.lb.target_group_arns
  lb_security_group_id     = module.lb.security_group_id
  data_volume_size_gb      = local.data_volume_gb
  rpc_port                 = var.rpc_port
  p2p_port                 = var.p2p_port
  agent_port               = var.agent_port
  snapshot_store           = local.snapshot_store
  snapshot_read_policy_arn = local.sync ? module.snapshots[0].read_policy_arn : null
  ssh_cidrs                = var.ssh_cidrs
  monitoring_cidrs         = var.monitoring_cidrs
  boot_grace_seconds       = var.boot_grace_seconds
  tags                     = module.naming.tags

  # Behind the global load balancer, its monitor asks /region/readyz through the agent
  # listener: the agents count the healthy targets of the RPC target group.
  region_health                  = length(module.health_checkers.cidrs) > 0
  region_health_target_group_arn = module.lb.target_group_arns[0]
  min_ready_nodes                = var.min_ready_nodes

  # Scraped by the region's monitoring host (admitted by group or tag, not by range).
  metrics_on_private_address = var.monitoring_host
}

check "min_ready_nodes_fit" {
  assert {
    condition     = var.min_ready_nodes >= 1 && var.min_ready_nodes <= var.min_size
    error_message = "min_ready_nodes must be between 1 and min_size, or the region can never count as healthy."
  }
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
