output "hostname" {
  description = "Hostname the global load balancer answers for."
  value       = try(cloudflare_load_balancer.this.name, var.hostname)
}

output "load_balancer_id" {
  description = "ID of the Cloudflare load balancer."
  value       = try(cloudflare_load_balancer.this.id, null)
}

output "pool_ids" {
  description = "Map of region name to Cloudflare pool ID."
  value       = { for region, pool in cloudflare_load_balancer_pool.this : region => pool.id }
}

output "monitor_ids" {
  description = "Map of monitor kind (\"node\": /readyz, \"region\": /region/readyz) to its ID."
  value       = { for kind, monitor in cloudflare_load_balancer_monitor.this : kind => monitor.id }
}

output "steering_policy" {
  description = "Steering policy in effect."
  value       = module.map.steering_policy
}
