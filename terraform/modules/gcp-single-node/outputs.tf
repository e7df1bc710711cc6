output "instance_name" {
  description = "Name of the instance."
  value       = try(google_compute_instance.this.name, null)
}

output "public_ip" {
  description = "Static external address of the node."
  value       = try(google_compute_address.this.address, null)
}

output "private_ip" {
  description = "Internal address of the node."
  value       = try(google_compute_instance.this.network_interface[0].network_ip, null)
}

output "service_account_email" {
  description = "The node's service account (grant it bucket access)."
  value       = try(google_service_account.this.email, null)
}
