variable "name" {
  type        = string
  description = "Deployment name from the spec (lowercase letters, digits and hyphens)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.name))
    error_message = "name must be 2-40 characters: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "region" {
  type        = string
  description = "Cloud region the resources live in, e.g. us-east-1 or asia-northeast1; \"global\" for the global layer."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*[a-z0-9]$", var.region))
    error_message = "region must be lowercase letters, digits and hyphens, e.g. us-east-1, asia-northeast1 or global."
  }
}

variable "domain" {
  type        = string
  description = "Public hostname the endpoints serve, e.g. api.example.org."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase DNS name such as api.example.org."
  }
}

variable "snapshot_bucket" {
  type        = string
  description = "Snapshot bucket name for this region; empty when sync is disabled. Validated as a bucket name when set."
  default     = ""

  validation {
    condition     = var.snapshot_bucket == "" || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.snapshot_bucket))
    error_message = "snapshot_bucket must be empty or a bucket name of 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "tags" {
  type        = map(string)
  description = "Extra tags (AWS) or labels (GCP) added to every resource."
  default     = {}
}
