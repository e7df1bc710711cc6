# The GCS state bucket.

provider "google" {
  project = "my-icon-project"
  region  = "asia-northeast1"
}

module "state" {
  source = "../../modules/gcp-state-backend"

  project  = "my-icon-project"
  bucket   = "icon-api-tfstate"
  location = "US"
}

output "bucket" {
  value = module.state.bucket
}
