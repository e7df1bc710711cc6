# The source-of-truth node of a GCP region.

provider "google" {
  project = "my-icon-project"
  region  = "asia-northeast1"
}

module "source" {
  source = "../../modules/gcp-source-node"

  name               = "icon-api-asia-northeast1-src"
  service_account_id = "icon-api-an1-src"
  project            = "my-icon-project"
  zone               = "asia-northeast1-a"
  network            = "mainnet"
  node_image         = "iconloop/icon2-node:v1.4.2"
  machine_type       = "n2-standard-8"
  vpc_network        = "projects/my-icon-project/global/networks/icon-api"
  subnetwork         = "projects/my-icon-project/regions/asia-northeast1/subnetworks/icon-api"
  local_ssd_count    = 8
  snapshot_store     = "gs://icon-api-snapshots-asia-northeast1/mainnet"
}

output "service_account_email" {
  value = module.source.service_account_email
}
