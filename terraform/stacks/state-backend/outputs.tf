output "bucket" {
  description = "Name of the state bucket."
  value       = var.backend == "s3" ? module.s3[0].bucket : module.gcs[0].bucket
}

output "kms_key_arn" {
  description = "KMS key of an s3 state bucket, or null."
  value       = var.backend == "s3" ? module.s3[0].kms_key_arn : null
}
