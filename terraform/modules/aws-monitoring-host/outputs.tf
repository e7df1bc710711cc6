output "instance_id" {
  description = "EC2 instance ID of the host (the Session Manager target)."
  value       = try(aws_instance.this.id, null)
}

output "private_ip" {
  description = "Private address of the host."
  value       = try(aws_instance.this.private_ip, null)
}

output "security_group_id" {
  description = "Security group of the host."
  value       = try(aws_security_group.this.id, null)
}

output "role_name" {
  description = "IAM role of the host (EC2 discovery and Session Manager)."
  value       = module.discovery.role_name
}

output "subnet_id" {
  description = "Subnet the host runs in."
  value       = try(aws_instance.this.subnet_id, null)
}
