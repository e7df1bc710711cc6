# User data for each kind of node: a baked autoscaled node, a self-installing source node,
# and a node that Ansible configures.

module "baked_asg_node" {
  source = "../../modules/user-data"

  image_mode           = "baked"
  network              = "mainnet"
  node_image           = "iconloop/icon2-node:v1.4.2"
  data_disks           = "/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*"
  drain_on_termination = "aws"
  compose_env = {
    COMPOSE_FILE       = "compose.yaml:compose.asg.yaml:compose.restore.yaml:compose.agent.yaml:compose.edge.yaml"
    ICON_RESTORE_STORE = "s3://icon-api-snapshots-us-east-1/mainnet"
  }
}

module "container_source_node" {
  source = "../../modules/user-data"

  role                 = "source"
  image_mode           = "container"
  network              = "lisbon"
  node_image           = "iconloop/icon2-node:v1.4.4"
  data_disks           = "/dev/disk/by-id/google-local-nvme-ssd-*"
  snapshot_store       = "gs://icon-api-snapshots-asia-northeast1/lisbon"
  drain_on_termination = "aws"
  tls_domain           = "node.example.org"
  tls_email            = "ops@example.org"
}

module "ansible_node" {
  source = "../../modules/user-data"

  image_mode = "ansible"
  network    = "berlin"
  node_image = "iconloop/icon2-node:v1.4.4"
  data_disks = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_*"
}

output "cloud_configs" {
  value = {
    baked_asg_node        = module.baked_asg_node.cloud_config
    container_source_node = module.container_source_node.cloud_config
    ansible_node          = module.ansible_node.cloud_config
  }
}
