output "instance_name" {
  description = "Name of the source node's instance."
  value       = module.this.instance_name
}

output "public_ip" {
  description = "Static external address of the source node."
  value       = module.this.public_ip
}

output "private_ip" {
  description = "Internal address of the source node."
  value       = module.this.private_ip
}

output "service_account_email" {
  description = "The source node's service account, the snapshot bucket's only writer."
  value       = module.this.service_account_email
}
