# The region's source-of-truth node: a citizen node kept out of the load balancer (it pauses
# briefly for every checkpoint) that snapshots its data to the region's bucket on a timer.
# The only principal with write access to that bucket.

module "this" {
  source = "../aws-single-node"

  name                      = var.name
  role                      = "source"
  public_rpc                = false
  network                   = var.network
  node_image                = var.node_image
  ami_id                    = var.ami_id
  image_mode                = var.ami_id == null ? "ansible" : "baked"
  compose_env               = var.compose_env
  instance_type             = var.instance_type
  detailed_monitoring       = var.detailed_monitoring
  vpc_id                    = var.vpc_id
  subnet_id                 = var.subnet_id
  data_volume_size_gb       = var.data_volume_size_gb
  rpc_port                  = var.rpc_port
  p2p_port                  = var.p2p_port
  agent_port                = var.agent_port
  snapshot_store            = var.snapshot_store
  snapshot_write_policy_arn = var.snapshot_write_policy_arn
  sync_interval_minutes     = var.sync_interval_minutes
  sync_keep                 = var.sync_keep
  ssh_cidrs                 = var.ssh_cidrs
  monitoring_cidrs          = var.monitoring_cidrs
  tags                      = var.tags

  # Passed through to the node (see the variable).
  metrics_on_private_address = var.metrics_on_private_address
}
