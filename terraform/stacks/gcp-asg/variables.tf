# This stack's own variables; those every region stack takes are in region-variables.tf and asg-variables.tf
# (links to terraform/shared/). Rendered by `iconctl render` into terraform.tfvars.json (the
# contract test keeps the two in step).

variable "gcp_project" {
  type        = string
  description = "GCP project ID (spec: gcp.project)."
}

# Operator settings that are not part of the spec; the defaults are the secure choice.

variable "dns_managed_zone" {
  type        = string
  description = "Cloud DNS managed zone for this region's records; empty creates none (the global stack or the operator points the hostname)."
  default     = ""
}
