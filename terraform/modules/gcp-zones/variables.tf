variable "region" {
  type        = string
  description = "GCP region, e.g. asia-northeast1."

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a GCP region name such as us-east1, europe-west3 or asia-northeast1."
  }
}

variable "zone_count" {
  type        = number
  description = "How many zones to use (1-3)."
  default     = 3

  validation {
    condition     = var.zone_count >= 1 && var.zone_count <= 3
    error_message = "zone_count must be 1, 2 or 3."
  }
}
