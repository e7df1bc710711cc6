output "hostname" {
  description = "Public hostname of the fleet."
  value       = module.geo.hostname
}

output "load_balancer_id" {
  description = "ID of the Cloudflare load balancer."
  value       = module.geo.load_balancer_id
}

output "pool_ids" {
  description = "Map of region name to Cloudflare pool ID."
  value       = module.geo.pool_ids
}

output "steering_policy" {
  description = "Steering policy in effect (geo, dynamic_latency or off)."
  value       = module.geo.steering_policy
}
