output "service_account_email" {
  description = "Service account to run the region's Prometheus instance as."
  value       = try(google_service_account.this.email, null)
}

output "role_id" {
  description = "Id of the custom role holding compute.instances.list."
  value       = try(google_project_iam_custom_role.this.id, null)
}
