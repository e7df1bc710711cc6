# Bootstrap of the remote state bucket on GCP: GCS, versioned. One stack per cloud, so a
# GCP-only deployment needs no other cloud's provider.

module "this" {
  source = "../../modules/gcp-state-backend"

  project  = var.gcp_project
  bucket   = var.bucket
  location = var.location
  labels   = { "iconctl-deployment" = var.name, "managed-by" = "iconctl" }
}
