# One snapshot bucket per region: never public, uniform access, versioned, superseded
# objects expire. Access is granted per bucket only: the source node's service account
# administers objects, the serving nodes' service account reads them, nothing else.

resource "google_storage_bucket" "this" {
  #checkov:skip=CKV_GCP_62: access logs of the snapshot bucket would go to a second bucket per region; Cloud Audit Logs cover data access when enabled project-wide
  project                     = var.project
  name                        = var.bucket
  location                    = upper(var.location)
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy
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
      days_since_noncurrent_time = var.noncurrent_days
      with_state                 = "ARCHIVED"
    }

    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 2
    }

    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }
}

resource "google_storage_bucket_iam_member" "writer" {
  for_each = var.writers

  bucket = google_storage_bucket.this.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${each.value}"
}

resource "google_storage_bucket_iam_member" "reader" {
  for_each = var.readers

  bucket = google_storage_bucket.this.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${each.value}"
}
