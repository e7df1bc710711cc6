output "ip_address" {
  description = "Public address of the load balancer (point the regional hostname here)."
  value       = try(google_compute_global_address.this.address, null)
}

output "certificate_id" {
  description = "ID of the Google-managed certificate."
  value       = try(google_compute_managed_ssl_certificate.this.id, null)
}

output "hostnames" {
  description = "Hostnames with Cloud DNS records pointing at the load balancer."
  value       = [for record in google_dns_record_set.this : trimsuffix(record.name, ".")]
}
