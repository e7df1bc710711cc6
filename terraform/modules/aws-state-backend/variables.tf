variable "bucket" {
  type        = string
  description = "Name of the state bucket, e.g. icon-api-tfstate."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket))
    error_message = "bucket must be 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "lock_table" {
  type        = bool
  description = "Also create a DynamoDB lock table (<bucket>-lock) for Terraform older than 1.10; newer Terraform locks with a lock file in the bucket (use_lockfile)."
  default     = false
}

variable "noncurrent_days" {
  type        = number
  description = "Days old state versions are kept."
  default     = 90
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}

variable "deny_insecure_transport" {
  type        = bool
  description = "Refuse every request to the state bucket that does not use TLS (bucket policy). Keep true on AWS; false only for a local AWS emulator that ignores policy conditions."
  default     = true
}
