# The private monitoring host of asia-northeast1, reached through IAP.

provider "google" {
  project = "my-icon-project"
  region  = "asia-northeast1"
}

module "monitoring_host" {
  source = "../../modules/gcp-monitoring-host"

  name       = "icon-api-asia-northeast1"
  project    = "my-icon-project"
  region     = "asia-northeast1"
  zone       = "asia-northeast1-a"
  network    = "icon-api-asia-northeast1"
  subnetwork = "icon-api-asia-northeast1"
  node_tags  = ["icon-api-asia-northeast1"]
}

output "instance_name" {
  value = module.monitoring_host.instance_name
}
