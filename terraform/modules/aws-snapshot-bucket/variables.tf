variable "bucket" {
  type        = string
  description = "Bucket name, e.g. icon-api-snapshots-us-east-1 (one bucket per region)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket))
    error_message = "bucket must be 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "writer_role_arns" {
  type        = list(string)
  description = "IAM roles allowed to write and delete snapshots (the source-of-truth node). Every other principal is denied writes by the bucket policy."
  default     = []
}

variable "noncurrent_days" {
  type        = number
  description = "Days a superseded or deleted object version is kept before it expires."
  default     = 7

  validation {
    condition     = var.noncurrent_days >= 1
    error_message = "noncurrent_days must be at least 1."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying the bucket while it still holds snapshots."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
