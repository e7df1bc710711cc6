output "bucket" {
  description = "Name of the state bucket."
  value       = module.this.bucket
}

output "kms_key_arn" {
  description = "KMS key that encrypts the state objects."
  value       = module.this.kms_key_arn
}
