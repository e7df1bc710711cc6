# One Lisbon testnet node on GCP, configured by Ansible.

provider "google" {
  project = "my-icon-project"
  region  = "asia-northeast1"
}

module "node" {
  source = "../../modules/gcp-single-node"

  name               = "my-icon-node-asia-northeast1"
  service_account_id = "my-icon-node-an1"
  project            = "my-icon-project"
  zone               = "asia-northeast1-a"
  network            = "lisbon"
  node_image         = "iconloop/icon2-node:v1.4.4"
  machine_type       = "n2-standard-4"
  vpc_network        = "projects/my-icon-project/global/networks/default"
  subnetwork         = "projects/my-icon-project/regions/asia-northeast1/subnetworks/default"
  data_disk_size_gb  = 300
}

output "public_ip" {
  value = module.node.public_ip
}
