output "bucket" {
  description = "Name of the snapshot bucket."
  value       = try(aws_s3_bucket.this.bucket, var.bucket)
}

output "bucket_arn" {
  description = "ARN of the snapshot bucket."
  value       = try(aws_s3_bucket.this.arn, null)
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the snapshots."
  value       = module.bucket.kms_key_arn
}

output "read_policy_arn" {
  description = "IAM policy granting read access (every node)."
  value       = try(aws_iam_policy.read.arn, null)
}

output "write_policy_arn" {
  description = "IAM policy granting read-write access (the source-of-truth node only)."
  value       = try(aws_iam_policy.write.arn, null)
}
