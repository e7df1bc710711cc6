# Rendered by `iconctl render` into global/state-backend/terraform.tfvars.json. This stack
# keeps its own state locally: it creates the bucket every other stack's state lives in.

variable "name" {
  type        = string
  description = "Deployment name (spec: name); tags the bucket."
}

variable "backend" {
  type        = string
  description = "s3 or gcs (spec: state.backend)."

  validation {
    condition     = contains(["s3", "gcs"], var.backend)
    error_message = "backend must be s3 or gcs (a local backend needs no bootstrap)."
  }
}

variable "bucket" {
  type        = string
  description = "Name of the state bucket (spec: state.bucket)."
}

variable "region" {
  type        = string
  description = "AWS region of an s3 bucket (spec: state.region); null for gcs."
  default     = null
}

variable "gcp_project" {
  type        = string
  description = "GCP project of a gcs bucket (spec: gcp.project); null for s3."
  default     = null
}

variable "location" {
  type        = string
  description = "Location of a gcs bucket."
  default     = "US"
}

variable "lock_table" {
  type        = bool
  description = "Also create a DynamoDB lock table (s3, for Terraform older than 1.10)."
  default     = false
}
