output "instance_id" {
  description = "EC2 instance ID."
  value       = try(aws_instance.this.id, null)
}

output "public_ip" {
  description = "The node's Elastic IP."
  value       = try(aws_eip.this.public_ip, null)
}

output "private_ip" {
  description = "The node's private address."
  value       = try(aws_instance.this.private_ip, null)
}

output "role_arn" {
  description = "ARN of the node's IAM role (the snapshot bucket's writer when role is source)."
  value       = try(aws_iam_role.this.arn, null)
}

output "role_name" {
  description = "Name of the node's IAM role."
  value       = try(aws_iam_role.this.name, null)
}

output "security_group_id" {
  description = "The node's security group."
  value       = module.firewall.security_group_id
}

output "dns_names" {
  description = "Hostnames created for the node."
  value       = [for record in aws_route53_record.this : record.fqdn]
}
