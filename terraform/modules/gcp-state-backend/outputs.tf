output "bucket" {
  description = "Name of the state bucket."
  value       = try(google_storage_bucket.this.name, var.bucket)
}
