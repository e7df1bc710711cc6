output "instance_id" {
  description = "EC2 instance ID of the source node."
  value       = module.this.instance_id
}

output "public_ip" {
  description = "Elastic IP of the source node."
  value       = module.this.public_ip
}

output "private_ip" {
  description = "Private address of the source node."
  value       = module.this.private_ip
}

output "role_arn" {
  description = "IAM role ARN of the source node, the snapshot bucket's only writer."
  value       = module.this.role_arn
}

output "security_group_id" {
  description = "Security group of the source node."
  value       = module.this.security_group_id
}
