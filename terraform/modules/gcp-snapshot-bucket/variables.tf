variable "project" {
  type        = string
  description = "GCP project ID."
}

variable "bucket" {
  type        = string
  description = "Bucket name, e.g. icon-api-snapshots-asia-northeast1 (one bucket per region)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$", var.bucket))
    error_message = "bucket must be 3-63 lowercase letters, digits, dots, underscores and hyphens."
  }
}

variable "location" {
  type        = string
  description = "Bucket location: the region of the nodes that use it."
}

variable "writers" {
  type        = map(string)
  description = "Service account e-mails allowed to write and delete snapshots (the source-of-truth node), keyed by a static label."
  default     = {}
}

variable "readers" {
  type        = map(string)
  description = "Service account e-mails allowed to read snapshots (the serving nodes), keyed by a static label."
  default     = {}
}

variable "kms_key_name" {
  type        = string
  description = "Cloud KMS key for customer-managed encryption; null keeps Google-managed encryption."
  default     = null
}

variable "noncurrent_days" {
  type        = number
  description = "Days a superseded or deleted object version is kept."
  default     = 7
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying the bucket while it still holds snapshots."
  default     = false
}

variable "labels" {
  type        = map(string)
  description = "Labels of the bucket."
  default     = {}
}
