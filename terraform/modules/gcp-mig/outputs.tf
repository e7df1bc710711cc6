output "instance_group" {
  description = "Instance group of the nodes (backend of the load balancer)."
  value       = try(google_compute_region_instance_group_manager.this.instance_group, null)
}

output "instance_group_manager" {
  description = "Name of the regional managed instance group (instances are listed through it)."
  value       = try(google_compute_region_instance_group_manager.this.name, null)
}

output "health_check_id" {
  description = "The /readyz health check, shared with the load balancer (autohealing uses its own /healthz check)."
  value       = try(google_compute_health_check.this.id, null)
}

output "service_account_email" {
  description = "The nodes' service account (read-only on the snapshot bucket)."
  value       = try(google_service_account.this.email, null)
}
