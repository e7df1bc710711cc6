output "role_name" {
  description = "Name of the Prometheus discovery role."
  value       = try(aws_iam_role.this.name, null)
}

output "role_arn" {
  description = "ARN of the Prometheus discovery role."
  value       = try(aws_iam_role.this.arn, null)
}

output "instance_profile_name" {
  description = "Instance profile to attach to the region's Prometheus instance."
  value       = try(aws_iam_instance_profile.this.name, null)
}
