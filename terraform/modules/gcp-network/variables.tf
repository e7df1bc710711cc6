variable "name" {
  type        = string
  description = "Name prefix of the resources (GCP naming rules), e.g. icon-api-asia-northeast1."

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,50}[a-z0-9])?$", var.name))
    error_message = "name must be a GCP resource name of at most 52 characters: lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "project" {
  type        = string
  description = "GCP project ID."
}

variable "region" {
  type        = string
  description = "GCP region of the subnetwork."
}

variable "network" {
  type        = string
  description = "Reuse this existing VPC network (name or self link) instead of creating one; then subnetwork is required."
  default     = null
}

variable "subnetwork" {
  type        = string
  description = "Existing subnetwork (self link) to use with network."
  default     = null
}

variable "cidr_block" {
  type        = string
  description = "IPv4 range of a new subnetwork."
  default     = "10.43.0.0/20"
}
