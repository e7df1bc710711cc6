# The region's source-of-truth node on GCP: kept out of the load balancer (it pauses briefly
# for every checkpoint), snapshots its data to the region's bucket on a timer. Its service
# account is the only writer of that bucket.

module "this" {
  source = "../gcp-single-node"

  role                  = "source"
  public_rpc            = false
  name                  = var.name
  service_account_id    = var.service_account_id
  project               = var.project
  zone                  = var.zone
  network               = var.network
  node_image            = var.node_image
  machine_image         = var.machine_image
  image_mode            = var.machine_image == null ? "ansible" : "baked"
  compose_env           = var.compose_env
  machine_type          = var.machine_type
  vpc_network           = var.vpc_network
  subnetwork            = var.subnetwork
  boot_disk_size_gb     = var.boot_disk_size_gb
  local_ssd_count       = var.local_ssd_count
  data_disk_size_gb     = var.data_disk_size_gb
  rpc_port              = var.rpc_port
  p2p_port              = var.p2p_port
  agent_port            = var.agent_port
  ssh_cidrs             = var.ssh_cidrs
  monitoring_cidrs      = var.monitoring_cidrs
  snapshot_store        = var.snapshot_store
  sync_interval_minutes = var.sync_interval_minutes
  sync_keep             = var.sync_keep
  labels                = var.labels

  # Passed through to the node (see the variable).
  metrics_on_private_address = var.metrics_on_private_address
}
