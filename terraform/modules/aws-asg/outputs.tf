output "autoscaling_group_name" {
  description = "Name of the autoscaling group (instances are found by it or by the iconctl-name tag)."
  value       = try(aws_autoscaling_group.this.name, null)
}

output "launch_template_id" {
  description = "ID of the launch template."
  value       = try(aws_launch_template.this.id, null)
}

output "role_arn" {
  description = "IAM role of the nodes (read-only on the snapshot bucket)."
  value       = try(aws_iam_role.this.arn, null)
}

output "security_group_id" {
  description = "Security group of the nodes."
  value       = module.firewall.security_group_id
}
