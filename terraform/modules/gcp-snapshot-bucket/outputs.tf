output "bucket" {
  description = "Name of the snapshot bucket."
  value       = try(google_storage_bucket.this.name, var.bucket)
}

output "url" {
  description = "gs:// URL of the bucket."
  value       = "gs://${try(google_storage_bucket.this.name, var.bucket)}"
}
