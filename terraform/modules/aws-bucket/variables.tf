variable "bucket" {
  type        = string
  description = "The bucket (its id, e.g. aws_s3_bucket.this.id of the caller)."
}

variable "bucket_arn" {
  type        = string
  description = "ARN of the bucket."
}

variable "key_description" {
  type        = string
  description = "Description of the bucket's KMS key, e.g. \"Snapshots in <bucket>\"."
}

variable "noncurrent_days" {
  type        = number
  description = "Days a superseded or deleted object version is kept before it expires."

  validation {
    condition     = var.noncurrent_days >= 1
    error_message = "noncurrent_days must be at least 1."
  }
}

variable "expiry_rule_id" {
  type        = string
  description = "Id of the lifecycle rule that expires old versions."
  default     = "expire-superseded"
}

variable "expire_delete_markers" {
  type        = bool
  description = "Also remove delete markers once no version is left behind them."
  default     = true
}

variable "writer_role_arns" {
  type        = list(string)
  description = "IAM roles allowed to write and delete objects; when set, the bucket policy denies writes to every other principal. Empty: no such statement."
  default     = []
}

variable "deny_insecure_transport" {
  type        = bool
  description = "Refuse every request that does not use TLS (the bucket policy). Keep true on AWS; false only for a local AWS emulator that ignores policy conditions."
  default     = true
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
