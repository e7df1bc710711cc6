output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the bucket."
  value       = try(aws_kms_key.this.arn, null)
}

output "kms_key_id" {
  description = "ID of the KMS key encrypting the bucket."
  value       = try(aws_kms_key.this.key_id, null)
}
