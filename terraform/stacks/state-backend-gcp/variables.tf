# Rendered by `iconctl render` into global/state-backend/terraform.tfvars.json. This stack
# keeps its own state locally: it creates the bucket every other stack's state lives in.

variable "name" {
  type        = string
  description = "Deployment name (spec: name); labels the bucket."
}

variable "bucket" {
  type        = string
  description = "Name of the state bucket (spec: state.bucket)."
}

variable "gcp_project" {
  type        = string
  description = "GCP project of the bucket (spec: gcp.project)."
}

variable "location" {
  type        = string
  description = "Location of the bucket."
  default     = "US"
}
