output "zone_id" {
  description = "ID of the hosted zone (the region stack's route53_zone_id)."
  value       = aws_route53_zone.this.zone_id
}

output "name_servers" {
  description = "The zone's name servers, as delegated in Cloudflare."
  value       = module.delegation.name_servers
}

output "hostname" {
  description = "The delegated hostname."
  value       = module.delegation.hostname
}

output "record_ids" {
  description = "IDs of the NS records in the Cloudflare zone."
  value       = try(cloudflare_record.ns[*].id, [])
}
