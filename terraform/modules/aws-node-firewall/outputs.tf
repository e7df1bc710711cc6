output "security_group_id" {
  description = "ID of the nodes' security group."
  value       = try(aws_security_group.this.id, null)
}
