variable "name" {
  type        = string
  description = "Name prefix of the role and instance profile, e.g. icon-api-us-east-1."

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.name))
    error_message = "name must be 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "region" {
  type        = string
  description = "The AWS region whose instances the Prometheus server discovers; the permissions are limited to it."

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
