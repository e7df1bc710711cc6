variable "name" {
  type        = string
  description = "Name of the region's deployment, e.g. icon-api-asia-northeast1; the account and role ids derive from it."

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,50}[a-z0-9])?$", var.name))
    error_message = "name must be at most 52 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "project" {
  type        = string
  description = "Project whose instances the Prometheus server lists (where the nodes run)."
}
