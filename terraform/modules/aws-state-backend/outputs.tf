output "bucket" {
  description = "Name of the state bucket."
  value       = try(aws_s3_bucket.this.bucket, var.bucket)
}

output "kms_key_arn" {
  description = "KMS key encrypting the state (backend setting kms_key_id)."
  value       = module.bucket.kms_key_arn
}

output "lock_table" {
  description = "DynamoDB lock table name, or null when S3 lock files are used."
  value       = try(aws_dynamodb_table.lock[0].name, null)
}
