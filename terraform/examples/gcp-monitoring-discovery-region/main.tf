# The discovery identity of the Prometheus server monitoring asia-northeast1.

provider "google" {
  project = "my-icon-project"
  region  = "asia-northeast1"
}

module "discovery" {
  source = "../../modules/gcp-monitoring-discovery"

  name    = "icon-api-asia-northeast1"
  project = "my-icon-project"
}

output "service_account_email" {
  value = module.discovery.service_account_email
}
