# A regional managed instance group from a baked image, with its proxy load balancer.

provider "google" {
  project = "my-icon-project"
  region  = "asia-northeast1"
}

module "nodes" {
  source = "../../modules/gcp-mig"

  name               = "icon-api-asia-northeast1"
  service_account_id = "icon-api-an1-sa"
  project            = "my-icon-project"
  region             = "asia-northeast1"
  zones              = ["asia-northeast1-a", "asia-northeast1-b", "asia-northeast1-c"]
  network            = "mainnet"
  node_image         = "iconloop/icon2-node:v1.4.2"
  machine_image      = "projects/my-icon-project/global/images/icon-node-20261124"
  machine_type       = "n2-standard-8"
  vpc_network        = "projects/my-icon-project/global/networks/icon-api"
  subnetwork         = "projects/my-icon-project/regions/asia-northeast1/subnetworks/icon-api"
  min_size           = 2
  max_size           = 6
}

module "lb" {
  source = "../../modules/gcp-lb"

  name                 = "icon-api-asia-northeast1"
  project              = "my-icon-project"
  instance_group       = module.nodes.instance_group
  health_check_id      = module.nodes.health_check_id
  domain               = "asia-northeast1.api.example.org"
  regional_hostname    = "asia-northeast1.api.example.org"
  health_checker_cidrs = ["173.245.48.0/20", "103.21.244.0/22"]
}

output "lb_ip" {
  value = module.lb.ip_address
}
