# The snapshot bucket of one GCP region: the source node writes, the serving nodes read.

provider "google" {
  project = "my-icon-project"
  region  = "asia-northeast1"
}

module "snapshots" {
  source = "../../modules/gcp-snapshot-bucket"

  project  = "my-icon-project"
  bucket   = "icon-api-snapshots-asia-northeast1"
  location = "asia-northeast1"
  writers  = { source = "icon-api-asia-northeast1-src@my-icon-project.iam.gserviceaccount.com" }
  readers  = { nodes = "icon-api-asia-northeast1-sa@my-icon-project.iam.gserviceaccount.com" }
}

output "url" {
  value = module.snapshots.url
}
