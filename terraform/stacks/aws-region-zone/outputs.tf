# iconctl passes zone_id on to the region stack (route53_zone_id).

output "zone_id" {
  description = "ID of the region's hosted zone."
  value       = module.zone.zone_id
}

output "name_servers" {
  description = "The zone's Route 53 name servers, delegated in Cloudflare."
  value       = module.zone.name_servers
}

output "hostname" {
  description = "The delegated region hostname."
  value       = module.zone.hostname
}
