output "pools" {
  description = "Map of region name to its pool: name, description, continent, check_regions, minimum_origins, monitor (\"node\": each origin's /readyz; \"region\": the region aggregate /region/readyz) and origins ({name, address, host})."
  value       = local.pools
}

output "region_pools" {
  description = "Map of Cloudflare geographic region code to region names in the order to try (only with geo steering; empty otherwise)."
  value       = var.steering == "geo" ? local.region_pools : {}
}

output "default_pools" {
  description = "Region names in failover priority order (the order given)."
  value       = [for r in local.regions : r.name]
}

output "fallback_pool" {
  description = "Region used when every pool is unhealthy: the first one given."
  value       = local.regions[0].name
}

output "steering_policy" {
  description = "Cloudflare steering policy: geo, dynamic_latency or off."
  value       = local.steering_policy
}

output "monitors" {
  description = "The monitor kinds the pools use (\"node\", \"region\"), each once."
  value       = sort(distinct([for pool in values(local.pools) : pool.monitor]))
}
