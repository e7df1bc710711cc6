# Bootstrap of the GCS bucket holding every stack's Terraform state: versioned, uniform
# access, never public. The gcs backend locks natively with a lock object in the bucket.

resource "google_storage_bucket" "this" {
  #checkov:skip=CKV_GCP_62: access logs of the state bucket would need a second bucket; Cloud Audit Logs cover data access when enabled
  project                     = var.project
  name                        = var.bucket
  location                    = upper(var.location)
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = var.labels

  versioning {
    enabled = true
  }

  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [1]

    content {
      default_kms_key_name = var.kms_key_name
    }
  }

  lifecycle_rule {
    condition {
      num_newer_versions = var.noncurrent_versions
      with_state         = "ARCHIVED"
    }

    action {
      type = "Delete"
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}
