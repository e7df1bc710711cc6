# A new VPC network with one subnetwork in Tokyo.

provider "google" {
  project = "my-icon-project"
  region  = "asia-northeast1"
}

module "network" {
  source = "../../modules/gcp-network"

  name    = "icon-api-asia-northeast1"
  project = "my-icon-project"
  region  = "asia-northeast1"
}

output "subnetwork" {
  value = module.network.subnetwork
}
