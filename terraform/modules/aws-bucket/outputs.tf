output "bucket" {
  description = "Name of the bucket."
  value       = var.bucket
}

output "bucket_id" {
  description = "ID of the bucket (its name, known once it exists)."
  value       = try(local.bucket_id, null)
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = try(local.bucket_arn, null)
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the bucket."
  value       = try(aws_kms_key.this.arn, null)
}

output "kms_key_id" {
  description = "ID of the KMS key encrypting the bucket."
  value       = try(aws_kms_key.this.key_id, null)
}
