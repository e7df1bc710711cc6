variable "project" {
  type        = string
  description = "GCP project ID."
}

variable "bucket" {
  type        = string
  description = "Name of the state bucket, e.g. icon-api-tfstate."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$", var.bucket))
    error_message = "bucket must be 3-63 lowercase letters, digits, dots, underscores and hyphens."
  }
}

variable "location" {
  type        = string
  description = "Bucket location, e.g. US or asia-northeast1."
}

variable "kms_key_name" {
  type        = string
  description = "Cloud KMS key for customer-managed encryption; null keeps Google-managed encryption."
  default     = null
}

variable "noncurrent_versions" {
  type        = number
  description = "Old state versions kept per object."
  default     = 50
}

variable "labels" {
  type        = map(string)
  description = "Labels of the bucket."
  default     = {}
}
