# Bootstrap of the remote state bucket: S3 (versioned, KMS, lock files) or GCS.

module "s3" {
  source = "../../modules/aws-state-backend"
  count  = var.backend == "s3" ? 1 : 0

  bucket     = var.bucket
  lock_table = var.lock_table
  tags       = { "iconctl-deployment" = var.name, "managed-by" = "iconctl" }
}

module "gcs" {
  source = "../../modules/gcp-state-backend"
  count  = var.backend == "gcs" ? 1 : 0

  project  = var.gcp_project
  bucket   = var.bucket
  location = var.location
  labels   = { "iconctl-deployment" = var.name, "managed-by" = "iconctl" }
}

check "backend_settings" {
  assert {
    condition     = var.backend == "s3" ? var.region != null : var.gcp_project != null
    error_message = "an s3 backend needs region, a gcs backend needs gcp_project."
  }
}
